"""Lessons, case studies and rule pages on the web (views/lessons.py), over HTTP on the real course.

One server on the real content for the module: every lesson, case and rule page a learner can
reach is read once and checked against what must never reach a learner: the server bank's
explanations and correct choices, exercise answers, trainer notes and internal source tags.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

import pytest
import requests

from netralitas.content.lint_terms import INTERNAL_TAGS
from netralitas.content.loader import load_course
from tests.conftest import CONTENT
from tests.server.conftest import Live, start_live
from tests.server.test_learner_path import Browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("lessons")
    yield from start_live(tmp, f"sqlite:///{tmp / 'quiz.sqlite'}", content=CONTENT)


@pytest.fixture(scope="module")
def course():
    return load_course(CONTENT)


@pytest.fixture(scope="module")
def pages(site: Live, course) -> dict[str, str]:
    """Every lesson, case and rule page, reached by following links from /materi."""
    http = requests.Session()
    found: dict[str, str] = {}
    queue = ["/materi"]
    while queue:
        path = queue.pop()
        if path in found:
            continue
        r = http.get(site.url + path, timeout=30)
        assert r.status_code == 200, path
        found[path] = r.text
        queue += [p for p in re.findall(r'href="(/(?:materi|modul|aturan)[^"#?]*)"', r.text) if p not in found]
    return found


def visible(page: str) -> str:
    """The page's text as a reader sees it: no tags, no attributes, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_every_module_has_a_lesson_and_cases_page_with_its_content(site, pages, course):
    css = requests.get(site.url + "/static/site.css", timeout=30).content
    for pos, mod in enumerate(course.modules, start=1):
        lesson = flat(visible(pages[f"/modul/{mod.id}"]))
        assert mod.lesson.meta.title in lesson and f"Modul {pos} dari {len(course.modules)}" in lesson
        assert all(flat(o) in lesson for o in mod.lesson.meta.objectives)
        first_paragraph = next(p for p in mod.lesson.body.split("\n\n") if p.strip() and not p.startswith("#"))
        assert flat(first_paragraph.replace("**", ""))[:80] in lesson
        assert f'href="/modul/{mod.id}/kasus"' in pages[f"/modul/{mod.id}"]

        cases = pages[f"/modul/{mod.id}/kasus"]
        for case in mod.cases.cases:
            section = cases[cases.index(f'id="{case.id}"') :]
            facts_at = section.index(html.escape(flat(case.facts)[:40], quote=False))
            details_at = section.index("<details")
            assert facts_at < details_at, "the facts come before the verdict"
            assert html.escape(flat(case.verdict_summary)[:40], quote=False) in section[details_at:]
        assert cases.count("<details") == len(mod.cases.cases)
        for page in (cases, pages[f"/modul/{mod.id}"]):
            assert len(page.encode()) + len(css) < 100_000, "a page with its CSS stays under 100 KB"
        assert "<script" not in cases and "<script" not in pages[f"/modul/{mod.id}"]


def test_rule_pages_carry_instrument_article_summary_and_sources(pages, course):
    cited = {
        r for mod in course.modules for r in [*mod.lesson.meta.rules, *(x for c in mod.cases.cases for x in c.rules)]
    }
    assert cited <= {p.removeprefix("/aturan/") for p in pages if p.startswith("/aturan/")}
    rule = course.rules["pp94-2021-p5n2"]
    page = flat(visible(pages["/aturan/pp94-2021-p5n2"]))
    assert rule.instrument in page and rule.article in page and flat(rule.summary.id) in page
    assert any(f'href="{s}"' in pages["/aturan/pp94-2021-p5n2"] for s in map(str, rule.sources) if s.startswith("http"))


def test_no_key_explanation_exercise_answer_trainer_note_or_internal_tag_reaches_these_pages(site, pages, course):
    # Whole explanations and stems: many explanations open with the sentence that states the rule,
    # which a case analysis may state too; the explanation as a whole (its reasoning) is the secret.
    # Stems and single choices are not secret on their own: about 25 scenario questions retell a case
    # of their module, and a correct choice may state the law in the lesson's words. A question's
    # whole explanation, or its choice list, on one page would be.
    bank = site.sql("SELECT explanation, choices FROM questions")
    assert len(bank) > 200
    secrets = [flat(explanation) for explanation, _ in bank]
    choice_lists = []
    for _, choices in bank:
        choices = choices if isinstance(choices, list) else json.loads(choices)
        choice_lists.append([flat(c["text"]) for c in choices if len(c["text"]) > 25])
    for mod in course.modules:
        ex = mod.exercises
        secrets += [flat(ex.case_analysis.model_answer)[:70], flat(ex.classification.instructions)[:70]]
        secrets += [flat(item.situation)[:70] for item in ex.classification.items]
        notes = [mod.lesson.meta.trainer_note, *(c.trainer_note for c in mod.cases.cases)]
        secrets += [flat(n)[:70] for n in notes if n]
    secrets += [flat(r.note)[:70] for r in course.rules.values() if r.note]
    assert len(secrets) > 400
    for path, page in pages.items():
        text = flat(visible(page))
        leaked = [s for s in secrets if s in text]
        assert leaked == [], f"{path}: {leaked[:2]}"
        listed = [c for c in choice_lists if len(c) >= 3 and all(x in text for x in c)]
        assert listed == [], f"{path}: a question's choices: {listed[:1]}"
        tags = [t.label for t in INTERNAL_TAGS if t.pattern.search(page)]
        assert tags == [], f"{path}: {tags}"


def test_an_unknown_module_or_rule_is_a_plain_404_without_internal_codes(site):
    for path in ("/modul/m99", "/aturan/tidak-ada", "/modul/m99/kasus"):
        r = requests.get(site.url + path, timeout=30)
        assert r.status_code == 404
        text = visible(r.text)
        assert "tidak ditemukan" in text and "Kembali ke beranda" in text
        assert "Kode:" not in text and "_not_found" not in text and "404" not in text
        assert re.search(r'data-kode="(module|rule)_not_found"', r.text)


def test_lesson_markup_is_escaped_never_passed_through():
    from quiz_server.views.lesson_text import to_html

    out = str(to_html("# Judul\n\nTeks <script>alert(1)</script> **tebal** dan *miring*.\n\n- satu\n  lanjutan\n- dua"))
    assert "<script" not in out and "&lt;script&gt;" in out
    assert "<strong>tebal</strong>" in out and "<em>miring</em>" in out
    assert "<ul><li>satu lanjutan</li><li>dua</li></ul>" in out and "Judul" not in out


def test_a_signed_in_learner_gets_the_quiz_button_and_human_error_pages(site):
    web = Browser(site).sign_in()
    lesson = web.get("/modul/m01").text
    assert 'action="/kuis/m01/mulai"' in lesson
    anonymous = requests.get(site.url + "/modul/m01", timeout=30).text
    assert 'action="/kuis/m01/mulai"' not in anonymous and "/masuk?next=" in anonymous

    r = web.get("/sertifikat.pdf")  # signed in, no certificate yet
    assert r.status_code == 404
    shown = flat(visible(r.text))
    assert "Anda belum memiliki sertifikat." in shown
    assert "no_certificate" not in shown and "Kode:" not in shown and "404" not in shown
    assert 'data-kode="no_certificate"' in r.text
