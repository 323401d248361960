"""Append-only audit log of logins, attempt starts and submits, and every personal-data export."""

from __future__ import annotations

from quiz_server.fastsql import Prepared
from quiz_server.models import AuditEvent
from quiz_server.models.base import utcnow
from quiz_server.uow import UnitOfWork


def record(uow: UnitOfWork, actor: str, action: str, target: str | None = None, **detail: object) -> None:
    """Add an event to the unit of work's write transaction; the caller's address comes with the unit.

    The row carries the time it was recorded (``at``), not the time the transaction opened."""
    row = {
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "target": target,
        "ip": uow.origin_ip,
        "detail": detail or None,
    }
    # Core, staged: written when the unit's write transaction opens (issue #18), with what it records.
    uow.stage(lambda conn: _INSERT.send(conn, row))


_INSERT = Prepared(AuditEvent.__table__.insert(), keys=("at", "actor", "action", "target", "ip", "detail"))
