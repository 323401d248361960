"""Exercise scores that the grading side (nbgrader) pushes in, and the course a grader account grades.

The certification rule (``certification.track: quizzes_and_exercises`` in course.yaml) reads these
rows; the quiz server never grades notebooks itself.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base, utcnow


class ExerciseScore(Base):
    """The latest score of one learner on one exercise assignment (``m01-latihan``): a push replaces it."""

    __tablename__ = "exercise_scores"
    # Also the index of "this learner's scores" (the certification rule reads them per learner).
    __table_args__ = (UniqueConstraint("learner_id", "assignment", name="uq_exercise_scores_learner_assignment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    assignment: Mapped[str] = mapped_column(String(64))
    score: Mapped[float]
    max_score: Mapped[float]
    graded_by: Mapped[str] = mapped_column(String(64))  # the grader principal, "staff:<id>"
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GraderCourse(Base):
    """The one course (``id`` of course.yaml) a staff account of role ``grader`` may push scores for."""

    __tablename__ = "grader_courses"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
