"""live sessions: a live workshop room is a record of its own on the participant row, not a quiz attempt

Revision ID: 0012_live_sessions
Revises: 0002_workshops

Before this revision, closing a live room turned each participant's answers into a submitted quiz
attempt: it used up one of the learner's attempts and could pass a module. The data step moves each
such attempt's score onto its participant row (asked, answered, correct, recorded_at), deletes the
attempt, and renumbers the learner's remaining attempts of that quiz 1..n (``attempts.start`` numbers
the next one from the count). Participants of closed live rooms who answered nothing get their
record too (0 answered). Live answers themselves are untouched, so workshop reports read as before.
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models.base

revision = "0012_live_sessions"
down_revision = "0002_workshops"
branch_labels = None
depends_on = None

UTC = quiz_server.models.base.UTCDateTime

workshops = sa.table(
    "workshops",
    sa.column("id", sa.Integer),
    sa.column("mode", sa.String),
    sa.column("status", sa.String),
    sa.column("questions", sa.JSON),
    sa.column("current_index", sa.Integer),
    sa.column("closed_at", UTC()),
)
participants = sa.table(
    "workshop_participants",
    sa.column("id", sa.Integer),
    sa.column("workshop_id", sa.Integer),
    sa.column("attempt_id", sa.String),
    sa.column("asked", sa.Integer),
    sa.column("answered", sa.Integer),
    sa.column("correct", sa.Integer),
    sa.column("recorded_at", UTC()),
)
attempts = sa.table(
    "attempts",
    sa.column("id", sa.String),
    sa.column("learner_id", sa.Integer),
    sa.column("quiz_id", sa.String),
    sa.column("number", sa.Integer),
    sa.column("workshop_id", sa.Integer),
    sa.column("draw", sa.JSON),
    sa.column("answers", sa.JSON),
    sa.column("feedback", sa.JSON),
    sa.column("submitted_at", UTC()),
)


def upgrade() -> None:
    with op.batch_alter_table("workshop_participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asked", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("answered", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("correct", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recorded_at", UTC(), nullable=True))
    _move_live_attempts(op.get_bind())


def _move_live_attempts(conn) -> None:
    live = {
        wid: (len((questions or [])[: current + 1]), closed_at)
        for wid, questions, current, closed_at in conn.execute(
            sa.select(workshops.c.id, workshops.c.questions, workshops.c.current_index, workshops.c.closed_at).where(
                workshops.c.mode == "live", workshops.c.status == "closed"
            )
        )
    }
    if not live:
        return
    rows = conn.execute(
        sa.select(participants.c.id, participants.c.workshop_id, participants.c.attempt_id).where(
            participants.c.workshop_id.in_(list(live))
        )
    ).all()
    touched: set[tuple[int, str]] = set()
    for pid, wid, attempt_id in rows:
        asked, closed_at = live[wid]
        answered = correct = 0
        recorded_at = closed_at
        if attempt_id:
            attempt = conn.execute(sa.select(attempts).where(attempts.c.id == attempt_id)).first()
            if attempt is not None:
                asked = len(attempt.draw or []) or asked
                answered = sum(1 for v in (attempt.answers or {}).values() if v)
                correct = sum(1 for f in (attempt.feedback or []) if f.get("correct"))
                recorded_at = attempt.submitted_at or closed_at
                conn.execute(sa.delete(attempts).where(attempts.c.id == attempt_id))
                touched.add((attempt.learner_id, attempt.quiz_id))
        conn.execute(
            sa.update(participants)
            .where(participants.c.id == pid)
            .values(attempt_id=None, asked=asked, answered=answered, correct=correct, recorded_at=recorded_at)
        )
    for learner_id, quiz_id in sorted(touched):
        _renumber(conn, learner_id, quiz_id)


def _renumber(conn, learner_id: int, quiz_id: str) -> None:
    """Close the gaps the deleted attempts left. Ascending order: each new number is at most the old
    one and every smaller number is already final, so the unique (learner, quiz, number) holds."""
    remaining = conn.execute(
        sa.select(attempts.c.id, attempts.c.number)
        .where(attempts.c.learner_id == learner_id, attempts.c.quiz_id == quiz_id)
        .order_by(attempts.c.number)
    ).all()
    for new, (aid, old) in enumerate(remaining, start=1):
        if new != old:
            conn.execute(sa.update(attempts).where(attempts.c.id == aid).values(number=new))


def downgrade() -> None:
    # The moved attempts are not recreated: their scores stay readable from the live answers. Plain
    # ALTER TABLE (SQLite 3.35+ and PostgreSQL): a batch copy of the table would drop the old one,
    # and with foreign keys on, that would cascade into live_answers.
    for name in ("recorded_at", "correct", "answered", "asked"):
        op.execute(f"ALTER TABLE workshop_participants DROP COLUMN {name}")
