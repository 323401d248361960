"""Certificates: what was certified, for whom, on which content version, and whether it still holds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base, utcnow


class Certificate(Base):
    """One issued certificate. ``payload`` is the exact canonical JSON that ``signature`` covers;
    the other columns repeat its fields for queries and pages (see netralitas/certificates.py)."""

    __tablename__ = "certificates"
    __table_args__ = (Index("ix_certificates_learner_version", "learner_id", "content_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # Erasing a learner erases their certificates too: they carry name and (masked) NIP.
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    nip_masked: Mapped[str] = mapped_column(String(32))
    instansi: Mapped[str] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(300))
    jp_credit: Mapped[int]
    content_version: Mapped[str] = mapped_column(String(32))
    legal_state_date: Mapped[str] = mapped_column(String(10))
    issued_on: Mapped[dt.date]
    valid_until: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(8), default="valid")  # valid | revoked
    revoked_at: Mapped[dt.datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    signature: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
