"""The real course in content/: minimum size, citations and legal-accuracy guards (issue: course content)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from netralitas.content.loader import check_content
from netralitas.content.models import Confidence, VerdictKind
from tests.conftest import CONTENT


@pytest.fixture(scope="module")
def course():
    loaded, problems = check_content(CONTENT)
    assert problems == [], "\n".join(map(str, problems))
    return loaded


def test_minimum_counts(course):
    assert len(course.modules) == 8
    assert len(course.rules) >= 35
    assert sum(len(m.cases.cases) for m in course.modules) >= 48
    assert sum(len(m.questions.questions) for m in course.modules) >= 240
    for m in course.modules:
        assert len(m.cases.cases) >= 6, m.id
        assert len(m.questions.questions) >= 30, m.id
        assert 800 <= m.lesson.word_count <= 1600, (m.id, m.lesson.word_count)


def test_course_settings(course):
    c = course.course
    assert (c.quiz.pass_percent, c.quiz.attempts_allowed, c.quiz.questions_per_attempt) == (80, 3, 10)
    assert c.content_version == "1.0.0"


def test_every_cited_rule_exists(course):
    cited = set()
    for m in course.modules:
        cited |= set(m.lesson.meta.rules)
        for q in m.questions.questions:
            cited |= set(q.rules)
        for c in m.cases.cases:
            cited |= set(c.rules)
        for it in m.exercises.classification.items:
            cited |= set(it.rules)
        cited |= set(m.exercises.case_analysis.rules)
    assert cited - set(course.rules) == set()


def test_every_graded_question_cites_a_verified_rule(course):
    for m in course.modules:
        for q in m.questions.questions:
            if q.graded:
                assert any(course.rules[r].confidence is not Confidence.UNVERIFIED for r in q.rules), q.id


def test_every_type_and_both_sides_of_the_boundary(course):
    types = Counter(q.type.value for m in course.modules for q in m.questions.questions)
    assert set(types) == {"single", "multiple", "true_false", "scenario"}
    for m in course.modules:
        verdicts = [c.verdict for c in m.cases.cases]
        assert [VerdictKind.NO_VIOLATION] in verdicts, f"{m.id} needs a case that is not a violation"


def test_rules_carry_instrument_article_sources_and_confidence(course):
    for r in course.rules.values():
        assert r.instrument and r.article and r.sources and r.confidence
        assert r.summary.id and r.summary.en
    repealed = [r for r in course.rules.values() if r.instrument.startswith("UU 5/2014")]
    assert repealed and all(r.in_force.until is not None for r in repealed)
    assert any(r.instrument.startswith("UU 20/2023") for r in course.rules.values())
    assert any("121/PUU-XXII/2024" in r.instrument for r in course.rules.values())


def test_unverified_rules_are_flagged_in_their_text(course):
    hedge = re.compile(
        r"belum dapat dipastikan|belum terverifikasi|berbeda pendapat|belum pasti|tidak dapat dipastikan", re.I
    )
    for r in course.rules.values():
        if r.confidence is Confidence.UNVERIFIED:
            text = " ".join(filter(None, [r.summary.id, r.note, r.sanction.detail.id if r.sanction.detail else ""]))
            assert hedge.search(text), r.id


POLITICAL_PREFERENCE = re.compile(
    r"(siapa|partai mana|calon mana|paslon mana).{0,40}\b(anda|kamu)\b.{0,20}\b(pilih|dukung|coblos)", re.I
)


def test_no_question_asks_for_a_political_preference(course):
    for m in course.modules:
        for q in m.questions.questions:
            assert not POLITICAL_PREFERENCE.search(f"{q.scenario or ''} {q.text}"), q.id


def test_changelog_records_version_and_legal_state(course):
    text = (CONTENT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert course.course.content_version in text
    assert course.course.legal_state_date.isoformat() in text
