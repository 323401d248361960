"""Trainer-only text (a rule's ``note``, ``trainer_note`` fields) never reaches learner widgets or notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netralitas.content.loader import check_content
from netralitas.widgets import common, sanctions
from tests.conftest import CONTENT, ROOT


@pytest.fixture(scope="module")
def course():
    loaded, problems = check_content(CONTENT)
    assert problems == []
    return loaded


def _trainer_texts(course) -> list[str]:
    texts = [r.note for r in course.rules.values() if r.note]
    for m in course.modules:
        items = [m.lesson.meta, m.exercises.classification, m.exercises.case_analysis]
        items += m.cases.cases + m.questions.questions
        texts += [i.trainer_note for i in items if getattr(i, "trainer_note", None)]
    return texts


def test_the_course_has_trainer_notes_to_hide(course):
    assert len(_trainer_texts(course)) > 20


def test_rule_widgets_never_show_a_rules_note(course):
    for rule in course.rules.values():
        if rule.note:
            shown = common.rule_item(rule) + sanctions._card(rule)
            assert rule.note not in shown and "Catatan:" not in shown, rule.id


def test_no_built_notebook_carries_trainer_text(course):
    cells = []
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells += ["".join(c["source"]) for c in json.loads(Path(nb).read_text())["cells"]]
    text = "\n".join(cells)
    leaked = [t[:60] for t in _trainer_texts(course) if t in text]
    assert leaked == []
