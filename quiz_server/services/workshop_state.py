"""What each audience sees of a workshop: the participant's phone, the trainer's screens, the projector.

The answer key, explanation and rules appear only once the trainer has moved the room
to the ``explained`` phase; the choice distribution only after ``revealed``.
"""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

from flask import url_for
from sqlalchemy import func, select

from netralitas.scoring import question_type
from quiz_server import db
from quiz_server.models import Learner, LiveAnswer, Participant, Workshop
from quiz_server.services import catalog, workshops

REVEALED = ("revealed", "explained")
LEADERBOARD_SIZE = 5


def public_workshop(ws: Workshop) -> dict[str, Any]:
    quiz = catalog.snapshot().quizzes.get(ws.quiz_id)
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


def trainer_workshop(ws: Workshop) -> dict[str, Any]:
    participants = db.session().scalar(
        select(func.count()).select_from(Participant).where(Participant.workshop_id == ws.id)
    )
    return public_workshop(ws) | {
        "leaderboard": ws.leaderboard,
        "participants": participants,
        "join_url": url_for("workshop.join", code=ws.join_code, _external=True),
        "qr_url": url_for("trainer.qr", workshop_id=ws.id, _external=True),
    }


def _question(ws: Workshop, index: int) -> dict[str, Any]:
    entry = ws.questions[index]
    q = catalog.snapshot().questions[entry["q"]]
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


def _distribution(ws: Workshop, index: int) -> tuple[int, list[dict[str, Any]]]:
    entry = ws.questions[index]
    counts: Counter[str] = Counter()
    answered = 0
    rows = db.session().scalars(
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


def _key_and_reasons(ws: Workshop, index: int) -> dict[str, Any]:
    entry = ws.questions[index]
    snap = catalog.snapshot()
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


def participant_view(learner_id: int, workshop_id: int) -> dict[str, Any]:
    """The participant's phone: the current question, their own answer, and what the trainer has revealed."""
    ws, participant = workshops.membership(learner_id, workshop_id)
    out: dict[str, Any] = {"workshop": public_workshop(ws), "question": None}
    if ws.status == "closed" or not workshops.is_open(ws):
        out["attempt_id"] = participant.attempt_id
        return out
    if ws.mode != "live" or ws.current_index < 0:
        return out
    index = ws.current_index
    out["question"] = _question(ws, index)
    mine = db.session().scalar(
        select(LiveAnswer.choice_ids).where(
            LiveAnswer.participant_id == participant.id, LiveAnswer.question_index == index
        )
    )
    to_shown = {cid: shown for shown, cid in ws.questions[index]["choices"]}
    out["my_choices"] = sorted(to_shown[c] for c in mine) if mine else []
    if ws.phase in REVEALED:
        out["answered"], out["distribution"] = _distribution(ws, index)
    if ws.phase == "explained":
        out |= _key_and_reasons(ws, index)
        out["you_were_right"] = bool(mine) and set(out["my_choices"]) == set(out["correct_choices"])
    return out


def board(ws: Workshop) -> dict[str, Any]:
    """The projector and the trainer's control screen: one JSON the page can render from scratch."""
    s = db.session()
    participants = s.scalar(select(func.count()).select_from(Participant).where(Participant.workshop_id == ws.id))
    out: dict[str, Any] = {
        "workshop": public_workshop(ws),
        "version": ws.version,
        "phase": ws.phase if workshops.is_open(ws) or ws.phase == "closed" else "closed",
        "participants": participants,
        "answered": 0,
        "question": None,
    }
    if ws.mode == "live" and ws.current_index >= 0 and out["phase"] != "closed":
        index = ws.current_index
        out["question"] = _question(ws, index)
        answered, dist = _distribution(ws, index)
        out["answered"] = answered
        if ws.phase in REVEALED:
            out["distribution"] = dist
        if ws.phase == "explained":
            out |= _key_and_reasons(ws, index)
            if ws.leaderboard:
                out["leaderboard"] = _leaderboard(ws)
    return out


def tick(workshop_id: int, s) -> tuple | None:
    """What decides whether a board needs redrawing: (version, answered now, participants). One query."""
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


def _leaderboard(ws: Workshop) -> list[dict[str, Any]]:
    """Top participants by correct answers so far (opt-in per workshop: names appear on the projector)."""
    snap = catalog.snapshot()
    keys = {}
    for i, entry in enumerate(ws.questions[: ws.current_index + 1]):
        keys[i] = sorted(c["id"] for c in snap.questions[entry["q"]].choices if c["correct"])
    score: Counter[int] = Counter()
    names: dict[int, str] = {}
    rows = db.session().execute(
        select(LiveAnswer.participant_id, LiveAnswer.question_index, LiveAnswer.choice_ids, Learner.name)
        .join(Participant, Participant.id == LiveAnswer.participant_id)
        .join(Learner, Learner.id == Participant.learner_id)
        .where(LiveAnswer.workshop_id == ws.id)
    )
    for pid, index, choices, name in rows:
        names[pid] = name
        score[pid] += int(sorted(choices) == keys.get(index))
    return [{"name": names[pid], "correct": n} for pid, n in score.most_common(LEADERBOARD_SIZE) if n > 0]


def roster(ws: Workshop) -> list[dict[str, Any]]:
    rows = db.session().execute(
        select(Learner.name, Learner.unit, Participant.joined_at)
        .join(Participant, Participant.learner_id == Learner.id)
        .where(Participant.workshop_id == ws.id)
        .order_by(Participant.joined_at, Participant.id)
    )
    return [{"name": name, "unit": unit, "joined_at": joined.isoformat()} for name, unit, joined in rows]
