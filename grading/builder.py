"""Content exercises -> nbgrader source notebooks, as an ordered pipeline of small steps.

Order matters only in that each step appends cells: intro, classification
(instructions, answer cell, one autograded test cell per item), case analysis
(situation and rubric, the manually graded answer cell), then the hand-in cell.
Solutions and hidden tests are marked with nbgrader's delimiters, so
``nbgrader generate_assignment`` strips them from the release version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from netralitas.content.models import LoadedCourse, Module
from netralitas.labels import VERDICT

GRADING_ROOT = Path(__file__).resolve().parent
Step = Callable[[Module, list], None]


def assignment_name(module: Module) -> str:
    return f"{module.id}-latihan"


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float = 0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell_id(grade_id: str) -> str:
    return grade_id.replace("_", "-")[:64]


def intro(module: Module, cells: list) -> None:
    cells.append(
        new_markdown_cell(
            f"# Latihan modul {module.id[1:]}: {module.ref.title}\n\n"
            "Latihan ini dinilai. Bagian 1 dinilai otomatis; bagian 2 dinilai pelatih dengan rubrik.\n"
            "Setelah selesai, simpan notebook lalu tekan tombol **Kirim latihan** di bagian akhir.",
            id=_cell_id(f"{module.id}-intro"),
        )
    )


def classification(module: Module, cells: list) -> None:
    ex = module.exercises.classification
    choices = "\n".join(f"- `{key}`: {label}" for key, label in ((k.value, v) for k, v in VERDICT.items()))
    situations = "\n".join(f"{i}. **{it.id}**: {it.situation}" for i, it in enumerate(ex.items, start=1))
    cells.append(
        new_markdown_cell(
            f"## Bagian 1: {ex.title}\n\n{ex.instructions}\n\nPilihan jawaban:\n{choices}\n\n{situations}\n\n"
            "Tulis jawaban Anda di sel berikut, satu baris per situasi, persis seperti contoh.",
            id=_cell_id(f"{ex.id}-soal"),
        )
    )
    key_lines = "\n".join(f'    "{it.id}": "{it.answer.value}",' for it in ex.items)
    cells.append(
        new_code_cell(
            f"jawaban = {{\n### BEGIN SOLUTION\n{key_lines}\n### END SOLUTION\n}}",
            metadata=_meta(f"{ex.id}-jawaban", grade=False, solution=True, locked=False),
            id=_cell_id(f"{ex.id}-jawaban"),
        )
    )
    per_item = ex.points / len(ex.items)
    # Exact built-in types: a str subclass with an __eq__ that always holds must not pass (the
    # answer cell is parsed as data by grading.preprocessors.ParseAnswers; this is a second wall).
    valid = json.dumps(sorted(k.value for k in VERDICT))
    for it in ex.items:
        cells.append(
            new_code_cell(
                f"# Pemeriksaan otomatis untuk {it.id}\n"
                f'assert type(jawaban) is dict, "jawaban harus berupa kamus {{...}}"\n'
                f'assert type(jawaban.get("{it.id}")) is str and jawaban["{it.id}"] in {valid}, '
                f'"isi jawaban untuk {it.id} dengan salah satu pilihan"\n'
                f"### BEGIN HIDDEN TESTS\n"
                f'assert type(jawaban["{it.id}"]) is str and jawaban["{it.id}"] == "{it.answer.value}"\n'
                f"### END HIDDEN TESTS",
                metadata=_meta(f"{it.id}-uji", grade=True, solution=False, locked=True, points=round(per_item, 4)),
                id=_cell_id(f"{it.id}-uji"),
            )
        )


def case_analysis(module: Module, cells: list) -> None:
    ex = module.exercises.case_analysis
    rubric = "\n".join(f"| {row.criterion} | {row.points} |" for row in ex.rubric)
    cells.append(
        new_markdown_cell(
            f"## Bagian 2: {ex.title}\n\n{ex.situation}\n\n**Tugas:** {ex.prompt}\n\n"
            f"Rubrik penilaian:\n\n| Kriteria | Poin |\n|---|---|\n{rubric}",
            metadata=_meta(f"{ex.id}-soal", grade=False, solution=False, locked=True),
            id=_cell_id(f"{ex.id}-soal"),
        )
    )
    cells.append(
        new_markdown_cell(
            ex.model_answer,
            metadata=_meta(
                f"{ex.id}-jawaban", grade=True, solution=True, locked=False, points=sum(r.points for r in ex.rubric)
            ),
            id=_cell_id(f"{ex.id}-jawaban"),
        )
    )


def hand_in(module: Module, cells: list) -> None:
    cells.append(
        new_markdown_cell(
            "## Kirim latihan\n\nSimpan notebook (Ctrl+S), lalu jalankan sel di bawah dan tekan tombolnya.",
            id=_cell_id(f"{module.id}-kirim-teks"),
        )
    )
    cells.append(
        new_code_cell(
            f'from netralitas.widgets.exercise import ExerciseSubmit\nExerciseSubmit("{assignment_name(module)}")',
            id=_cell_id(f"{module.id}-kirim"),
        )
    )


# The pipeline; each step appends cells for one part of the exercise.
PIPELINE: list[Step] = [intro, classification, case_analysis, hand_in]


def build_notebook(module: Module) -> nbformat.NotebookNode:
    cells: list = []
    for step in PIPELINE:
        step(module, cells)
    nb = new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def build(course: LoadedCourse, root: Path = GRADING_ROOT, *, check: bool = False) -> list[Path]:
    """Write (or with ``check``, compare) one source notebook per module; return stale paths."""
    stale = []
    for module in course.modules:
        name = assignment_name(module)
        path = root / "source" / name / f"{name}.ipynb"
        text = render(build_notebook(module))
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return stale
