"""Question types: the one registry that the content model, the content checks and scoring read.

Each type is a small registered class that says what a well-formed question of that type looks like
(how many choices, how many correct, fixed choice texts, whether it needs a situation text) and how it
is scored: ``score(question, answer) -> Result``. The server scores; clients never see the key.
Every question is worth one point and scored all-or-nothing: a multiple-answer question counts only
when exactly the correct set is chosen, which keeps scores comparable across types.

A new type is one class here with ``@register``; the content model's ``type`` field, its JSON
Schema, ``netralitas content check`` and every scorer pick it up.
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
    max_selected: ClassVar[int | None] = 1  # None: any number of choices may be selected
    choices: ClassVar[tuple[int, int]] = (3, 5)  # allowed number of choices (min, max)
    fixed_texts: ClassVar[tuple[str, ...] | None] = None  # e.g. ("Benar", "Salah")
    needs_scenario: ClassVar[bool] = False
    key_hint: ClassVar[str] = "tepat 1"  # how many correct choices, as told to an author

    def key_ok(self, correct: int, total: int) -> bool:
        """Whether ``correct`` correct choices out of ``total`` make a well-formed key."""
        return correct == 1

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
class Multiple(QuestionType):
    name = "multiple"
    max_selected = None
    choices = (3, 6)
    key_hint = "minimal 2 dan bukan semua"

    def key_ok(self, correct: int, total: int) -> bool:
        return 2 <= correct < total


@register
class TrueFalse(QuestionType):
    name = "true_false"
    choices = (2, 2)
    fixed_texts = ("Benar", "Salah")


@register
class Scenario(QuestionType):
    name = "scenario"
    needs_scenario = True


def question_type(name: str) -> QuestionType:
    return _REGISTRY[name]


def score(question: KeyedQuestion, answer: Iterable[str]) -> Result:
    return question_type(question.type).score(question, answer)


def types() -> list[str]:
    """Registered type names, in registration order (the order the JSON Schema lists them)."""
    return list(_REGISTRY)
