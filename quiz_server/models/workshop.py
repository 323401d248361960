"""Workshops a trainer runs with a join code, their participants, and answers given live in the room.

Every piece of live state (phase, current question, answers) is a row here, never
process memory, so any gunicorn worker or app server answers the same.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base, utcnow

MODES = ("live", "self_paced")
# waiting: nobody has seen a question yet; question: answers accepted; revealed: answers closed and the
# distribution shown; explained: the key, explanation and rules shown; closed: over, live sessions recorded.
PHASES = ("waiting", "question", "revealed", "explained", "closed")


class Workshop(Base):
    __tablename__ = "workshops"
    # A code only has to be unique while people can still use it; closed rooms free theirs.
    __table_args__ = (
        Index(
            "uq_workshops_open_join_code",
            "join_code",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    date: Mapped[dt.date]
    place: Mapped[str] = mapped_column(String(200))
    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id"))
    mode: Mapped[str] = mapped_column(String(16))  # live | self_paced
    join_code: Mapped[str] = mapped_column(String(6), index=True)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | closed
    opens_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime]
    leaderboard: Mapped[bool] = mapped_column(default=False)
    # The room's draw, in the shape of Attempt.draw: [{"q": question_id, "choices": [[shown_id, choice_id]]}].
    # Everyone sees the same choice order, so the trainer can say "jawaban B" to the whole room.
    questions: Mapped[list]
    current_index: Mapped[int] = mapped_column(default=-1)
    phase: Mapped[str] = mapped_column(String(16), default="waiting")
    # Bumped by every trainer action; pages and streams compare it to know when to refresh.
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]


class Participant(Base):
    """One learner in one workshop. In a live room this row is also the learner's live-session record
    ("ikut lokakarya"): when the room closes, ``asked``/``answered``/``correct`` keep the score of the
    questions put to the room. A live session is never a quiz attempt: it uses up no attempt and
    passes no module (docs/workshops.md)."""

    __tablename__ = "workshop_participants"
    __table_args__ = (UniqueConstraint("workshop_id", "learner_id", name="uq_workshop_participants_learner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Before migration 0012 a closed live room turned each participant's answers into a quiz attempt
    # and kept its id here; 0012 moved those scores onto this row and removed the attempts. Always
    # NULL for rooms closed since.
    attempt_id: Mapped[str | None] = mapped_column(String(32))
    # The live-session record, set when the trainer closes a live room (NULL while it runs):
    asked: Mapped[int | None]  # questions put to the room
    answered: Mapped[int | None]  # of those, how many this participant answered
    correct: Mapped[int | None]  # of those, how many correctly
    recorded_at: Mapped[dt.datetime | None]


class LiveAnswer(Base):
    __tablename__ = "live_answers"
    __table_args__ = (
        UniqueConstraint("participant_id", "question_index", name="uq_live_answers_participant_question"),
        Index("ix_live_answers_workshop_question", "workshop_id", "question_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("workshop_participants.id", ondelete="CASCADE"))
    question_index: Mapped[int]
    question_id: Mapped[str] = mapped_column(String(64))
    choice_ids: Mapped[list]  # content choice ids, sorted; shown ids are mapped back on arrival
    answered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
