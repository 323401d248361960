"""`netralitas content lint`: each check finds its defect, the clean fixture and the shipped course have none."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from netralitas.content import lint
from tests.conftest import CONTENT, ROOT

CLEAN = ROOT / "tests" / "fixtures" / "lint-clean"
MODULE = "modules/01-contoh"
QUESTIONS = f"{MODULE}/questions.yaml"
CASES = f"{MODULE}/cases.yaml"
EXERCISES = f"{MODULE}/exercises.yaml"


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    dest = tmp_path / "content"
    shutil.copytree(CLEAN, dest)
    return dest


def edit_yaml(root: Path, rel: str, change) -> None:
    path = root / rel
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def question(data: dict, qid: str) -> dict:
    return next(q for q in data["questions"] if q["id"] == qid)


def findings(root: Path) -> list[lint.Finding]:
    loaded, problems, found = lint.lint_path(root)
    assert loaded is not None and problems == [], [str(p) for p in problems]
    return found


def codes(root: Path) -> Counter[str]:
    return Counter(f.code for f in findings(root))


# -- the clean fixture and the contract on content/ -------------------------------------------


def test_clean_fixture_has_no_findings():
    assert findings(CLEAN) == []


def test_shipped_content_has_no_lint_findings():
    """The contract of content 2.0 (issue 17): zero lint findings on the shipped course."""
    loaded, problems, found = lint.lint_path(CONTENT)
    assert loaded is not None, "\n".join(map(str, problems))
    assert found == [], f"{len(found)} temuan lint:\n" + "\n".join(map(str, found))


# -- near-duplicate stems ---------------------------------------------------------------------


def test_near_duplicate_scenario_with_another_name(clean):
    def copy_scenario(d):
        src, dst = question(d, "m01-q002"), question(d, "m01-q006")
        dst["scenario"] = src["scenario"].replace("Pak Budi", "Pak Joko")
        dst["text"] = src["text"].replace("Pak Budi", "Pak Joko")

    edit_yaml(clean, QUESTIONS, copy_scenario)
    [found] = findings(clean)
    assert (found.code, found.item, found.module) == ("near_duplicate_stem", "m01-q006", "m01")
    assert "m01-q002" in found.message


def test_statement_and_its_negation_are_the_same_item():
    a = "Mobil dinas boleh dipakai untuk kampanye asal bensinnya dibayar sendiri."
    b = "Mobil dinas tidak boleh dipakai untuk kampanye walau bensinnya dibayar sendiri."
    assert lint.stem_similarity(a, b) >= lint.NEAR_DUPLICATE_JACCARD


def test_questions_that_only_share_a_topic_are_not_duplicates():
    a = "Pak Budi, guru PNS, mengantar calon bupati berkeliling desa dengan mobil dinas sekolah. Apa penilaiannya?"
    b = "Bu Rina, PNS kecamatan, memakai kaus partai saat kampanye calon bupati di lapangan desa. Apa penilaiannya?"
    assert lint.stem_similarity(a, b) < 0.5


def test_duplicates_across_modules_name_the_other_module(clean):
    edit_yaml(
        clean, "course.yaml", lambda d: d["modules"].append({"id": "m02", "dir": "02-salinan", "title": "Salinan"})
    )
    shutil.copytree(clean / MODULE, clean / "modules/02-salinan")
    for rel in ("questions.yaml", "cases.yaml", "exercises.yaml"):

        def rename(d):
            d["module_id"] = "m02"
            text = yaml.safe_dump(d, allow_unicode=True)
            d.clear()
            d.update(yaml.safe_load(text.replace("m01-", "m02-")))

        edit_yaml(clean, f"modules/02-salinan/{rel}", rename)
    lesson = clean / "modules/02-salinan/lesson.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("module_id: m01", "module_id: m02"), encoding="utf-8")
    found = [f for f in findings(clean) if f.code == "near_duplicate_stem"]
    loaded, _, _ = lint.lint_path(CLEAN)
    long_enough = [q for q in loaded.modules[0].questions.questions if len(lint.stem_words(lint.stem_of(q))) >= 4]
    assert len(found) == len(long_enough) >= 12  # every question of the copy, except the very short stems
    assert all(f.module == "m02" and "(modul m01)" in f.message for f in found)


# -- cue patterns -----------------------------------------------------------------------------


def test_key_clearly_longest(clean):
    def long_key(d):
        question(d, "m01-q001")["choices"][0]["text"] = (
            "Hukuman disiplin sedang berupa pemotongan tunjangan kinerja 25% selama enam bulan"
        )

    edit_yaml(clean, QUESTIONS, long_key)
    [found] = findings(clean)
    assert (found.code, found.item) == ("key_longest", "m01-q001")


def test_key_slightly_longest_is_no_cue_on_its_own(clean):
    edit_yaml(
        clean,
        QUESTIONS,
        lambda d: question(d, "m01-q001")["choices"][0].__setitem__("text", "Hukuman disiplin sedang!!"),
    )
    assert findings(clean) == []


def test_key_longest_in_most_questions_of_a_module(clean):
    def longer_keys(d):
        for q in d["questions"]:
            if q["type"] in {"single", "scenario"}:
                key = next(c for c in q["choices"] if c.get("correct"))
                key["text"] += " sesuai aturan"

    edit_yaml(clean, QUESTIONS, longer_keys)
    [found] = findings(clean)
    assert (found.code, found.item) == ("key_longest", "m01")
    assert "12 dari 12" in found.message


def test_key_the_only_choice_without_a_reason(clean):
    def reasons(d):
        for c in question(d, "m01-q004")["choices"]:
            if not c.get("correct"):
                c["text"] += ", karena itu urusan pribadi"

    edit_yaml(clean, QUESTIONS, reasons)
    [found] = findings(clean)
    assert (found.code, found.item) == ("key_only_bare", "m01-q004")


def test_a_reason_on_the_key_too_is_fair(clean):
    def reasons(d):
        for c in question(d, "m01-q004")["choices"]:
            c["text"] += " — sesuai kewenangannya" if c.get("correct") else ", karena itu urusan pribadi"

    edit_yaml(clean, QUESTIONS, reasons)
    assert findings(clean) == []


def test_reason_clause_words():
    assert lint.has_reason("Ringan, karena hanya satu ketukan")
    assert lint.has_reason("Boleh — asalkan di luar jam kerja")
    assert not lint.has_reason("Pemotongan tunjangan kinerja 25% selama 6–12 bulan")


def test_key_always_in_one_position(clean):
    def key_first(d):
        for q in d["questions"]:
            if q["type"] in {"single", "scenario"}:
                q["choices"].sort(key=lambda c: not c.get("correct"))
                for c, letter in zip(q["choices"], "abcd", strict=False):
                    c["id"] = letter

    edit_yaml(clean, QUESTIONS, key_first)
    [found] = findings(clean)
    assert (found.code, found.item) == ("key_position_skew", "m01")
    assert "a=12" in found.message


def test_position_chi_square_by_hand():
    # 8 four-choice questions keyed a,a,a,a,a,a,b,c: expected 2 per position,
    # chi2 = (6-2)^2/2 + (1-2)^2/2 + (1-2)^2/2 + (0-2)^2/2 = 8 + 0.5 + 0.5 + 2 = 11.0 with 3 df.
    loaded, _, _ = lint.lint_path(CLEAN)
    qs = [q for q in loaded.modules[0].questions.questions if q.type.value in {"single", "scenario"}][:8]
    keyed = []
    for q, pos in zip(qs, [0, 0, 0, 0, 0, 0, 1, 2], strict=True):
        choices = [c.model_copy(update={"correct": i == pos}) for i, c in enumerate(q.choices)]
        keyed.append(q.model_copy(update={"choices": choices}))
    chi2, df, observed = lint.position_chi_square(keyed)
    assert (chi2, df, observed[0]) == (pytest.approx(11.0), 3, 6)


# -- hedges and internal tags -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "change", "item"),
    [
        (CASES, lambda d: d["cases"][0].__setitem__("analysis", "Rumusannya belum dapat dipastikan."), "m01-k01"),
        (
            QUESTIONS,
            lambda d: question(d, "m01-q003").__setitem__("explanation", "Menurut ringkasan yang beredar, ya."),
            "m01-q003",
        ),
        (
            EXERCISES,
            lambda d: d["case_analysis"]["rubric"][0].__setitem__(
                "criterion", "Menyebut bahwa sumber berbeda pendapat"
            ),
            "m01-analisis",
        ),
        (
            "regulations.yaml",
            lambda d: d["rules"][0]["summary"].__setitem__("id", "Tingkatnya belum pasti."),
            "pp94-2021-p5n2",
        ),
    ],
)
def test_learner_hedge(clean, rel, change, item):
    edit_yaml(clean, rel, change)
    [found] = findings(clean)
    assert (found.code, found.item) == ("learner_hedge", item)


def test_learner_hedge_in_the_lesson_body_names_the_paragraph(clean):
    lesson = clean / MODULE / "lesson.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8") + "\nTenggatnya belum dapat dipastikan dari sumber yang kami baca.\n"
    )
    [found] = findings(clean)
    assert (found.code, found.item) == ("learner_hedge", "m01")
    assert "'body, paragraf" in found.message and "sumber yang kami" in found.message


def test_trainer_fields_may_hedge_and_ordinary_text_is_not_a_hedge(clean):
    # The fixture's trainer_note and rule note already hedge; add a circulating hoax to learner text.
    edit_yaml(
        clean, CASES, lambda d: d["cases"][1].__setitem__("facts", "Ia membaca informasi yang beredar di media sosial.")
    )
    edit_yaml(
        clean, QUESTIONS, lambda d: question(d, "m01-q001").__setitem__("trainer_note", "Sumber berbeda pendapat.")
    )
    assert findings(clean) == []


@pytest.mark.parametrize(
    ("text", "label"),
    [("Dikutip dari [SEED-0].", "[SEED-"), ("Lihat salinan di Scribd.", "Scribd"), ("Ada salah cetak.", "salah cetak")],
)
def test_internal_tag(clean, text, label):
    edit_yaml(clean, QUESTIONS, lambda d: question(d, "m01-q005").__setitem__("explanation", text))
    [found] = findings(clean)
    assert (found.code, found.item) == ("internal_tag", "m01-q005")
    assert f"'{label}'" in found.message


# -- rule citations ---------------------------------------------------------------------------


def test_non_violation_case_without_rules(clean):
    edit_yaml(clean, CASES, lambda d: d["cases"][1].pop("rules"))
    [found] = findings(clean)
    assert (found.code, found.item, found.file) == ("missing_rule", "m01-k02", "content/modules/01-contoh/cases.yaml")


def test_primary_rule_without_official_text(clean):
    edit_yaml(clean, "regulations.yaml", lambda d: d["rules"][1].pop("official_text"))
    [found] = findings(clean)
    assert (found.code, found.item, found.module) == ("missing_rule", "pp94-2021-p5n4", "-")


def test_lint_runs_while_a_rule_id_waits_for_the_catalogue(clean):
    def cite_new(d):
        d["cases"][1]["rules"] = []
        d["cases"][0]["rules"].append("uu99-2099-p1")

    edit_yaml(clean, CASES, cite_new)
    loaded, problems, found = lint.lint_path(clean)
    assert loaded is not None
    assert [p.code for p in problems] == ["unknown_rule"]
    assert [f.code for f in found] == ["missing_rule"]


# -- command line -----------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netralitas", "content", "lint", *args], capture_output=True, text=True
    )


def test_cli_clean(clean):
    ok = run(str(clean))
    assert ok.returncode == 0, ok.stderr
    assert "Lint bersih" in ok.stdout


def test_cli_prints_one_line_per_finding_and_exits_1(clean):
    edit_yaml(clean, CASES, lambda d: d["cases"][1].pop("rules"))
    edit_yaml(clean, QUESTIONS, lambda d: question(d, "m01-q005").__setitem__("explanation", "Sumber: Scribd."))
    bad = run(str(clean))
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert lines[-1] == "2 temuan lint."
    assert lines[0].startswith("content/modules/01-contoh/questions.yaml: m01-q005: [internal_tag] ")
    assert lines[1].startswith("content/modules/01-contoh/cases.yaml: m01-k02: [missing_rule] ")
    assert "Perbaiki:" in lines[0]
    other = run(str(clean), "--module", "m99")
    assert other.returncode == 0, other.stderr


def test_cli_shows_check_problems_and_filters_by_module(clean):
    edit_yaml(clean, CASES, lambda d: d["cases"][0]["rules"].append("uu99-2099-p1"))
    bad = run(str(clean), "--module", "m01")
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert "[unknown_rule]" in lines[0]
    assert lines[-1] == "1 masalah 'content check' dan 0 temuan lint."
    assert run(str(clean), "--module", "m99").returncode == 0


def test_cli_on_broken_files(clean):
    (clean / QUESTIONS).write_text("questions: [unclosed\n", encoding="utf-8")
    bad = run(str(clean))
    assert bad.returncode == 1
    assert "[bad_yaml]" in bad.stderr and "tidak dapat dimuat" in bad.stderr
