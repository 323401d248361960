"""completion summary: per-(learner, quiz) state and per-instansi rollups for the reports (issue #19)

Revision ID: 0014_completion_summary
Revises: 0012_live_sessions, 0003_roster

After 0012 (which moves live-room attempts out of ``attempts``) so the backfill counts only real
attempts, and after 0003 (whose index on attempts makes the backfill an index scan). The backfill
fills ``completion_summary`` from every attempt in one INSERT ... SELECT inside the database; the
rollups of the national view are built by their job on first use (or by
``netralitas report rebuild-summary``), since they follow the loaded quizzes and the report rules.
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models.base

revision = "0014_completion_summary"
down_revision = ("0012_live_sessions", "0003_roster")
branch_labels = None
depends_on = None

UTC = quiz_server.models.base.UTCDateTime


def upgrade() -> None:
    summary = op.create_table(
        "completion_summary",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.String(length=64), nullable=False),
        sa.Column("started", sa.Integer(), nullable=False),
        sa.Column("submitted", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("best_percent", sa.Double(), nullable=True),
        sa.Column("first_submitted_at", UTC(), nullable=True),
        sa.Column("last_submitted_at", UTC(), nullable=True),
        sa.Column("first_passed_at", UTC(), nullable=True),
        sa.Column("last_passed_at", UTC(), nullable=True),
        sa.Column("changed_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_completion_summary_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", "quiz_id", name=op.f("pk_completion_summary")),
        sqlite_with_rowid=False,  # SQLite: one learner's rows are one short range read
    )
    op.create_index(op.f("ix_completion_summary_changed_at"), "completion_summary", ["changed_at"], unique=False)
    op.create_table(
        "summary_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instansi_id", sa.String(length=64), nullable=False),
        sa.Column("marked_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_marks")),
    )
    op.create_table(
        "report_rollups",
        sa.Column("instansi_id", sa.String(length=64), nullable=False),
        sa.Column("roster", sa.Integer(), nullable=False),
        sa.Column("belum_mulai", sa.Integer(), nullable=False),
        sa.Column("sedang_berjalan", sa.Integer(), nullable=False),
        sa.Column("semua_modul_lulus", sa.Integer(), nullable=False),
        sa.Column("tersertifikasi", sa.Integer(), nullable=False),
        sa.Column("terdaftar_di_instansi_lain", sa.Integer(), nullable=False),
        sa.Column("terdaftar", sa.Integer(), nullable=False),
        sa.Column("modules", sa.JSON(), nullable=False),
        sa.Column("cert_expires_next", sa.Date(), nullable=True),
        sa.Column("as_of", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("instansi_id", name=op.f("pk_report_rollups")),
    )
    op.create_table(
        "report_rollup_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_ids", sa.Text(), nullable=False),
        sa.Column("as_of", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_rollup_state")),
    )
    _backfill(summary)


def _backfill(summary: sa.Table) -> None:
    """The same aggregate as services/summary.py ``from_attempts`` (kept here as it was at this
    revision: a migration must not change when the service does)."""
    a = sa.table(
        "attempts",
        sa.column("learner_id", sa.Integer),
        sa.column("quiz_id", sa.String),
        sa.column("submitted_at", UTC()),
        sa.column("percent", sa.Double),
        sa.column("passed", sa.Boolean),
    )
    done = a.c.submitted_at.is_not(None)
    won = done & (a.c.passed == sa.true())
    query = sa.select(
        a.c.learner_id,
        a.c.quiz_id,
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((done, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((won, 1), else_=0)), 0),
        sa.func.max(sa.case((done, a.c.percent))),
        sa.func.min(a.c.submitted_at),
        sa.func.max(a.c.submitted_at),
        sa.func.min(sa.case((won, a.c.submitted_at))),
        sa.func.max(sa.case((won, a.c.submitted_at))),
        sa.func.max(a.c.submitted_at),
    ).group_by(a.c.learner_id, a.c.quiz_id)
    columns = [
        "learner_id",
        "quiz_id",
        "started",
        "submitted",
        "passed",
        "best_percent",
        "first_submitted_at",
        "last_submitted_at",
        "first_passed_at",
        "last_passed_at",
        "changed_at",
    ]
    op.execute(summary.insert().from_select(columns, query))


def downgrade() -> None:
    op.drop_table("report_rollup_state")
    op.drop_table("report_rollups")
    op.drop_table("summary_marks")
    op.drop_index(op.f("ix_completion_summary_changed_at"), table_name="completion_summary")
    op.drop_table("completion_summary")
