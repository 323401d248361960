"""Attack 1 of issue #14, "keys in the learner's kernel": the learner side holds no key.

What a learner's kernel can read (the learner bundle, every built learner notebook, the released
nbgrader exercises) is scanned string by string for everything secret in the full content, which is
loaded with ``load_course`` (never hard-coded here): question texts, choices, ``correct`` flags,
explanations, exercise answers, model answers, hidden tests and trainer notes. Then a real kernel,
given only the bundle, runs the key-reading cell of the attack and finds nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient

from grading.builder import GRADING_ROOT
from netralitas.cli import main
from netralitas.content.bundle import BundleError, FullContentRefused, load_learner_bundle
from netralitas.content.loader import load_course
from netralitas.content.models import LoadedCourse
from netralitas.widgets import common
from tests.conftest import CONTENT, MINI, ROOT
from tests.notebooks.conftest import IpcKernelManager, build_bundle, fast_client, register

BIN = Path(sys.executable).parent
# Keys that only the question bank, the exercises or trainer material have.
BANNED_KEYS = {
    "correct",
    "choices",
    "explanation",
    "questions",
    "exercises",
    "answer",
    "model_answer",
    "rubric",
    "classification",
    "case_analysis",
    "trainer_note",
    "note",
}


# -- what is secret, and what learners read anyway ---------------------------------------------


def strings(node: Any) -> Iterator[str]:
    """Every string in a parsed JSON tree: dict keys and values, list items."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in keys(v)}
    if isinstance(node, list):
        return {k for item in node for k in keys(item)}
    return set()


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True)


def _without(node: Any, drop: set[str]) -> Any:
    if isinstance(node, dict):
        return {k: _without(v, drop) for k, v in node.items() if k not in drop}
    if isinstance(node, list):
        return [_without(v, drop) for v in node]
    return node


def study_material(full: LoadedCourse) -> str:
    """Everything learners are meant to read, taken from the full content: lessons, cases, rules."""
    trees = [_dump(full.course), *(_dump(r) for r in full.rules.values())]
    for mod in full.modules:
        trees += [_dump(mod.lesson.meta), mod.lesson.body, _dump(mod.cases)]
    return "\n".join(s for tree in trees for s in strings(_without(tree, {"note", "trainer_note"})))


def secrets(full: LoadedCourse, *, released_exercises: bool = False) -> dict[str, str]:
    """Secret text -> what it is. With ``released_exercises``, the exercise material a learner is given
    in the released assignment (situations, prompt, rubric) is not secret; its answers still are."""
    out: dict[str, str] = {}
    for mod in full.modules:
        for q in mod.questions.questions:
            out[q.id] = f"question id {q.id}"
            out[q.text] = f"question text {q.id}"
            out[q.explanation] = f"explanation {q.id}"
            if q.scenario:
                out[q.scenario] = f"scenario {q.id}"
            for c in q.choices:
                out[c.text] = f"choice {q.id}/{c.id}"
        ex = mod.exercises
        out[ex.case_analysis.model_answer] = f"model answer {ex.case_analysis.id}"
        if not released_exercises:
            out[ex.classification.id] = f"exercise id {ex.classification.id}"
            out[ex.case_analysis.id] = f"exercise id {ex.case_analysis.id}"
            for item in ex.classification.items:
                out[item.id] = f"exercise item {item.id}"
                out[item.situation] = f"exercise situation {item.id}"
    for rule in full.rules.values():
        if rule.note:
            out[rule.note] = f"trainer note of rule {rule.id}"
    for mod in full.modules:
        items = [mod.lesson.meta, mod.exercises.classification, mod.exercises.case_analysis]
        for item in [*items, *mod.cases.cases, *mod.questions.questions]:
            if item.trainer_note:
                out[item.trainer_note] = f"trainer note of {getattr(item, 'id', mod.id)}"
    return out


def answer_patterns(full: LoadedCourse) -> list[tuple[re.Pattern, str]]:
    """An item id next to its answer, as a solution or a hidden test writes it."""
    return [
        (re.compile(rf"{re.escape(item.id)}[\"'\]\s:=]{{1,12}}{re.escape(item.answer.value)}\b"), item.id)
        for mod in full.modules
        for item in mod.exercises.classification.items
    ]


def scan(trees: dict[str, Any], full: LoadedCourse, *, released_exercises: bool = False) -> list[str]:
    """Every secret found in ``trees`` (name -> parsed JSON), except text that is study material anyway."""
    material = study_material(full)
    wanted = {s: what for s, what in secrets(full, released_exercises=released_exercises).items() if s not in material}
    found = []
    for name, tree in trees.items():
        found += [f"{name}: key {k!r}" for k in sorted(keys(tree) & BANNED_KEYS)]
        text = "\n".join(strings(tree))
        found += [f"{name}: {what}" for s, what in wanted.items() if s in text]
        found += [f"{name}: answer of {item}" for pattern, item in answer_patterns(full) if pattern.search(text)]
        found += [f"{name}: nbgrader marker {m}" for m in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS") if m in text]
    return found


def bundle_trees(folder: Path) -> dict[str, Any]:
    return {p.relative_to(folder).as_posix(): json.loads(p.read_bytes()) for p in sorted(folder.rglob("*.json"))}


def notebook_trees(paths: list[Path]) -> dict[str, Any]:
    # nbformat joins each cell's source into one string, so a secret split over lines is still found.
    return {p.name: json.loads(json.dumps(nbformat.read(p, as_version=4))) for p in paths}


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full() -> LoadedCourse:
    return load_course(CONTENT)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The learner bundle and every learner notebook, built with the real commands."""
    root = tmp_path_factory.mktemp("learner-side")
    runner = CliRunner()
    bundle = runner.invoke(main, ["build", "learner-bundle", "--out", str(root / "bundle"), str(CONTENT)])
    assert bundle.exit_code == 0 and "Tanpa bank soal" in bundle.output, bundle.output
    books = runner.invoke(main, ["build", "notebooks", "--out", str(root / "notebooks"), str(CONTENT)])
    assert books.exit_code == 0, books.output
    return {"bundle": root / "bundle", "notebooks": root / "notebooks"}


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """The nbgrader exercise notebooks as learners receive them: real ``nbgrader generate_assignment``."""
    root = tmp_path_factory.mktemp("kursus")
    shutil.copy(GRADING_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    run = subprocess.run(
        [str(BIN / "netralitas"), "grade", "release", "--root", str(root), "--content", str(CONTENT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return root


# -- the bundle: in and out --------------------------------------------------------------------


def test_the_bundle_is_only_a_manifest_rules_and_modules(built, full):
    folder = built["bundle"]
    manifest = json.loads((folder / "bundle.json").read_text())
    assert manifest["kind"] == "netralitas-learner-bundle" and manifest["format_version"] == 1
    assert manifest["content_version"] == full.course.content_version
    assert manifest["legal_state_date"] == full.course.legal_state_date.isoformat()
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert files == sorted(["bundle.json", *manifest["files"]])
    assert set(manifest["files"]) == {"rules.json", *(f"modules/{m.ref.dir}.json" for m in full.modules)}


def test_no_bundle_file_and_no_learner_notebook_carries_a_key(built, full):
    notebooks = sorted(built["notebooks"].glob("*.ipynb"))
    assert len(notebooks) == len(full.modules) + 1
    trees = bundle_trees(built["bundle"]) | notebook_trees(notebooks)
    assert scan(trees, full) == []
    raw = "\n".join(p.read_text(encoding="utf-8") for p in [*built["bundle"].rglob("*.json"), *notebooks])
    assert '"correct"' not in raw and "correct:" not in raw


def test_released_exercises_carry_no_answer_model_answer_or_hidden_test(released, full):
    notebooks = sorted((released / "release").rglob("*.ipynb"))
    assert len(notebooks) == len(full.modules)
    assert scan(notebook_trees(notebooks), full, released_exercises=True) == []


def test_the_scan_finds_what_it_looks_for(built, released, full, tmp_path):
    """A scan that found nothing proves something only if it finds a planted key."""
    # The nbgrader source notebooks (trainer side) hold the solutions and hidden tests.
    source = scan(notebook_trees(sorted((released / "source").rglob("*.ipynb"))), full, released_exercises=True)
    assert any("answer of" in f for f in source) and any("model answer" in f for f in source)
    assert any("BEGIN HIDDEN TESTS" in f for f in source)
    # A bundle with one question of the bank added to a module file.
    planted = tmp_path / "bundle"
    shutil.copytree(built["bundle"], planted)
    mod = full.modules[0]
    path = planted / "modules" / f"{mod.ref.dir}.json"
    data = json.loads(path.read_text())
    data["cases"]["cases"][0]["facts"] += " " + mod.questions.questions[3].explanation
    data["quiz"] = [_dump(mod.questions.questions[0])]
    path.write_text(json.dumps(data, ensure_ascii=False))
    found = scan(bundle_trees(planted), full)
    assert any("key 'correct'" in f for f in found) and any("explanation" in f for f in found)
    assert any(f"question text {mod.questions.questions[0].id}" in f for f in found)


def test_the_bundle_still_carries_lessons_cases_and_rules(built, full):
    learner = load_learner_bundle(built["bundle"])
    assert learner.course.title == full.course.title and len(learner.modules) == len(full.modules)
    assert set(learner.rules) == set(full.rules)
    assert all(r.note is None for r in learner.rules.values())
    for mine, theirs in zip(learner.modules, full.modules, strict=True):
        assert mine.ref == theirs.ref and mine.lesson.body == theirs.lesson.body
        assert mine.lesson.meta.objectives == theirs.lesson.meta.objectives
        assert [c.id for c in mine.cases.cases] == [c.id for c in theirs.cases.cases]
        for c, t in zip(mine.cases.cases, theirs.cases.cases, strict=True):
            assert (c.facts, c.verdict, c.analysis, c.rules) == (t.facts, t.verdict, t.analysis, t.rules)
            assert c.trainer_note is None
        assert not hasattr(mine, "questions") and not hasattr(mine, "exercises")


def test_the_committed_bundle_is_the_one_the_command_builds(built):
    committed = ROOT / "notebooks" / "bundle"
    assert bundle_trees(committed) == bundle_trees(built["bundle"])


# -- a learner kernel refuses the full content -------------------------------------------------


@pytest.fixture
def fresh_course_cache():
    common._bundle_at.cache_clear()
    yield
    common._bundle_at.cache_clear()


def test_widgets_refuse_a_full_content_folder(monkeypatch, fresh_course_cache, tmp_path):
    monkeypatch.setenv("NETRALITAS_LEARNER_BUNDLE", str(CONTENT))
    with pytest.raises(FullContentRefused) as refused:
        common.course()
    assert (
        "bukan bundel peserta" in refused.value.message and "netralitas build learner-bundle" in refused.value.message
    )
    # A bundle with a question bank dropped into it is refused the same way.
    mixed = build_bundle(MINI, tmp_path / "mixed")
    (mixed / "modules" / "01-contoh").mkdir()
    shutil.copy(MINI / "modules" / "01-contoh" / "questions.yaml", mixed / "modules" / "01-contoh")
    with pytest.raises(FullContentRefused):
        load_learner_bundle(mixed)


def test_a_damaged_or_missing_bundle_is_refused_in_indonesian(tmp_path):
    with pytest.raises(BundleError, match="tidak ditemukan"):
        load_learner_bundle(tmp_path / "tidak-ada")
    bundle = build_bundle(MINI, tmp_path / "bundle")
    rules = bundle / "rules.json"
    rules.write_text(rules.read_text().replace("PP 94/2021", "PP 95/2021"))
    with pytest.raises(BundleError, match="rusak atau diubah"):
        load_learner_bundle(bundle)
    not_empty = tmp_path / "lain"
    not_empty.mkdir()
    (not_empty / "catatan.txt").write_text("milik orang lain")
    run = CliRunner().invoke(main, ["build", "learner-bundle", "--out", str(not_empty), str(MINI)])
    assert run.exit_code == 1 and "bukan bundel peserta" in run.output
    assert sorted(p.name for p in not_empty.iterdir()) == ["catatan.txt"]


def test_learner_bundle_check_names_stale_files(tmp_path):
    out = tmp_path / "bundle"

    def run(*extra: str):
        return CliRunner().invoke(main, ["build", "learner-bundle", "--out", str(out), str(MINI), *extra])

    assert run("--check").exit_code == 1 and not out.exists()
    assert run().exit_code == 0 and run("--check").exit_code == 0
    (out / "modules" / "01-contoh.json").write_text("{}")
    stale = run("--check")
    assert stale.exit_code == 1 and "modules/01-contoh.json" in stale.output


# -- every widget from the bundle alone, in a real kernel --------------------------------------

# Installed first in the kernel: every file the kernel opens from now on is recorded.
AUDIT_CELL = """\
import sys
OPENED = []
sys.addaudithook(lambda event, args: OPENED.append(str(args[0])) if event == "open" and args else None)
"""

# The attack: read the key through the kit's own loader, the way the ten-line cell did.
ATTACK_CELL = """\
import json, pathlib
from netralitas.widgets.common import bundle_path, course
c = course()
keys = {q.id: [ch.id for ch in q.choices if ch.correct]
        for m in c.modules for q in getattr(getattr(m, "questions", None), "questions", [])}
flags = sum(p.read_text(encoding="utf-8").count('"correct"') for p in pathlib.Path(bundle_path()).rglob("*") if p.is_file())
exercises = [m.id for m in c.modules if hasattr(m, "exercises")]
print(json.dumps({"keys": keys, "flags": flags, "exercises": exercises, "held": c.model_dump(mode="json", exclude_none=True)}))
"""

REPORT_CELL = "print(json.dumps(sorted(set(OPENED))))"


def _kernel_notebook(module_books: list[Path]) -> nbformat.NotebookNode:
    """One notebook: the audit hook, every widget cell of the built notebooks, the attack, the report."""
    widget_cells: list[str] = []
    for path in module_books:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and cell.source not in widget_cells:
                widget_cells.append(cell.source)
    sources = [AUDIT_CELL, *widget_cells, ATTACK_CELL, REPORT_CELL]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def _stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def test_a_kernel_with_only_the_bundle_builds_every_widget_and_finds_no_key(
    built, full, real_live, tmp_path, monkeypatch
):
    bundle = shutil.copytree(built["bundle"], tmp_path / "elsewhere" / "bundle")
    config = tmp_path / "learner"
    learner = register(fast_client(real_live.url, config))
    monkeypatch.setenv("NETRALITAS_LEARNER_BUNDLE", str(bundle))
    monkeypatch.setenv("NETRALITAS_SERVER", real_live.url)
    monkeypatch.setenv("NETRALITAS_CONFIG_DIR", str(config))
    monkeypatch.delenv("NETRALITAS_CONTENT", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    nb = _kernel_notebook(sorted(built["notebooks"].glob("*.ipynb")))
    client = NotebookClient(
        nb,
        kernel_manager_class=IpcKernelManager,
        timeout=180,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(work)}},
    )
    with ThreadPoolExecutor(1) as pool:  # a session-wide Playwright browser may own this thread's event loop
        pool.submit(asyncio.run, client.async_execute()).result()

    for cell in nb.cells:
        assert not [o for o in cell.outputs if o.output_type == "error"], (cell.source, cell.outputs)
    widgets = nb.cells[1:-2]
    assert all(any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in c.outputs) for c in widgets)

    attack = json.loads(_stdout(nb.cells[-2]))
    assert attack["keys"] == {} and attack["flags"] == 0 and attack["exercises"] == []
    assert scan({"course()": attack["held"]}, full) == []  # nothing the kernel holds is a secret

    opened = [Path(p) for p in json.loads(_stdout(nb.cells[-1]))]
    content = CONTENT.resolve()
    assert [p for p in opened if p.resolve().is_relative_to(content)] == []  # never read content/
    assert any(p.resolve().is_relative_to(bundle.resolve()) for p in opened)  # it read the bundle
    assert learner["nip"] in json.dumps(nb.metadata["widgets"])  # the widgets talked to the server as this learner
    assert real_live.sql("SELECT count(*) FROM attempts")[0][0] == 0


# -- the server's bank can live outside the repository -----------------------------------------


def test_the_server_reads_its_bank_from_netralitas_bank(tmp_path):
    bank = shutil.copytree(MINI, tmp_path / "bank-instansi")  # outside the repository
    env = {
        **os.environ,
        "NETRALITAS_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bank.sqlite'}",
        "NETRALITAS_CONTENT": str(CONTENT),  # NETRALITAS_BANK wins over it
        "NETRALITAS_BANK": str(bank),
    }
    run = subprocess.run(
        [str(BIN / "netralitas"), "content", "load"], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Konten versi 1.0.0 dimuat" in run.stdout  # the mini bank's version, not content/'s 2.0.0
