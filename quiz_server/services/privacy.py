"""Personal data (UU PDP No. 27/2022): export one learner, erase one learner, purge expired data.

Every table that holds data about one learner has one line in ``HOLDINGS``: how its rows name the
learner and whether erasure deletes them or keeps them (anonymous once the learner row is). Every
column of ``learners`` is listed in ``ANONYMISED`` or ``KEPT_ON_LEARNER``. What ``netralitas purge``
deletes by age is one line each in ``EXPIRING``. tests/server/test_erasure.py fails when a table
that names a learner (a ``learner_id``, ``nip`` or ``participant_id`` column, or a foreign key to
``learners``), or a column of ``learners``, is in none of these lists, so a new table cannot be
forgotten. docs/privacy.md lists every field, why it is held and for how long.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, or_, select, update
from sqlalchemy.orm import Session

from quiz_server.config import Settings
from quiz_server.models import Attempt, AuditEvent, Learner, Participant, RateBucket
from quiz_server.models.base import Base, utcnow
from quiz_server.services import audit, ratelimit, summary
from quiz_server.services.credentials import forget_principals
from quiz_server.services.errors import LearnerNotFound
from quiz_server.uow import UnitOfWork

ERASED_NAME = "(dihapus)"

Link = Callable[[Table, Learner], ColumnElement[bool]]


def by_learner_id(table: Table, learner: Learner) -> ColumnElement[bool]:
    return table.c.learner_id == learner.id


def by_nip(table: Table, learner: Learner) -> ColumnElement[bool]:
    return table.c.nip == learner.nip


def by_participant(table: Table, learner: Learner) -> ColumnElement[bool]:
    """Rows of a workshop participation (``participant_id``), such as live answers."""
    return table.c.participant_id.in_(select(Participant.id).where(Participant.learner_id == learner.id))


def by_principal(table: Table, learner: Learner) -> ColumnElement[bool]:
    return table.c.principal == f"learner:{learner.id}"


DELETE = "delete"
KEEP = "keep"


@dataclass(frozen=True)
class Holding:
    """One table's rows about a learner: found with ``link``; on erasure deleted, or kept (they hold
    no identifier once the learner row is anonymised); ``hidden`` columns never leave in an export."""

    table: str
    on_erase: str
    link: Link = by_learner_id
    hidden: tuple[str, ...] = ()


# A new table that names a learner: add one line here (and a row in docs/privacy.md).
HOLDINGS: tuple[Holding, ...] = (
    # Credentials: worthless to the person, dangerous to keep.
    Holding("tokens", DELETE, hidden=("token_hash",)),
    Holding("password_resets", DELETE, hidden=("token_hash",)),
    Holding("oidc_links", DELETE),  # their account at the agency's OpenID provider (services/oidc.py)
    # Their own work, documents naming them, and free text about them.
    Holding("exercise_submissions", DELETE),
    Holding("certificates", DELETE),
    Holding("attempt_grants", DELETE),  # the reason HR or an admin wrote about the person
    # When they answered each live question: behaviour, not a result; the room's counts are only shown live.
    Holding("live_answers", DELETE, link=by_participant),
    # Stored replies to their retried requests (encrypted; they may repeat their name and NIP).
    Holding("idempotency_records", DELETE, link=by_principal, hidden=("request_hash", "body")),
    # A registration under their NIP still waiting for its code.
    Holding("pending_registrations", DELETE, link=by_nip, hidden=("password_hash", "code_hash")),
    # Scores and attendance: anonymous once the learner row is, kept so aggregate counts stay right.
    Holding("attempts", KEEP),
    Holding("exercise_scores", KEEP),
    Holding("workshop_participants", KEEP),
    # Per-quiz counts and first/last submit times, the reports' summary of the attempts above.
    Holding("completion_summary", KEEP),
    # The agency's own staff list: exported, but HR's record, changed only by HR's next upload.
    Holding("roster", KEEP, link=by_nip),
)

# The learner row stays (scores and attendance point at it) with these columns replaced...
ANONYMISED: dict[str, Callable[[Learner], Any]] = {
    "nip": lambda learner: f"X{learner.id:017d}",  # never a valid NIP; frees the real one to register again
    "name": lambda _: ERASED_NAME,
    "email": lambda _: "",
    "unit": lambda _: "",  # with instansi and a small unit, the unit alone can point at one person
    "password_hash": lambda _: "",
}
# ...and these kept: they identify nobody and keep counts by instansi and by kind right.
KEPT_ON_LEARNER = frozenset({"id", "nip_kind", "instansi_id", "created_at"})
# Tables that hold nothing about one learner, or are handled on their own below (audit_log, rate_buckets).
NOT_ABOUT_A_LEARNER = frozenset(
    {
        "instansi",
        "staff",
        "quizzes",
        "questions",
        "rules",
        "content_versions",
        "workshops",
        "grader_courses",
        "audit_log",
        "rate_buckets",
        "summary_marks",  # instansi ids for the report rollup job
        "report_rollups",  # per-instansi counts
        "report_rollup_state",
    }
)


@dataclass(frozen=True)
class Expiry:
    """Rows ``netralitas purge`` deletes: older than ``retention`` days (a ``Settings`` field) by
    ``column``, or, without ``retention``, once ``column`` (the row's own expiry) has passed."""

    table: str
    column: str
    retention: str | None = None


# A new table with rows that go stale: add one line here (and its retention to docs/privacy.md).
EXPIRING: tuple[Expiry, ...] = (
    Expiry("audit_log", "at", "retention_audit_days"),
    Expiry("idempotency_records", "created_at", "retention_idempotency_days"),
    Expiry("tokens", "expires_at"),
    Expiry("password_resets", "expires_at"),  # used or not: worthless
    Expiry("pending_registrations", "expires_at"),
)


def _tables(names: list[str]) -> list[tuple[str, Table]]:
    """The named tables this installation's models define (a line may name a table not yet built)."""
    return [(n, Base.metadata.tables[n]) for n in names if n in Base.metadata.tables]


def _holdings() -> list[tuple[Holding, Table]]:
    known = {h.table: h for h in HOLDINGS}
    return [(known[name], table) for name, table in _tables(list(known))]


def _find(s: Session, nip: str) -> Learner:
    learner = s.scalar(select(Learner).where(Learner.nip == "".join(str(nip).split())))
    if learner is None:
        raise LearnerNotFound("Peserta dengan NIP itu tidak ditemukan.")
    return learner


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value.hex()
    return value


def export(uow: UnitOfWork, nip: str, actor: str) -> dict[str, Any]:
    """Everything held on one learner, as plain JSON-ready data (password and token hashes excluded)."""
    s = uow.session
    learner = _find(s, nip)
    record: dict[str, Any] = {
        "learner": {c.name: _plain(getattr(learner, c.key)) for c in Learner.__table__.c if c.name != "password_hash"},
        "exported_at": utcnow().isoformat(),
    }
    for holding, table in _holdings():
        cols = [c for c in table.c if c.name not in holding.hidden]
        rows = s.execute(select(*cols).where(holding.link(table, learner))).mappings()
        record[table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    me = f"learner:{learner.id}"
    events = s.execute(
        select(AuditEvent).where(or_(AuditEvent.actor == me, AuditEvent.target == me)).order_by(AuditEvent.id)
    ).scalars()
    record["audit_log"] = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "ip": e.ip,
            "detail": e.detail,
        }
        for e in events
    ]
    audit.record(uow, actor, "personal_data_export", me, tables=sorted(k for k in record if k != "exported_at"))
    return record


def erase(uow: UnitOfWork, nip: str, actor: str) -> dict[str, int]:
    """Delete credentials, documents and free text; anonymise the learner row; keep scores for counts."""
    s = uow.write()
    learner = _find(s, nip)
    counts: dict[str, int] = {}
    for holding, table in _holdings():
        if holding.on_erase == DELETE:
            counts[table.name] = s.execute(delete(table).where(holding.link(table, learner))).rowcount or 0
    me = f"learner:{learner.id}"
    # Rate-limit keys that hold the NIP (login, password reset) or the account (join misses).
    counts["rate_buckets"] = (
        s.execute(
            delete(RateBucket).where(or_(RateBucket.key.contains(learner.nip), RateBucket.key.endswith(f":{me}")))
        ).rowcount
        or 0
    )
    s.execute(update(AuditEvent).where(AuditEvent.actor == me).values(ip=None))
    # The rosters that list the NIP lose their match (or conflict): the national rollup recounts them.
    summary.mark_learner(s.connection(), learner.id)
    summary.mark_nip(s.connection(), learner.nip)
    s.execute(update(Learner).where(Learner.id == learner.id).values({k: f(learner) for k, f in ANONYMISED.items()}))
    forget_principals()  # no cached token lookup of this process still names them (services/credentials.py)
    audit.record(uow, actor, "personal_data_erase", me, **counts)
    return counts


def purge(uow: UnitOfWork, settings: Settings, now: dt.datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete what has outlived its retention period (``settings.retention_*``, see docs/privacy.md).

    Everything happens in ``uow``: the owner's one commit erases every stale learner and purges the
    old rows together, or nothing at all.
    """
    now = now or utcnow()
    learner_cutoff = now - dt.timedelta(days=settings.retention_learner_days)
    s = uow.session
    stale = [
        nip for nip, seen in _last_activity(s) if seen is not None and seen < learner_cutoff and not nip.startswith("X")
    ]
    conditions = {}
    for expiry in EXPIRING:
        if expiry.table in Base.metadata.tables:
            column = Base.metadata.tables[expiry.table].c[expiry.column]
            cutoff = now - dt.timedelta(days=getattr(settings, expiry.retention)) if expiry.retention else now
            conditions[expiry.table] = column < cutoff
    counts = {"learners_erased": len(stale)}
    for name, cond in conditions.items():
        counts[name] = s.scalar(select(func.count()).select_from(Base.metadata.tables[name]).where(cond)) or 0
    counts["rate_buckets"] = (
        s.scalar(select(func.count()).select_from(RateBucket).where(RateBucket.tat < now.timestamp())) or 0
    )
    if dry_run:
        return counts
    for nip in stale:
        erase(uow, nip, "purge")
    w = uow.write()
    for name, cond in conditions.items():
        w.execute(delete(Base.metadata.tables[name]).where(cond))
    ratelimit.purge_expired(uow, now.timestamp())
    audit.record(uow, "purge", "retention_purge", None, **counts)
    return counts


def _last_activity(s: Session) -> list[tuple[str, dt.datetime | None]]:
    last_attempt = (
        select(Attempt.learner_id, func.max(Attempt.started_at).label("at")).group_by(Attempt.learner_id).subquery()
    )
    rows = s.execute(
        select(Learner.nip, Learner.created_at, last_attempt.c.at).outerjoin(
            last_attempt, last_attempt.c.learner_id == Learner.id
        )
    ).all()
    return [(nip, max(d for d in (created, attempted) if d is not None)) for nip, created, attempted in rows]
