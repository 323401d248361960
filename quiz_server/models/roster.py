"""The staff list (roster) an HR account uploads for its instansi; completion is measured against it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.attempt import Attempt
from quiz_server.models.base import Base, utcnow


class RosterEntry(Base):
    """One person on an instansi's staff list. The same NIP may sit on two rosters (a transfer in
    progress); within one instansi it is unique. People are matched to learners by NIP alone."""

    __tablename__ = "roster"
    __table_args__ = (
        UniqueConstraint("instansi_id", "nip", name="uq_roster_instansi_nip"),
        # Unit filter and the per-unit breakdown of one instansi.
        Index("ix_roster_instansi_unit", "instansi_id", "unit"),
        # National figures and "is this learner on any roster": roster -> learners by NIP.
        Index("ix_roster_nip", "nip"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instansi_id: Mapped[str] = mapped_column(ForeignKey("instansi.id"))
    nip: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(64))


# Completion reports read attempts per learner: (quiz, passed, when). With all four columns in one
# index, the per-learner aggregate is an index-only range scan, and the national one a single ordered
# pass over the index, never the wide attempts rows (draw, answers, feedback). Declared here, next to
# the reports that need it, so the attempts module stays the quiz server's own.
Index("ix_attempts_learner_report", Attempt.learner_id, Attempt.quiz_id, Attempt.passed, Attempt.submitted_at)
