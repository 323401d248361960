"""Per-person, per-quiz completion state, kept as attempts are started and submitted (issue #19).

The reports read ``completion_summary`` (one row per learner and quiz) instead of every attempt ever
made. The attempt hot path (issue #18) pays one upsert keyed by (learner_id, quiz_id) per start and
per submit, through a Core connection, in the transaction that stores the attempt: no read, no ORM
object, and no shared counter row that concurrent submits would queue on. Everything that depends
on more than one person (per-instansi and national figures) is rolled up by a job
(``services/national.py``): services whose changes move those figures (roster uploads, certificates,
registration, erasure) leave a mark here, an insert-only row, for that job.

``rebuild`` recomputes the table from the attempts (the migration's backfill, and
``netralitas report rebuild-summary``); ``from_attempts`` is that recomputation as a query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection, Insert, Select, bindparam, case, delete, func, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite

from quiz_server.fastsql import Prepared
from quiz_server.models import Attempt, CompletionSummary, Learner, RosterEntry, SummaryMark
from quiz_server.models.base import utcnow
from quiz_server.uow import UnitOfWork

S = CompletionSummary.__table__


def _later(new, old):
    return case((old.is_(None) | (new > old), new), else_=old)


def _earlier(new, old):
    return case((old.is_(None) | (new < old), new), else_=old)


def _upserts(dialect: str) -> tuple[Insert, Insert]:
    """The start and submit statements for one dialect, built once: SQLAlchemy then reuses their
    compiled form (its statement cache) for every call."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    start = insert(S).values(
        learner_id=bindparam("learner_id"), quiz_id=bindparam("quiz_id"), started=1, submitted=0, passed=0
    )
    start = start.on_conflict_do_update(index_elements=[S.c.learner_id, S.c.quiz_id], set_={"started": S.c.started + 1})
    # A submit without a summary row (an attempt started before the row existed) implies its start.
    submit = insert(S).values(
        learner_id=bindparam("learner_id"),
        quiz_id=bindparam("quiz_id"),
        started=1,
        submitted=1,
        passed=bindparam("passed"),
        best_percent=bindparam("percent"),
        first_submitted_at=bindparam("at"),
        last_submitted_at=bindparam("at"),
        first_passed_at=bindparam("passed_at"),
        last_passed_at=bindparam("passed_at"),
        changed_at=bindparam("at"),
    )
    new = submit.excluded
    passed_later = case(
        (new.last_passed_at.is_(None), S.c.last_passed_at), else_=_later(new.last_passed_at, S.c.last_passed_at)
    )
    passed_earlier = case(
        (new.first_passed_at.is_(None), S.c.first_passed_at), else_=_earlier(new.first_passed_at, S.c.first_passed_at)
    )
    submit = submit.on_conflict_do_update(
        index_elements=[S.c.learner_id, S.c.quiz_id],
        set_={
            "submitted": S.c.submitted + 1,
            "passed": S.c.passed + new.passed,
            "best_percent": _later(new.best_percent, S.c.best_percent),
            "first_submitted_at": _earlier(new.first_submitted_at, S.c.first_submitted_at),
            "last_submitted_at": _later(new.last_submitted_at, S.c.last_submitted_at),
            "first_passed_at": passed_earlier,
            "last_passed_at": passed_later,
            "changed_at": new.changed_at,
        },
    )
    return start, submit


_STATEMENTS = {name: tuple(Prepared(u) for u in _upserts(name)) for name in ("sqlite", "postgresql")}


def on_start(conn: Connection, *, learner_id: int, quiz_id: str, started_at: dt.datetime) -> None:
    """An attempt of ``quiz_id`` was started (call in the transaction that stores it).

    ``started_at`` is not stored today (a start moves no report figure); it is part of the call so
    that a figure that needs it later does not change every caller."""
    _STATEMENTS[conn.dialect.name][0].send(conn, {"learner_id": learner_id, "quiz_id": quiz_id})


def on_submit(
    conn: Connection, *, learner_id: int, quiz_id: str, percent: float, passed: bool, submitted_at: dt.datetime
) -> None:
    """An attempt was submitted and scored (call in the transaction that stores the score)."""
    _STATEMENTS[conn.dialect.name][1].send(
        conn,
        {
            "learner_id": learner_id,
            "quiz_id": quiz_id,
            "passed": 1 if passed else 0,
            "percent": percent,
            "at": submitted_at,
            "passed_at": submitted_at if passed else None,
        },
    )


# -- marks for the rollup job -----------------------------------------------------------------------


def mark_instansi(conn: Connection, instansi_ids: Iterable[str]) -> None:
    """Ask the rollup job to recount these instansi."""
    rows = [{"instansi_id": i, "marked_at": utcnow()} for i in sorted(set(instansi_ids)) if i]
    if rows:
        conn.execute(SummaryMark.__table__.insert(), rows)


def mark_learner(conn: Connection, learner_id: int) -> None:
    """Recount the instansi a learner is registered under (e.g. after a certificate changed)."""
    _mark_from(conn, select(Learner.instansi_id).where(Learner.id == learner_id))


def mark_nip(conn: Connection, nip: str) -> None:
    """Recount every instansi whose roster lists ``nip`` (its match or conflict changed)."""
    _mark_from(conn, select(RosterEntry.instansi_id).where(RosterEntry.nip == nip))


def _mark_from(conn: Connection, instansi_ids: Select) -> None:
    ids = instansi_ids.subquery()
    query = select(ids.c.instansi_id, literal(utcnow(), SummaryMark.__table__.c.marked_at.type))
    conn.execute(SummaryMark.__table__.insert().from_select(["instansi_id", "marked_at"], query))


# -- recomputation from the attempts ----------------------------------------------------------------

COLUMNS = (
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
)


def from_attempts() -> Select:
    """``completion_summary`` as the attempts say it should be, one row per (learner, quiz)."""
    done = Attempt.submitted_at.is_not(None)
    won = done & (Attempt.passed == true())
    return select(
        Attempt.learner_id,
        Attempt.quiz_id,
        func.count(),
        func.coalesce(func.sum(case((done, 1), else_=0)), 0),
        func.coalesce(func.sum(case((won, 1), else_=0)), 0),
        func.max(case((done, Attempt.percent))),
        func.min(Attempt.submitted_at),
        func.max(Attempt.submitted_at),
        func.min(case((won, Attempt.submitted_at))),
        func.max(case((won, Attempt.submitted_at))),
        func.max(Attempt.submitted_at),
    ).group_by(Attempt.learner_id, Attempt.quiz_id)


def rebuild(uow: UnitOfWork) -> int:
    """Refill ``completion_summary`` from the attempts, inside the database; the owner commits."""
    conn = uow.write().connection()
    conn.execute(delete(S))
    conn.execute(S.insert().from_select(list(COLUMNS), from_attempts()))
    return conn.execute(select(func.count()).select_from(S)).scalar_one()
