"""Summary tables for the completion reports (issue #19): state kept up to date, never history.

``completion_summary`` holds one row per (learner, quiz), changed by exactly one upsert in the
attempt start and submit transactions (``services/summary.py``). ``report_rollups`` holds one row
per instansi for the national view, refreshed by a job from ``completion_summary`` and the roster
(``services/national.py``); ``summary_marks`` are the instansi other services ask that job to
refresh (roster uploads, certificates, registrations, erasures), ``report_rollup_state`` what the
rollups were last refreshed against.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quiz_server.models.base import Base


class CompletionSummary(Base):
    """A learner's standing on one quiz: counts and the first/last submit and pass times.

    First and last times let a period filter decide most rows without reading attempts: only a
    pair with submits both before and after the period needs its attempts (services/reports.py).
    """

    __tablename__ = "completion_summary"
    # SQLite: rows stored in primary-key order, so one learner's rows are one short range read.
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started: Mapped[int]  # attempts started
    submitted: Mapped[int]  # attempts submitted
    passed: Mapped[int]  # submitted attempts that passed
    best_percent: Mapped[float | None]
    first_submitted_at: Mapped[dt.datetime | None]
    last_submitted_at: Mapped[dt.datetime | None]
    first_passed_at: Mapped[dt.datetime | None]
    last_passed_at: Mapped[dt.datetime | None]
    # The last submit that changed the row (a start changes no figure): what the rollup job looks for.
    changed_at: Mapped[dt.datetime | None] = mapped_column(index=True)


class SummaryMark(Base):
    """Marks "refresh this instansi's rollup": insert-only rows (no shared counter to contend on),
    deleted by the job once it has refreshed them."""

    __tablename__ = "summary_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    instansi_id: Mapped[str] = mapped_column(String(64))
    marked_at: Mapped[dt.datetime]


class ReportRollup(Base):
    """One instansi's figures for the national view, as of ``as_of`` (when their read began)."""

    __tablename__ = "report_rollups"

    instansi_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    roster: Mapped[int]
    belum_mulai: Mapped[int]
    sedang_berjalan: Mapped[int]
    semua_modul_lulus: Mapped[int]
    tersertifikasi: Mapped[int]
    terdaftar_di_instansi_lain: Mapped[int]
    terdaftar: Mapped[int]  # learners registered under the instansi
    modules: Mapped[dict]  # {quiz_id: [tried, passed]}
    # The earliest valid_until among the certificates counted: the day after it, the figures change.
    cert_expires_next: Mapped[dt.date | None]
    as_of: Mapped[dt.datetime]


class ReportRollupState(Base):
    """One row (id 1): the quizzes the rollups were counted against, and the time up to which every
    change is in them."""

    __tablename__ = "report_rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_ids: Mapped[str] = mapped_column(Text)
    as_of: Mapped[dt.datetime]
