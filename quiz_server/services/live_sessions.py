"""Live sessions ("ikut lokakarya"): what a live workshop room leaves in a learner's record.

A live room is paced by its trainer over a handful of questions, so it is a record of its own, never
a quiz attempt: it uses up no self-paced attempt, passes no module, and counts towards no
certificate. The record is the participant row (``Participant.asked``/``answered``/``correct``,
written when the room closes); until then the same numbers are computed from the live answers.
The learner sees it in their history (``attempts.progress``), HR as a head count in the completion
summary (``reports.completion``: ``ikut_lokakarya``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from netralitas import scoring
from quiz_server.models import Learner, LiveAnswer, Participant, RosterEntry, Workshop
from quiz_server.models.base import utcnow
from quiz_server.services import catalog
from quiz_server.services.catalog import Snapshot
from quiz_server.uow import UnitOfWork

LABEL = "Ikut lokakarya"


def asked(ws: Workshop) -> list[str]:
    """Content ids of the questions put to the room so far, in the room's order."""
    return [e["q"] for e in ws.questions[: ws.current_index + 1]]


def tally(snap: Snapshot, questions: list[str], answers: dict[str, list[str]]) -> tuple[int, int]:
    """(answered, correct) of ``questions``, scored as any attempt is (``answers``: content choice ids)."""
    answered = correct = 0
    for qid in questions:
        chosen = answers.get(qid)
        if not chosen:
            continue
        answered += 1
        q = snap.questions.get(qid)
        correct += int(q is not None and scoring.score(q, chosen).correct)
    return answered, correct


def _answers(uow: UnitOfWork, workshop_id: int, participant_id: int | None = None) -> dict[int, dict[str, list[str]]]:
    """participant id -> {question id: content choice ids} of one room (or one participant of it)."""
    where = [LiveAnswer.workshop_id == workshop_id]
    if participant_id is not None:
        where.append(LiveAnswer.participant_id == participant_id)
    out: dict[int, dict[str, list[str]]] = defaultdict(dict)
    for pid, qid, choices in uow.session.execute(
        select(LiveAnswer.participant_id, LiveAnswer.question_id, LiveAnswer.choice_ids).where(*where)
    ):
        out[pid][qid] = list(choices)
    return out


def record(uow: UnitOfWork, ws: Workshop) -> int:
    """Write every participant's live-session record as the room closes; returns how many were written.

    Everyone who joined gets one, also with nothing answered: they attended. Part of the close's
    transaction, so a refused close records nothing.
    """
    s = uow.write()
    snap = catalog.snapshot(uow)
    questions = asked(ws)
    answers = _answers(uow, ws.id)
    now = utcnow()
    people = s.scalars(
        select(Participant.id).where(Participant.workshop_id == ws.id, Participant.recorded_at.is_(None))
    ).all()
    rows = []
    for pid in people:
        answered, correct = tally(snap, questions, answers.get(pid, {}))
        rows.append({"id": pid, "asked": len(questions), "answered": answered, "correct": correct, "recorded_at": now})
    if rows:
        s.execute(update(Participant), rows)
    return len(rows)


def summary(ws: Workshop, asked_n: int, answered: int, correct: int, *, running: bool) -> dict[str, Any]:
    """A live session as the learner sees it. ``right`` rather than "correct": learner-facing JSON never
    carries a key named like an answer key's (tests/server/test_access_matrix.py crawls for them)."""
    return {
        "kind": "ikut_lokakarya",
        "label": LABEL,
        "workshop_id": ws.id,
        "title": ws.title,
        "date": ws.date.isoformat(),
        "place": ws.place,
        "quiz_id": ws.quiz_id,
        "status": "berlangsung" if running else "selesai",
        "asked": asked_n,
        "answered": answered,
        "right": correct,
    }


def of_participant(uow: UnitOfWork, ws: Workshop, participant: Participant) -> dict[str, Any]:
    """One participant's record: as written at the close, or as it stands while the room runs."""
    if participant.recorded_at is not None:
        return summary(ws, participant.asked or 0, participant.answered or 0, participant.correct or 0, running=False)
    questions = asked(ws)
    answered, correct = tally(catalog.snapshot(uow), questions, _answers(uow, ws.id, participant.id)[participant.id])
    return summary(ws, len(questions), answered, correct, running=_is_open(ws))


def _is_open(ws: Workshop) -> bool:
    # workshops.is_open, which this module cannot import (workshops imports it for the close).
    return ws.status == "open" and utcnow() < ws.closes_at


def history(uow: UnitOfWork, learner_id: int) -> list[dict[str, Any]]:
    """The learner's live sessions, newest first, each with the quiz's title."""
    rows = uow.session.execute(
        select(Workshop, Participant)
        .join(Participant, Participant.workshop_id == Workshop.id)
        .where(Participant.learner_id == learner_id, Workshop.mode == "live")
        .order_by(Workshop.date.desc(), Workshop.id.desc())
    ).all()
    quizzes = catalog.snapshot(uow).quizzes
    out = []
    for ws, participant in rows:
        item = of_participant(uow, ws, participant)
        quiz = quizzes.get(ws.quiz_id)
        out.append(item | {"quiz_title": quiz.title if quiz else ws.quiz_id})
    return out


def attended(
    uow: UnitOfWork,
    instansi_id: str,
    unit: str | None,
    start: dt.date | None,
    end: dt.date | None,
    zone: ZoneInfo,
) -> int:
    """How many people on the instansi's roster (and registered under it) took part in a live room
    that closed in the period (calendar days in ``zone``, as the completion report's)."""
    where = [
        RosterEntry.instansi_id == instansi_id,
        Learner.instansi_id == RosterEntry.instansi_id,
        Workshop.mode == "live",
        Participant.recorded_at.is_not(None),
    ]
    if unit:
        where.append(RosterEntry.unit == unit)
    if start:
        where.append(Participant.recorded_at >= dt.datetime.combine(start, dt.time(), zone))
    if end:
        where.append(Participant.recorded_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone))
    query = (
        select(func.count(func.distinct(Learner.id)))
        .select_from(RosterEntry)
        .join(Learner, Learner.nip == RosterEntry.nip)
        .join(Participant, Participant.learner_id == Learner.id)
        .join(Workshop, Workshop.id == Participant.workshop_id)
        .where(*where)
    )
    return uow.session.scalar(query) or 0
