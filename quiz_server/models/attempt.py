"""Attempts and the idempotency records that make retries safe."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base, utcnow


class Attempt(Base):
    __tablename__ = "attempts"
    # (learner, quiz, number) is unique: two racing starts cannot both take the last attempt.
    __table_args__ = (
        UniqueConstraint("learner_id", "quiz_id", "number", name="uq_attempts_learner_quiz_number"),
        Index("ix_attempts_quiz_learner", "quiz_id", "learner_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id"))
    number: Mapped[int]
    workshop_id: Mapped[int | None] = mapped_column(index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    draw: Mapped[list]  # [{"q": question_id, "choices": [[shown_id, choice_id], ...]}]
    submitted_at: Mapped[dt.datetime | None]
    answers: Mapped[dict | None]
    score: Mapped[float | None]
    max_score: Mapped[float | None]
    percent: Mapped[float | None]
    passed: Mapped[bool | None]
    feedback: Mapped[list | None]


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    principal: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
