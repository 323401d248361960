"""Learners who sign in through their agency's OpenID provider (services/oidc.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base, utcnow


class OidcLink(Base):
    """One provider account (``issuer`` + ``subject``, the ID token's ``iss`` and ``sub``) bound to one
    learner. A later login finds the learner by this pair, so a changed claim (a corrected NIP, a new
    email) never moves the account. One link per learner and provider."""

    __tablename__ = "oidc_links"
    __table_args__ = (UniqueConstraint("issuer", "subject"), UniqueConstraint("learner_id", "issuer"))

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
