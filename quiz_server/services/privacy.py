"""Personal data (UU PDP No. 27/2022): export one learner, erase one learner, purge expired data.

Tables are found by their columns rather than listed by hand, so a new aggregate with a
``learner_id`` column is covered by export and erasure without touching this module. See
docs/privacy.md for every field, why it is held and for how long.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Table, delete, func, or_, select, update
from sqlalchemy.orm import Session

from quiz_server.config import Settings
from quiz_server.models import Attempt, AuditEvent, IdempotencyRecord, Learner, RateBucket, Token
from quiz_server.models.base import Base, utcnow
from quiz_server.services import audit, ratelimit
from quiz_server.services.errors import LearnerNotFound
from quiz_server.uow import UnitOfWork

ERASED_NAME = "(dihapus)"
# Rows whose content is the learner's own free text or credentials: deleted on erasure.
DELETE_ON_ERASE = {"tokens", "exercise_submissions", "certificates"}


def _find(s: Session, nip: str) -> Learner:
    learner = s.scalar(select(Learner).where(Learner.nip == "".join(str(nip).split())))
    if learner is None:
        raise LearnerNotFound("Peserta dengan NIP itu tidak ditemukan.")
    return learner


def _learner_tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if "learner_id" in t.c and t.name != "learners"]


def _nip_tables() -> list[Table]:
    """Tables that name a person by NIP without a learner account link (e.g. an HR roster)."""
    return [t for t in Base.metadata.sorted_tables if "nip" in t.c and t.name != "learners"]


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
    """Everything held on one learner, as plain JSON-ready data (password hash excluded)."""
    s = uow.session
    learner = _find(s, nip)
    record: dict[str, Any] = {
        "learner": {c.name: _plain(getattr(learner, c.key)) for c in Learner.__table__.c if c.name != "password_hash"},
        "exported_at": utcnow().isoformat(),
    }
    for table in _learner_tables():
        cols = [c for c in table.c if c.name not in {"token_hash"}]
        rows = s.execute(select(*cols).where(table.c.learner_id == learner.id)).mappings()
        record[table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    for table in _nip_tables():
        rows = s.execute(select(table).where(table.c.nip == learner.nip)).mappings()
        record[f"{table.name} (by NIP)"] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    me = f"learner:{learner.id}"
    events = s.execute(
        select(AuditEvent).where(or_(AuditEvent.actor == me, AuditEvent.target == me)).order_by(AuditEvent.id)
    ).scalars()
    record["audit_log"] = [
        {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "target": e.target, "ip": e.ip} for e in events
    ]
    audit.record(uow, actor, "personal_data_export", me, tables=sorted(k for k in record if k != "exported_at"))
    return record


def erase(uow: UnitOfWork, nip: str, actor: str) -> dict[str, int]:
    """Remove credentials and free text, anonymise the learner row, keep scores for aggregate counts."""
    s = uow.write()
    learner = _find(s, nip)
    counts: dict[str, int] = {}
    for table in _learner_tables():
        if table.name in DELETE_ON_ERASE:
            counts[table.name] = s.execute(delete(table).where(table.c.learner_id == learner.id)).rowcount
        elif _has_personal_columns(table):
            counts[table.name] = _anonymise_rows(s, table, learner.id)
        # Other rows (attempts, workshop participation) hold no identifiers once the learner row
        # is anonymised; they stay so that aggregate counts remain right.
    s.execute(
        update(Learner)
        .where(Learner.id == learner.id)
        .values(nip=f"X{learner.id:017d}", name=ERASED_NAME, email="", password_hash="")
    )
    s.execute(update(AuditEvent).where(AuditEvent.actor == f"learner:{learner.id}").values(ip=None))
    audit.record(uow, actor, "personal_data_erase", f"learner:{learner.id}", **counts)
    return counts


_PERSONAL = {"name", "email", "nip", "masked_nip", "payload", "signature", "notebook"}


def _has_personal_columns(table: Table) -> bool:
    return bool(_PERSONAL & set(table.c.keys()))


def _anonymise_rows(s: Session, table: Table, learner_id: int) -> int:
    values: dict[str, Any] = {}
    for name in _PERSONAL & set(table.c.keys()):
        col = table.c[name]
        values[name] = None if col.nullable else (ERASED_NAME if name == "name" else "")
    return s.execute(update(table).where(table.c.learner_id == learner_id).values(**values)).rowcount


def purge(uow: UnitOfWork, settings: Settings, now: dt.datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete what has outlived its retention period (``settings.retention_*``, see docs/privacy.md).

    Everything happens in ``uow``: the owner's one commit erases every stale learner and purges the
    old rows together, or nothing at all.
    """
    now = now or utcnow()
    learner_cutoff = now - dt.timedelta(days=settings.retention_learner_days)
    audit_cutoff = now - dt.timedelta(days=settings.retention_audit_days)
    idem_cutoff = now - dt.timedelta(days=settings.retention_idempotency_days)
    s = uow.session
    last_seen = _last_activity(s)
    stale = [nip for nip, seen in last_seen if seen is not None and seen < learner_cutoff and not nip.startswith("X")]
    counts = {
        "learners_erased": len(stale),
        "audit_events": s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.at < audit_cutoff)) or 0,
        "idempotency_records": s.scalar(
            select(func.count()).select_from(IdempotencyRecord).where(IdempotencyRecord.created_at < idem_cutoff)
        )
        or 0,
        "expired_tokens": s.scalar(select(func.count()).select_from(Token).where(Token.expires_at < now)) or 0,
        "rate_buckets": s.scalar(select(func.count()).select_from(RateBucket).where(RateBucket.tat < now.timestamp()))
        or 0,
    }
    if dry_run:
        return counts
    for nip in stale:
        erase(uow, nip, "purge")
    w = uow.write()
    w.execute(delete(AuditEvent).where(AuditEvent.at < audit_cutoff))
    w.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < idem_cutoff))
    w.execute(delete(Token).where(Token.expires_at < now))
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
