"""The real course in content/: minimum size, citations and legal-accuracy guards (issue: course content)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest

from netralitas.content.lint_terms import HEDGES
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
    # 2.0.0: the legal meaning changed (issue 17), so 1.x certificates are due a refresher.
    assert c.content_version == "2.0.0"
    assert c.legal_state_date == dt.date(2026, 12, 1)


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


def test_rule_caveats_live_in_the_trainer_note_not_in_learner_text(course):
    """Content 2.0: a learner reads each rule plainly; what could not be checked is in ``note``.

    A rule is ``primary`` only with the official text it was read from; every other rule says in its
    trainer-only ``note`` what could not be checked. Hedges in learner text anywhere in the course are
    the lint's job (``learner_hedge``, tests/core/test_content_lint.py).
    """
    for r in course.rules.values():
        learner = " ".join([r.title, r.summary.id, r.sanction.detail.id if r.sanction.detail else ""])
        assert not [t.label for t in HEDGES if t.pattern.search(learner)], r.id
        if r.confidence is Confidence.PRIMARY:
            assert r.official_text is not None, f"{r.id}: primary without official_text"
        else:
            assert r.note, f"{r.id}: {r.confidence.value} rule needs a note saying what could not be checked"


def test_every_case_cites_a_rule(course):
    """Non-violations too: the rule that draws the line (issue 17)."""
    for m in course.modules:
        for c in m.cases.cases:
            assert c.rules, c.id


POLITICAL_PREFERENCE = re.compile(
    r"(siapa|partai mana|calon mana|paslon mana).{0,40}\b(anda|kamu)\b.{0,20}\b(pilih|dukung|coblos)", re.I
)


def test_no_question_asks_for_a_political_preference(course):
    for m in course.modules:
        for q in m.questions.questions:
            assert not POLITICAL_PREFERENCE.search(f"{q.scenario or ''} {q.text}"), q.id


def _changelog_entries() -> dict[str, str]:
    """``{heading: body}`` of each ``## `` entry of content/CHANGELOG.md, newest (first) first."""
    text = (CONTENT / "CHANGELOG.md").read_text(encoding="utf-8")
    parts = re.split(r"(?m)^## ", text)[1:]
    return {p.split("\n", 1)[0].strip(): p.split("\n", 1)[1] for p in parts}


RULE_ID = re.compile(r"`([a-z][a-z0-9]*(?:-[a-z0-9]+)+)`")


def test_changelog_records_version_and_legal_state(course):
    c = course.course
    entries = _changelog_entries()
    heading = f"{c.content_version} — keadaan hukum per {c.legal_state_date.isoformat()}"
    assert next(iter(entries)) == heading, "the current version must be the top entry"
    entry = entries[heading]
    for section in ("### Legal corrections", "### Gaps closed", "### Question bank", "### Tools", "### Verification"):
        assert section in entry, section
    # The corrections of issue 17 are listed, with the rules and the answer key they changed.
    for item in ("uu20-2023-p70-3", "m07-q026", "uu1-2015-p188", "putusan-mk-136-2024", "pp11-2017-p254"):
        assert f"`{item}`" in entry, item
    assert "refresher" in entry
    # Every rule id it names is in the catalogue, except replaced ids ("`old` → `new`"), which the
    # catalogue may drop once no module cites them.
    replaced = set(re.findall(r"`([^`]+)` →", entry))
    named = {m for m in RULE_ID.findall(entry) if not re.match(r"m0\d-", m)}
    assert named - replaced <= set(course.rules), named - replaced - set(course.rules)
    # The verification paragraph matches the catalogue: counts, and every rule that is not secondary.
    by_confidence = Counter(r.confidence for r in course.rules.values())
    assert f"{len(course.rules)} rules" in entry
    assert f"{by_confidence[Confidence.PRIMARY]} of {len(course.rules)} rules are `primary`" in entry
    assert f"{by_confidence[Confidence.SECONDARY]} rules are `secondary`" in entry
    assert f"{by_confidence[Confidence.UNVERIFIED]} rules stay `unverified`" in entry
    for r in course.rules.values():
        if r.confidence is not Confidence.SECONDARY:
            assert f"`{r.id}`" in entry.split("### Verification", 1)[1], r.id
