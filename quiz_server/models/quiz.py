"""Content as the server holds it: versions, rules, quizzes, questions with their keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base, utcnow


class ContentVersion(Base):
    __tablename__ = "content_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    checksum: Mapped[str] = mapped_column(String(64), unique=True)
    legal_state_date: Mapped[str] = mapped_column(String(10))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Rule(Base):
    __tablename__ = "rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    citation: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(300))
    confidence: Mapped[str] = mapped_column(String(16))


class Quiz(Base):
    __tablename__ = "quizzes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    module_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    pass_percent: Mapped[int]
    attempts_allowed: Mapped[int]
    questions_per_attempt: Mapped[int]
    time_limit_minutes: Mapped[int]


class Question(Base):
    """A bank question. ``choices`` holds the answer key; it never leaves the server before submit."""

    __tablename__ = "questions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    scenario: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list]  # [{"id", "text", "correct"}]
    explanation: Mapped[str] = mapped_column(Text)
    rules: Mapped[list]
    topics: Mapped[list]
    difficulty: Mapped[str] = mapped_column(String(8))
    graded: Mapped[bool]
    active: Mapped[bool] = mapped_column(default=True)
