"""Build the learner notebooks from content, as an ordered pipeline of small steps.

Each step appends a few cells to a :class:`Page`. Markdown is short Indonesian
text or the lesson itself; code cells are one-liners that build a widget, so a
learner never has to read or type code (Voila hides them; JupyterLab shows them
collapsed). The builder gets only the learner view of the course
(:class:`~netralitas.content.bundle.LearnerCourse`, the same as the learner bundle), which has no
question bank and no exercises: quiz questions come from the server at run time, so no notebook
can carry a key.
The output is deterministic (stable cell ids, no timestamps) so
``netralitas build notebooks --check`` can compare it byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from netralitas import advisor, election
from netralitas.content.bundle import LearnerCourse, LearnerModule

START = "00-mulai"
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
HOW_TO = (
    "**Cara memakai:** baca materinya, lalu gunakan tombol dan pilihan yang muncul. Anda tidak perlu menulis "
    "kode. (Di JupyterLab, jalankan dulu menu *Run → Run All Cells*.)"
)


@dataclass
class Page:
    name: str
    course: LearnerCourse
    module: LearnerModule | None = None
    cells: list = field(default_factory=list)

    def markdown(self, key: str, text: str) -> None:
        self.cells.append(("md", key, text.strip()))

    def widget(self, key: str, call: str) -> None:
        name = call.split("(", 1)[0]
        self.cells.append(("code", key, f"from netralitas.widgets import {name}; {call}"))


Step = Callable[[Page], None]


def notebook_name(module: LearnerModule) -> str:
    return module.ref.dir


def _number(course: LearnerCourse, module: LearnerModule) -> int:
    return course.modules.index(module) + 1


# -- start notebook ----------------------------------------------------------------------------


def start_intro(page: Page) -> None:
    c = page.course.course
    page.markdown(
        "intro",
        f"# Selamat datang: {c.title}\n\n"
        f"Kursus ini terdiri atas {len(page.course.modules)} modul ({c.jp_credit} JP). Setiap modul berisi materi, "
        "studi kasus, dan kuis dengan umpan balik yang mengutip aturan. Materi ini alat bantu belajar, "
        f"bukan nasihat hukum (keadaan hukum per {c.legal_state_date:%d-%m-%Y}).\n\n{HOW_TO}",
    )


def start_connection(page: Page) -> None:
    page.markdown(
        "login-intro",
        "## 1. Masuk atau daftar\n\nDaftar sekali dengan NIP Anda, lalu masuk. Di JupyterLab cukup masuk sekali "
        "untuk semua modul. Di Voila setiap halaman meminta Anda masuk sendiri, agar peserta lain di server yang "
        "sama tidak memakai akun Anda.",
    )
    page.widget("login", "connection(show_server=True)")


def start_modules(page: Page) -> None:
    # A widget, not Markdown links: Voila's single-notebook mode answers 403 to every other notebook,
    # so the list links only where the folder is served (netralitas.widgets.navigation).
    page.markdown("modules", "## 2. Daftar modul")
    page.widget("module-list", "module_list()")


def start_progress(page: Page) -> None:
    page.markdown("progress-intro", "## 3. Kemajuan Anda")
    page.widget("progress", "progress()")


def start_tools(page: Page) -> None:
    page.markdown(
        "tools-intro",
        "## 4. Alat bantu\n\nCek sebuah situasi, telusuri sanksi, atau hitung masa larangan mengganti pejabat.",
    )
    if advisor.acts(page.course):
        page.widget("checker", "cek_tindakan()")
    page.widget("sanctions", "sanction_explorer()")
    if election.WINDOW_RULE in page.course.rules:
        page.widget("calendar", "election_calendar()")


# -- module notebooks --------------------------------------------------------------------------


def module_intro(page: Page) -> None:
    assert page.module
    n, total = _number(page.course, page.module), len(page.course.modules)
    goals = "\n".join(f"- {o}" for o in page.module.lesson.meta.objectives)
    page.markdown(
        "intro",
        f"**Modul {n} dari {total}** · {page.course.course.title}\n\n{HOW_TO}\n\n**Setelah modul ini Anda dapat:**\n\n"
        f"{goals}",
    )


def module_connection(page: Page) -> None:
    # Login first: a learner who opens this notebook directly needs it for the quiz below.
    page.widget("login", "connection()")


def module_lesson(page: Page) -> None:
    assert page.module
    # Split at level-2 headings so each part is a short cell; the text itself is verbatim.
    for i, part in enumerate(re.split(r"(?m)^(?=## )", page.module.lesson.body), start=1):
        if part.strip():
            page.markdown(f"lesson-{i:02d}", part)


def module_cases(page: Page) -> None:
    assert page.module
    page.markdown(
        "cases-intro",
        "## Latihan: studi kasus\n\nTerapkan materi di atas pada kasus nyata. Tentukan putusan Anda dulu, baru "
        "lihat pembahasannya.",
    )
    page.widget("cases", f'case_explorer("{page.module.id}")')


def module_tools(page: Page) -> None:
    """Tools whose rules the lesson itself teaches, so each tool sits next to its lesson."""
    assert page.module
    cited = set(page.module.lesson.meta.rules)
    acts = {r.id for r in advisor.acts(page.course)}
    if cited & acts:
        page.markdown("checker-intro", "## Alat bantu: Cek Tindakan\n\nCoba terapkan matriks SKB pada sebuah situasi.")
        page.widget("checker", "cek_tindakan()")
    if election.WINDOW_RULE in cited:
        page.markdown("calendar-intro", "## Alat bantu: kalender pilkada")
        page.widget("calendar", "election_calendar()")


def module_quiz(page: Page) -> None:
    assert page.module
    page.markdown(
        "quiz-intro",
        "## Kuis\n\nSoal diambil dari server saat Anda mulai. Bila koneksi putus ketika mengirim, jawaban disimpan "
        "di perangkat ini dan dikirim lagi nanti tanpa terhitung dua kali.",
    )
    page.widget("quiz", f'quiz("{page.module.id}")')


def module_progress(page: Page) -> None:
    page.widget("progress", "progress()")


def module_next(page: Page) -> None:
    assert page.module
    # A link only where the next notebook is served (see start_modules).
    page.widget("next", f'module_nav("{page.module.id}")')


# Order matters: login before anything that calls the server; the lesson before the cases and
# tools that practise it; the quiz after all of them; progress last, so it shows the quiz just taken.
START_STEPS: list[Step] = [start_intro, start_connection, start_modules, start_progress, start_tools]
MODULE_STEPS: list[Step] = [
    module_intro,
    module_connection,
    module_lesson,
    module_cases,
    module_tools,
    module_quiz,
    module_progress,
    module_next,
]


def to_notebook(page: Page) -> nbformat.NotebookNode:
    """Cells with stable ids (step key, unique per page) and metadata without timestamps."""
    cells = []
    for kind, key, source in page.cells:
        if kind == "md":
            cell = new_markdown_cell(source, id=key)
        else:
            cell = new_code_cell(source, id=key)
            # Collapsed in JupyterLab; Voila never shows code.
            cell.metadata = {"jupyter": {"source_hidden": True}, "tags": ["widget"]}
        cells.append(cell)
    meta = {"generated_by": "netralitas build notebooks", "content_version": page.course.course.content_version}
    if page.module:
        meta["module_id"] = page.module.id
    nb = new_notebook(
        cells=cells,
        metadata={"kernelspec": KERNEL, "language_info": {"name": "python"}, "netralitas": meta},
    )
    nbformat.validate(nb)
    return nb


def build(course: LearnerCourse) -> dict[str, str]:
    """File name -> notebook text, for the start notebook and every module."""
    pages = [Page(START, course)] + [Page(notebook_name(m), course, m) for m in course.modules]
    out = {}
    for page in pages:
        for step in MODULE_STEPS if page.module else START_STEPS:
            step(page)
        keys = [key for _, key, _ in page.cells]
        assert len(keys) == len(set(keys)), f"duplicate cell ids in {page.name}"
        out[f"{page.name}.ipynb"] = nbformat.writes(to_notebook(page)) + "\n"
    return out


def write(course: LearnerCourse, folder: Path, *, check: bool = False) -> list[Path]:
    """Write the notebooks (or only compare them when ``check``); return the files that were stale."""
    stale = []
    for name, text in build(course).items():
        target = folder / name
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target)
        if not check:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return stale
