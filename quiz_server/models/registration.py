"""Registrations waiting for their email code: no account exists until the code is confirmed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base, utcnow


class PendingRegistration(Base):
    """One registration request (services/registration.py). A refused request (NIP taken, not on
    the instansi's roster, name mismatch) is stored too, as a decoy without a usable code, so the
    answer and the work are the same whatever the outcome. Deleted on success; purged when expired."""

    __tablename__ = "pending_registrations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # opaque, random
    nip: Mapped[str] = mapped_column(String(18), index=True)
    nip_kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    instansi_id: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    code_hash: Mapped[str | None] = mapped_column(String(64))  # None: a decoy, no code ever matches
    tries: Mapped[int] = mapped_column(default=0)
    resends: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
