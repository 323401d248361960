"""Item analysis of the quiz bank from real attempts (facility, discrimination, distractor use).

Maps submitted attempts to :mod:`netralitas.content.itemanalysis`, which holds the formulas. Only
aggregates leave this module: no learner is named.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from netralitas.content.itemanalysis import MIN_ATTEMPTS, GradedAttempt, ItemResponse, ItemStats, analyse
from quiz_server.models import Attempt
from quiz_server.services import catalog
from quiz_server.services.errors import QuizNotFound
from quiz_server.uow import UnitOfWork


@dataclass(frozen=True)
class _Choice:
    id: str
    correct: bool


@dataclass(frozen=True)
class _Key:
    id: str
    choices: tuple[_Choice, ...]


def _graded(uow: UnitOfWork, quiz_id: str | None, first_only: bool) -> Iterator[GradedAttempt]:
    query = select(Attempt.id, Attempt.score, Attempt.max_score, Attempt.answers, Attempt.feedback).where(
        Attempt.submitted_at.is_not(None), Attempt.max_score > 0
    )
    if quiz_id is not None:
        query = query.where(Attempt.quiz_id == quiz_id)
    if first_only:  # Moodle's advice: later attempts are coached by the feedback of earlier ones
        query = query.where(Attempt.number == 1)
    for row in uow.session.execute(query.order_by(Attempt.id).execution_options(yield_per=2000)):
        answers = row.answers or {}
        yield GradedAttempt(
            attempt_id=row.id,
            score=row.score / row.max_score,
            responses=tuple(
                ItemResponse(f["question_id"], tuple(answers.get(f["question_id"], [])), 1.0 if f["correct"] else 0.0)
                for f in row.feedback or []
            ),
        )


def question_stats(
    uow: UnitOfWork, *, quiz_id: str | None = None, first_only: bool = True, min_attempts: int = MIN_ATTEMPTS
) -> list[ItemStats]:
    """Statistics per graded question of ``quiz_id`` (every quiz when None), bank order."""
    snap = catalog.snapshot(uow)
    if quiz_id is not None and quiz_id not in snap.quizzes:
        raise QuizNotFound()
    bank = [q for q in snap.questions.values() if q.graded and (quiz_id is None or q.quiz_id == quiz_id)]
    keys = [_Key(q.id, tuple(_Choice(c["id"], bool(c["correct"])) for c in q.choices)) for q in bank]
    stats = analyse(_graded(uow, quiz_id, first_only), keys, min_attempts=min_attempts)
    order = {q.id: i for i, q in enumerate(sorted(bank, key=lambda q: q.id))}
    return sorted(stats, key=lambda s: order.get(s.question_id, len(order)))
