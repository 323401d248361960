"""Credential lifecycle: password-reset links, and extra quiz attempts granted by HR or an admin."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base, utcnow


class PasswordReset(Base):
    """One emailed reset link: 256 random bits of which only the SHA-256 is stored; single use."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class AttemptGrant(Base):
    """``extra`` more attempts at one quiz for one learner ("kesempatan tambahan"), with the reason
    shown to the learner. ``quiz_id`` is the content id, like ``attempts.quiz_id``."""

    __tablename__ = "attempt_grants"
    __table_args__ = (Index("ix_attempt_grants_learner_quiz", "learner_id", "quiz_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id"))
    extra: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500))
    granted_by: Mapped[str] = mapped_column(String(64))  # principal key, e.g. "staff:3", or "cli"
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
