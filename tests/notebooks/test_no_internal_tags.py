"""No internal tag ("[SEED-0]", "(SEED-1)", "Scribd", "salah cetak" ...) reaches a learner's notebook or bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

from netralitas.content.lint import internal_tags_in_learner_files
from tests.notebooks.test_build import NOTEBOOKS


def learner_files(notebooks: Path, bundle: Path) -> list[Path]:
    return sorted(notebooks.glob("*.ipynb")) + sorted(bundle.rglob("*.json"))


def test_committed_notebooks_and_bundle_carry_no_internal_tag():
    files = learner_files(NOTEBOOKS, NOTEBOOKS / "bundle")
    assert len(files) > 10
    assert internal_tags_in_learner_files(files) == []


def test_a_fresh_bundle_keeps_source_links_but_drops_internal_source_ids(real_bundle):
    assert internal_tags_in_learner_files(sorted(real_bundle.rglob("*.json"))) == []
    rules = json.loads((real_bundle / "rules.json").read_text())["rules"]
    sources = [s for r in rules for s in r["sources"]]
    assert sources and all(s.startswith(("http://", "https://")) for s in sources)
    assert any("scribd.com" in s for s in sources)  # a link names its host; that is not a remark to learners


def test_the_lint_finds_planted_tags_in_a_notebook_and_a_bundle(real_bundle, tmp_path):
    bundle = shutil.copytree(real_bundle, tmp_path / "bundle")
    module = next((bundle / "modules").glob("*.json"))
    data = json.loads(module.read_text())
    data["cases"]["cases"][0]["facts"] += " Dikutip dari pindaian di Scribd [SEED-0]."
    module.write_text(json.dumps(data, ensure_ascii=False))
    nb = nbformat.read(NOTEBOOKS / "01-mengapa-netral.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Pasal ini ada salah cetak (SEED-1).", id="planted"))
    planted = tmp_path / "01-planted.ipynb"
    nbformat.write(nb, planted)

    found = internal_tags_in_learner_files([module, planted])
    by_file = {f.file: f.message for f in found}
    assert set(by_file) == {str(module), str(planted)}
    assert "'[SEED-'" in by_file[str(module)] and "'Scribd'" in by_file[str(module)]
    assert "'salah cetak'" in by_file[str(planted)] and "'SEED-n'" in by_file[str(planted)]
    assert all(f.code == "internal_tag" for f in found)
