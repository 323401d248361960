"""Exercise notebooks handed in by learners: every version kept, the newest is current."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base, utcnow


def new_public_id() -> str:
    return secrets.token_urlsafe(16)


class ExerciseSubmission(Base):
    __tablename__ = "exercise_submissions"
    __table_args__ = (UniqueConstraint("learner_id", "assignment", "version", name="uq_exercise_submissions_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)  # internal only: never in a URL or JSON
    # What the API names a hand-in by: random, so nobody walks the hand-ins by counting.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    assignment: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    notebook: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
