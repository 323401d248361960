"""Question types and scoring. The server scores; clients never see the key.

Each type is a small registered class with ``score(question, answer) -> Result``.
Every question is worth one point and scored all-or-nothing: a multiple-answer
question counts only when exactly the correct set is chosen (documented in
docs/scoring.md), which keeps scores comparable across types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol


class KeyedQuestion(Protocol):
    type: str
    choices: Sequence[Mapping[str, Any]]  # [{"id", "text", "correct"}]


@dataclass(frozen=True)
class Result:
    correct: bool
    points: float
    max_points: float


class QuestionType:
    name: ClassVar[str]
    min_selected: ClassVar[int] = 1
    max_selected: ClassVar[int | None] = 1

    def score(self, question: KeyedQuestion, answer: Iterable[str]) -> Result:
        chosen = set(answer)
        key = {c["id"] for c in question.choices if c["correct"]}
        ok = chosen == key
        return Result(ok, 1.0 if ok else 0.0, 1.0)


_REGISTRY: dict[str, QuestionType] = {}


def register(cls: type[QuestionType]) -> type[QuestionType]:
    _REGISTRY[cls.name] = cls()
    return cls


@register
class Single(QuestionType):
    name = "single"


@register
class TrueFalse(QuestionType):
    name = "true_false"


@register
class Scenario(QuestionType):
    name = "scenario"


@register
class Multiple(QuestionType):
    name = "multiple"
    max_selected = None


def question_type(name: str) -> QuestionType:
    return _REGISTRY[name]


def score(question: KeyedQuestion, answer: Iterable[str]) -> Result:
    return question_type(question.type).score(question, answer)


def types() -> list[str]:
    return sorted(_REGISTRY)
