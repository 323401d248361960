"""The notebook builder: committed notebooks are current, small, deterministic and carry no answer key."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from netralitas import notebooks
from netralitas.cli import main
from netralitas.content.bundle import learner_view
from netralitas.content.loader import load_course
from netralitas.content.models import LoadedCourse, QuestionType
from tests.conftest import CONTENT, MINI, ROOT

NOTEBOOKS = ROOT / "notebooks"
ONE_LINER = re.compile(r'^from netralitas\.widgets import (\w+); \1\((|"[a-z0-9-]+"|show_server=True)\)$')


@pytest.fixture(scope="module")
def course() -> LoadedCourse:
    return load_course(CONTENT)


def generated() -> list[Path]:
    return sorted(
        p
        for p in NOTEBOOKS.glob("*.ipynb")
        if json.loads(p.read_text())["metadata"].get("netralitas", {}).get("generated_by")
    )


def test_committed_notebooks_are_current():
    run = subprocess.run(
        [sys.executable, "-m", "netralitas", "build", "notebooks", "--check"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Notebook mutakhir" in run.stdout


def test_check_names_stale_and_missing_notebooks_and_build_fixes_them(tmp_path):
    def run(*extra: str):
        return CliRunner().invoke(main, ["build", "notebooks", "--out", str(tmp_path), str(MINI), *extra])

    def files() -> dict[str, bytes]:
        return {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}

    missing = run("--check")
    assert missing.exit_code == 1 and "00-mulai.ipynb" in missing.output and "01-contoh.ipynb" in missing.output
    assert "bundle/bundle.json" in missing.output  # the learner bundle the notebooks read is built with them
    assert list(tmp_path.iterdir()) == []  # --check writes nothing
    assert run().exit_code == 0
    first = files()
    assert "bundle/bundle.json" in first and "bundle/modules/01-contoh.json" in first
    assert run("--check").exit_code == 0
    (tmp_path / "01-contoh.ipynb").write_text((tmp_path / "01-contoh.ipynb").read_text().replace("Kuis", "Ujian"))
    (tmp_path / "bundle" / "stray.json").write_text("{}")
    stale = run("--check")
    assert stale.exit_code == 1 and "01-contoh.ipynb" in stale.output and "00-mulai" not in stale.output
    assert "bundle/stray.json" in stale.output  # a file the bundle does not have is stale too
    assert run().exit_code == 0
    assert files() == first  # deterministic, byte for byte; the stray file is gone


def test_one_start_notebook_and_one_per_module(course):
    names = [p.name for p in generated()]
    assert names == ["00-mulai.ipynb"] + [f"{m.ref.dir}.ipynb" for m in course.modules]


def test_notebooks_are_short_text_and_one_line_widget_cells(course):
    for path in generated():
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        ids = [c.id for c in nb.cells]
        assert len(ids) == len(set(ids))
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, path.name
        for cell in code:
            assert ONE_LINER.match(cell.source), (path.name, cell.source)
            assert cell.outputs == [] and cell.execution_count is None
            assert cell.metadata["jupyter"]["source_hidden"] is True
        if path.name != "00-mulai.ipynb":
            module = course.module(nb.metadata["netralitas"]["module_id"])
            lesson = [c for c in nb.cells if c.id.startswith("lesson-")]
            assert lesson and all(c.source in module.lesson.body for c in lesson)
            assert any(f'quiz("{module.id}")' in c.source for c in code)
            assert any(f'case_explorer("{module.id}")' in c.source for c in code)
            own = [c.source for c in nb.cells if c.cell_type == "markdown" and not c.id.startswith("lesson-")]
            assert sum(len(s.split()) for s in own) < 250, path.name  # the builder's own text stays short


def _graded(course: LoadedCourse):
    for module in course.modules:
        for q in module.questions.questions:
            if q.graded:
                yield module, q


def _public(course: LoadedCourse) -> list[str]:
    """Course material learners read anyway: objectives and titles (longest first)."""
    out = [course.course.title]
    for m in course.modules:
        out += [m.ref.title, *m.lesson.meta.objectives]
    return sorted(out, key=len, reverse=True)


def _within(text: str, bodies: list[str]) -> bool:
    return any(text in body for body in bodies)


def scan(paths: list[Path], course: LoadedCourse) -> list[str]:
    """Every trace of an answer key in ``paths``: returns what was found, where."""
    found = []
    banned_anywhere = {'"correct"', "model_answer"}
    for _, q in _graded(course):
        banned_anywhere |= {q.id, q.text, q.explanation} | ({q.scenario} if q.scenario else set())
    for module in course.modules:
        ex = module.exercises
        banned_anywhere |= {ex.classification.id, ex.case_analysis.id, ex.case_analysis.model_answer}
        for item in ex.classification.items:
            banned_anywhere |= {item.id, item.situation}
    correct = {
        c.text
        for _, q in _graded(course)
        if q.type is not QuestionType.TRUE_FALSE  # "Benar"/"Salah" label every true/false item alike
        for c in q.choices
        if c.correct
    }
    for path in paths:
        raw = path.read_text(encoding="utf-8")
        nb = nbformat.reads(raw, as_version=4)
        everything = raw + "\n".join(c.source for c in nb.cells)
        found += [f"{path.name}: {b[:60]!r}" for b in banned_anywhere if b in everything]
        # What the builder wrote itself: every cell except verbatim lesson text, plus metadata.
        lessons = [m.lesson.body for m in course.modules]
        own_cells = [c.source for c in nb.cells if not (c.id.startswith("lesson-") and _within(c.source, lessons))]
        own = json.dumps(nb.metadata, ensure_ascii=False) + "\n".join(own_cells)
        for text in _public(course):
            own = own.replace(text, " ")
        for text in correct:
            if re.search(rf"(?<!\w){re.escape(text)}(?!\w)", own, re.I):
                found.append(f"{path.name}: correct choice {text!r}")
    return found


def test_no_committed_notebook_carries_an_answer_key(course):
    paths = generated()
    assert len(paths) == len(course.modules) + 1
    assert scan(paths, course) == []


def test_the_scan_finds_a_planted_key(course, tmp_path):
    module, q = next((m, q) for m, q in _graded(course) if q.type is QuestionType.SINGLE)
    right = next(c.text for c in q.choices if c.correct)
    nb = nbformat.read(NOTEBOOKS / f"{module.ref.dir}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(f"Catatan pelatih: {right}", id="planted"))
    item = module.exercises.classification.items[0]
    nb.metadata["extra"] = {item.id: item.answer.value}
    planted = tmp_path / "planted.ipynb"
    nbformat.write(nb, planted)
    found = scan([planted], course)
    assert any(right in f for f in found) and any(item.id in f for f in found)


def test_mini_course_notebooks_hold_no_key_text_at_all(tmp_path):
    mini = load_course(MINI)
    texts = notebooks.build(learner_view(mini))
    whole = "\n".join(texts.values())
    for module in mini.modules:
        for q in module.questions.questions:
            assert q.text not in whole
            for c in q.choices:
                if c.correct and c.text not in ("Benar", "Salah"):
                    assert c.text not in whole
        for item in module.exercises.classification.items:
            assert item.situation not in whole


def test_widget_and_client_modules_keep_the_core_boundary():
    code = (
        "import sys, netralitas.client, netralitas.widgets, netralitas.notebooks, netralitas.advisor;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('flask','nbgrader','quiz_server','grading')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
