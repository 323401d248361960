"""Exercise notebooks handed in by learners: every version kept, the newest is current."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base, utcnow


class ExerciseSubmission(Base):
    __tablename__ = "exercise_submissions"
    __table_args__ = (UniqueConstraint("learner_id", "assignment", "version", name="uq_exercise_submissions_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    assignment: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    notebook: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
