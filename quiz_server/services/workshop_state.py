"""What each audience sees of a workshop: the participant's phone, the trainer's screens, the projector.

The answer key, explanation and rules appear only once the trainer has moved the room
to the ``explained`` phase; the choice distribution only after ``revealed``.
"""

from __future__ import annotations

import string
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from netralitas.scoring import question_type
from quiz_server.models import Learner, LiveAnswer, Participant, Workshop
from quiz_server.services import catalog, live_sessions, workshops
from quiz_server.services.catalog import Snapshot
from quiz_server.uow import UnitOfWork

REVEALED = ("revealed", "explained")
LEADERBOARD_SIZE = 5


@dataclass(frozen=True)
class Links:
    """A workshop's addresses for people outside the server; the web layer builds them from
    ``web.public_base()`` (NETRALITAS_PUBLIC_URL), never from the request's own host: a board opened
    on the server at 127.0.0.1 must still show the room an address their phones can reach."""

    join_address: str  # the join page, as the room is told to open it
    join_url: str  # the join page with the code filled in (also what the QR code carries)
    qr_url: str  # the QR code picture for the projector


def public_workshop(uow: UnitOfWork, ws: Workshop) -> dict[str, Any]:
    quiz = catalog.snapshot(uow).quizzes.get(ws.quiz_id)
    return {
        "id": ws.id,
        "title": ws.title,
        "date": ws.date.isoformat(),
        "place": ws.place,
        "quiz_id": ws.quiz_id,
        "quiz_title": quiz.title if quiz else ws.quiz_id,
        "mode": ws.mode,
        "status": "open" if workshops.is_open(ws) else "closed",
        "join_code": ws.join_code,
        "opens_at": ws.opens_at.isoformat(),
        "closes_at": ws.closes_at.isoformat(),
        "phase": ws.phase,
        "question_index": ws.current_index,
        "question_count": len(ws.questions) if ws.mode == "live" else (quiz.questions_per_attempt if quiz else 0),
        "version": ws.version,
    }


def trainer_workshop(uow: UnitOfWork, ws: Workshop, links: Links) -> dict[str, Any]:
    participants = uow.session.scalar(
        select(func.count()).select_from(Participant).where(Participant.workshop_id == ws.id)
    )
    return public_workshop(uow, ws) | {
        "leaderboard": ws.leaderboard,
        "participants": participants,
        "join_address": links.join_address,
        "join_url": links.join_url,
        "qr_url": links.qr_url,
    }


def _question(snap: Snapshot, ws: Workshop, index: int) -> dict[str, Any]:
    entry = ws.questions[index]
    q = snap.questions[entry["q"]]
    text = {c["id"]: c["text"] for c in q.choices}
    return {
        "index": index,
        "number": index + 1,
        "id": q.id,
        "type": q.type,
        "multi": question_type(q.type).max_selected != 1,
        "scenario": q.scenario,
        "text": q.text,
        "choices": [
            {"id": shown, "label": string.ascii_uppercase[i], "text": text[cid]}
            for i, (shown, cid) in enumerate(entry["choices"])
        ],
    }


def _distribution(s: Session, ws: Workshop, index: int) -> tuple[int, list[dict[str, Any]]]:
    entry = ws.questions[index]
    counts: Counter[str] = Counter()
    answered = 0
    rows = s.scalars(
        select(LiveAnswer.choice_ids).where(LiveAnswer.workshop_id == ws.id, LiveAnswer.question_index == index)
    )
    for choices in rows:
        answered += 1
        counts.update(choices)
    out = []
    for i, (shown, cid) in enumerate(entry["choices"]):
        n = counts[cid]
        out.append(
            {
                "choice_id": shown,
                "label": string.ascii_uppercase[i],
                "count": n,
                "percent": round(100 * n / answered) if answered else 0,
            }
        )
    return answered, out


def _key_and_reasons(snap: Snapshot, ws: Workshop, index: int) -> dict[str, Any]:
    entry = ws.questions[index]
    q = snap.questions[entry["q"]]
    right = {c["id"] for c in q.choices if c["correct"]}
    return {
        "correct_choices": [shown for shown, cid in entry["choices"] if cid in right],
        "explanation": q.explanation,
        "rules": [
            {
                "id": r,
                "citation": snap.rules[r].citation if r in snap.rules else r,
                "title": snap.rules[r].title if r in snap.rules else "",
            }
            for r in q.rules
        ],
    }


def participant_view(uow: UnitOfWork, learner_id: int, workshop_id: int) -> dict[str, Any]:
    """The participant's phone: the current question, their own answer, and what the trainer has revealed."""
    ws, participant = workshops.membership(uow, learner_id, workshop_id)
    snap = catalog.snapshot(uow)
    out: dict[str, Any] = {"workshop": public_workshop(uow, ws), "question": None}
    if ws.status == "closed" or not workshops.is_open(ws):
        if ws.mode == "live":
            out["live_session"] = live_sessions.of_participant(uow, ws, participant)
        return out
    if ws.mode != "live" or ws.current_index < 0:
        return out
    index = ws.current_index
    out["question"] = _question(snap, ws, index)
    mine = uow.session.scalar(
        select(LiveAnswer.choice_ids).where(
            LiveAnswer.participant_id == participant.id, LiveAnswer.question_index == index
        )
    )
    to_shown = {cid: shown for shown, cid in ws.questions[index]["choices"]}
    out["my_choices"] = sorted(to_shown[c] for c in mine) if mine else []
    if ws.phase in REVEALED:
        out["answered"], out["distribution"] = _distribution(uow.session, ws, index)
    if ws.phase == "explained":
        out |= _key_and_reasons(snap, ws, index)
        out["you_were_right"] = bool(mine) and set(out["my_choices"]) == set(out["correct_choices"])
    return out


def board(uow: UnitOfWork, ws: Workshop) -> dict[str, Any]:
    """The projector and the trainer's control screen: one JSON the page can render from scratch."""
    s = uow.session
    snap = catalog.snapshot(uow)
    participants = s.scalar(select(func.count()).select_from(Participant).where(Participant.workshop_id == ws.id))
    out: dict[str, Any] = {
        "workshop": public_workshop(uow, ws),
        "version": ws.version,
        "phase": ws.phase if workshops.is_open(ws) or ws.phase == "closed" else "closed",
        "participants": participants,
        "answered": 0,
        "question": None,
    }
    if ws.mode == "live" and ws.current_index >= 0 and out["phase"] != "closed":
        index = ws.current_index
        out["question"] = _question(snap, ws, index)
        answered, dist = _distribution(s, ws, index)
        out["answered"] = answered
        if ws.phase in REVEALED:
            out["distribution"] = dist
        if ws.phase == "explained":
            out |= _key_and_reasons(snap, ws, index)
            if ws.leaderboard:
                out["leaderboard"] = _leaderboard(s, snap, ws)
    return out


def tick(s: Session, workshop_id: int) -> tuple | None:
    """What decides whether a board needs redrawing: (version, answered now, participants, closes_at).

    One query, on any session: the board's event stream calls it with short sessions of its own.
    """
    answered = (
        select(func.count())
        .select_from(LiveAnswer)
        .where(LiveAnswer.workshop_id == Workshop.id, LiveAnswer.question_index == Workshop.current_index)
        .scalar_subquery()
    )
    joined = select(func.count()).select_from(Participant).where(Participant.workshop_id == Workshop.id)
    row = s.execute(
        select(Workshop.version, answered, joined.scalar_subquery(), Workshop.closes_at).where(
            Workshop.id == workshop_id
        )
    ).first()
    return tuple(row) if row else None


def _leaderboard(s: Session, snap: Snapshot, ws: Workshop) -> list[dict[str, Any]]:
    """Top participants by correct answers so far (opt-in per workshop: names appear on the projector)."""
    keys = {}
    for i, entry in enumerate(ws.questions[: ws.current_index + 1]):
        keys[i] = sorted(c["id"] for c in snap.questions[entry["q"]].choices if c["correct"])
    score: Counter[int] = Counter()
    names: dict[int, str] = {}
    rows = s.execute(
        select(LiveAnswer.participant_id, LiveAnswer.question_index, LiveAnswer.choice_ids, Learner.name)
        .join(Participant, Participant.id == LiveAnswer.participant_id)
        .join(Learner, Learner.id == Participant.learner_id)
        .where(LiveAnswer.workshop_id == ws.id)
    )
    for pid, index, choices, name in rows:
        names[pid] = name
        score[pid] += int(sorted(choices) == keys.get(index))
    return [{"name": names[pid], "correct": n} for pid, n in score.most_common(LEADERBOARD_SIZE) if n > 0]


def roster(uow: UnitOfWork, ws: Workshop) -> list[dict[str, Any]]:
    rows = uow.session.execute(
        select(Learner.name, Learner.unit, Participant.joined_at)
        .join(Participant, Participant.learner_id == Learner.id)
        .where(Participant.workshop_id == ws.id)
        .order_by(Participant.joined_at, Participant.id)
    )
    return [{"name": name, "unit": unit, "joined_at": joined.isoformat()} for name, unit, joined in rows]
