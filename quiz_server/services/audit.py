"""Append-only audit log of logins, attempt starts and submits, and every personal-data export."""

from __future__ import annotations

from quiz_server.models import AuditEvent
from quiz_server.uow import UnitOfWork


def record(uow: UnitOfWork, actor: str, action: str, target: str | None = None, **detail: object) -> None:
    """Add an event to the unit of work's write transaction; the caller's address comes with the unit."""
    uow.write().connection().execute(  # Core: no ORM object for an append-only row (issue #18)
        _INSERT, {"actor": actor, "action": action, "target": target, "ip": uow.origin_ip, "detail": detail or None}
    )


_INSERT = AuditEvent.__table__.insert()
