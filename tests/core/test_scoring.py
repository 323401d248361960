"""The question-type registry: one definition read by the content model, the checks and scoring."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from netralitas import scoring
from netralitas.content.models import QuestionType


@dataclass
class Q:
    type: str
    choices: list[dict] = field(default_factory=list)


def keyed(kind: str, correct: set[str], ids: str = "abcd") -> Q:
    return Q(kind, [{"id": c, "text": c, "correct": c in correct} for c in ids])


def test_the_content_model_lists_exactly_the_registered_types():
    assert [t.value for t in QuestionType] == scoring.types() == ["single", "multiple", "true_false", "scenario"]


@pytest.mark.parametrize("kind", ["single", "scenario", "true_false"])
def test_one_answer_types_score_the_key_only(kind):
    q = keyed(kind, {"b"}, "ab" if kind == "true_false" else "abcd")
    assert scoring.score(q, ["b"]) == scoring.Result(True, 1.0, 1.0)
    assert scoring.score(q, ["a"]) == scoring.Result(False, 0.0, 1.0)
    assert scoring.score(q, []) == scoring.Result(False, 0.0, 1.0)
    assert scoring.score(q, ["a", "b"]).correct is False  # picking everything never scores


def test_multiple_is_all_or_nothing_and_ignores_order_and_repeats():
    q = keyed("multiple", {"a", "c"})
    assert scoring.score(q, ["c", "a"]).correct is True
    assert scoring.score(q, ["a", "a", "c"]).correct is True
    assert scoring.score(q, ["a"]).points == 0.0  # a partial set scores nothing
    assert scoring.score(q, ["a", "b", "c"]).points == 0.0


@pytest.mark.parametrize(
    ("kind", "correct", "total", "ok"),
    [
        ("single", 1, 4, True),
        ("single", 2, 4, False),
        ("single", 0, 4, False),
        ("multiple", 2, 4, True),
        ("multiple", 1, 4, False),
        ("multiple", 4, 4, False),  # "all of them" is no question
        ("true_false", 1, 2, True),
    ],
)
def test_each_type_says_what_a_well_formed_key_is(kind, correct, total, ok):
    assert scoring.question_type(kind).key_ok(correct, total) is ok


def test_type_rules_used_by_the_content_checks():
    assert scoring.question_type("true_false").fixed_texts == ("Benar", "Salah")
    assert scoring.question_type("true_false").choices == (2, 2)
    assert scoring.question_type("scenario").needs_scenario is True
    assert scoring.question_type("multiple").max_selected is None
    assert scoring.question_type("single").max_selected == 1


def test_an_unknown_type_is_refused():
    with pytest.raises(KeyError):
        scoring.question_type("essay")
