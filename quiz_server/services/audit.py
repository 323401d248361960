"""Append-only audit log of logins, attempt starts and submits, and every personal-data export."""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy.orm import Session

from quiz_server.models import AuditEvent


def record(s: Session, actor: str, action: str, target: str | None = None, **detail: object) -> None:
    ip = request.remote_addr if has_request_context() else None
    s.add(AuditEvent(actor=actor, action=action, target=target, ip=ip, detail=detail or None))
