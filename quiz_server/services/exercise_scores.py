"""Exercise scores pushed in by the grading side (``netralitas grade sync`` after nbgrader's autograde
and the trainers' manual grading), kept per learner and assignment: the latest push wins.

Only a ``grader`` account of the course this server serves may push. A malformed push is refused
whole; rows naming an NIP the server does not know (a notebook placed by hand, an erased learner)
are skipped and listed, so one stray gradebook student cannot block everyone's scores. Every changed
score is written to the audit log; a push that changes nothing writes nothing. A score that completes
the certification rule issues the certificate in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from netralitas.errors import Conflict, InvalidInput
from quiz_server.config import Settings
from quiz_server.models import ExerciseScore, Learner
from quiz_server.models.base import utcnow
from quiz_server.services import audit, certification
from quiz_server.services.credentials import Principal
from quiz_server.uow import UnitOfWork


class ScoreIn(Protocol):
    nip: str
    assignment: str
    score: float
    max_score: float


def _invalid(message: str, code: str, rows: list[int]) -> InvalidInput:
    return InvalidInput(message, code=code, fields=[{"field": f"scores.{i}", "type": code} for i in rows[:20]])


def _check(items: Sequence[ScoreIn], assignments: set[str]) -> None:
    unknown = [i for i, x in enumerate(items) if x.assignment not in assignments]
    if unknown:
        raise _invalid(
            f"Latihan '{items[unknown[0]].assignment}' tidak ada di kursus ini. Yang ada: {', '.join(sorted(assignments))}.",
            "assignment_not_found",
            unknown,
        )
    above = [i for i, x in enumerate(items) if x.score > x.max_score]
    if above:
        raise _invalid("Nilai tidak boleh melebihi nilai maksimum (max_score).", "score_above_max", above)
    seen: set[tuple[str, str]] = set()
    twice = []
    for i, x in enumerate(items):
        pair = ("".join(x.nip.split()), x.assignment)
        if pair in seen:
            twice.append(i)
        seen.add(pair)
    if twice:
        raise _invalid("Satu peserta dan latihan hanya boleh muncul sekali per kiriman.", "duplicate_score", twice)


def push(
    uow: UnitOfWork, settings: Settings, grader: Principal, course_id: str, items: Sequence[ScoreIn]
) -> dict[str, Any]:
    """Store the scores; return counts, the NIPs skipped as unknown and the NIPs certified by this push."""
    rule = certification.course(settings)
    certification.check_scope(uow, grader, rule)
    if course_id != rule.id:
        raise InvalidInput(
            f"Nilai ini untuk kursus '{course_id}', sedangkan server ini melayani '{rule.id}'.", code="course_mismatch"
        )
    _check(items, {certification.exercise_item(m.id) for m in rule.modules})
    nips = {"".join(x.nip.split()) for x in items}
    learners = dict(uow.session.execute(select(Learner.nip, Learner.id).where(Learner.nip.in_(nips))).all())
    unknown = [x.nip for x in items if "".join(x.nip.split()) not in learners]
    items = [x for x in items if "".join(x.nip.split()) in learners]
    s = uow.write()
    held = {
        (row.learner_id, row.assignment): row
        for row in s.scalars(select(ExerciseScore).where(ExerciseScore.learner_id.in_(set(learners.values()))))
    }
    changed: list[int] = []
    now = utcnow()
    for x in items:
        learner_id = learners["".join(x.nip.split())]
        row = held.get((learner_id, x.assignment))
        if row is not None and (row.score, row.max_score) == (x.score, x.max_score):
            continue
        before = None if row is None else [row.score, row.max_score]
        if row is None:
            s.add(
                ExerciseScore(
                    learner_id=learner_id,
                    assignment=x.assignment,
                    score=x.score,
                    max_score=x.max_score,
                    graded_by=grader.key,
                    updated_at=now,
                )
            )
        else:
            row.score, row.max_score, row.graded_by, row.updated_at = x.score, x.max_score, grader.key, now
        audit.record(
            uow,
            grader.key,
            "exercise_score",
            f"learner:{learner_id}",
            assignment=x.assignment,
            score=x.score,
            max_score=x.max_score,
            previous=before,
        )
        changed.append(learner_id)
    try:
        s.flush()
    except IntegrityError:  # another push inserted the same learner and assignment first (PostgreSQL)
        raise Conflict("Nilai yang sama sedang dikirim bersamaan. Kirim ulang.", code="score_conflict") from None
    nip_of = {learner_id: nip for nip, learner_id in learners.items()}
    certified = [
        nip_of[learner_id]
        for learner_id in dict.fromkeys(changed)
        if certification.certify_if_complete(uow, settings, learner_id, trigger="exercise_scores")
    ]
    return {
        "received": len(items) + len(unknown),
        "changed": len(changed),
        "unchanged": len(items) - len(changed),
        "unknown_learners": unknown,
        "certified": certified,
    }
