"""nbgrader preprocessors that keep learner code out of the kernel that runs the tests.

In the order ``grading/nbgrader_config.py`` runs them during ``autograde`` (sanitising phase, after
nbgrader's ``OverwriteCells`` has put the locked test cells back to their source text):

1. ``ParseAnswers``: a data answer cell (``jawaban = {...}``) is *read*, never run: its source is
   replaced by the canonical ``repr`` of ``ast.literal_eval`` of the value, or, when it is not a
   plain literal, by ``jawaban = None`` and an Indonesian feedback line (the tests then score 0).
2. ``DisableLearnerCode``: every other code cell that is not a locked cell of the source notebook
   (cells the learner added or changed, the hand-in button) is commented out, so no learner code
   runs before or after the tests (it could otherwise rewrite them with an input transformer or read
   them back from ``In``).
3. ``ClearCellTags``: tags are learner-editable; ``skip-execution`` would make nbclient skip a test
   cell and so score it as passed.

``SafeMarkdown`` is a Jinja filter for the HTML that trainers' and learners' browsers render
(formgrader, feedback): nbgrader's templates render markdown cells without the exporter's
``sanitize_html`` switch, and markdown alone can make a ``javascript:`` link.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import bleach
import jinja2
from bleach.css_sanitizer import CSSSanitizer
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode
from traitlets.config import LoggingConfigurable

NOT_DATA = "Jawaban harus berupa teks pilihan, bukan kode."
TOO_LONG = "Jawaban terlalu panjang untuk dibaca sebagai data."
DISABLED = "# Sel kode tambahan ini tidak dijalankan saat penilaian otomatis (hanya jawaban data yang dibaca)."


def _comment_out(source: str) -> str:
    # splitlines() splits on every character Python treats as a line break (and more), so no
    # line of the original can end the comment early.
    return "\n".join(f"# | {line}" for line in source.splitlines())


def assigned_name(source: str) -> str | None:
    """``NAME`` when ``source`` is exactly one statement ``NAME = <literal>``, else None."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if len(tree.body) != 1 or not isinstance(stmt := tree.body[0], ast.Assign):
        return None
    if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
        return None
    return stmt.targets[0].id


def canonical_answer(source: str, name: str, *, max_chars: int = 20_000) -> tuple[str, str | None]:
    """(new cell source, feedback or None). The new source only ever binds ``name`` to a literal."""
    problem = TOO_LONG if len(source) > max_chars else None
    value: Any = None
    if problem is None:
        try:
            tree = ast.parse(source)
            stmt = tree.body[0] if len(tree.body) == 1 else None
            if (
                not isinstance(stmt, ast.Assign)
                or len(stmt.targets) != 1
                or not isinstance(stmt.targets[0], ast.Name)
                or stmt.targets[0].id != name
            ):
                raise ValueError("not NAME = literal")
            value = ast.literal_eval(stmt.value)  # comments are gone once parsed
            text = f"{name} = {value!r}"
            if ast.literal_eval(text.split(" = ", 1)[1]) != value:  # e.g. 1e999 -> inf
                raise ValueError("not round-trippable")
        except Exception:
            problem = NOT_DATA
    if problem is None:
        return f"# Jawaban dibaca sebagai data, tidak dijalankan.\n{text}", None
    return (
        f"# {problem} Sel asli tidak dijalankan:\n{_comment_out(source[:max_chars])}\n"
        f"{name} = None\nprint({problem!r})",
        problem,
    )


class _SourceCells:
    """The source notebook's cells (from the gradebook) for the notebook being autograded."""

    def source_cells(self, resources: dict) -> dict[str, Any]:
        nbg = resources["nbgrader"]
        with Gradebook(nbg["db_url"]) as gb:
            nb = gb.find_notebook(nbg["notebook"], nbg["assignment"])
            solutions = {c.name for c in nb.solution_cells}
            return {
                c.name: {
                    "locked": c.locked,
                    "cell_type": c.cell_type,
                    "source": c.source,
                    "solution": c.name in solutions,
                }
                for c in nb.source_cells
            }


def _grade_id(cell: Any) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def data_answer_names(cells: dict[str, Any]) -> dict[str, str]:
    """grade_id -> variable name for the source's code solution cells of the form ``NAME = literal``."""
    out = {}
    for grade_id, c in cells.items():
        if c["solution"] and not c["locked"] and c["cell_type"] == "code":
            name = assigned_name(c["source"] or "")
            if name:
                out[grade_id] = name
    return out


class ParseAnswers(NbGraderPreprocessor, _SourceCells):
    """Replace each data answer cell by the canonical literal it holds (see the module docstring)."""

    max_answer_chars = Integer(20_000, help="Longest answer cell read as data; longer ones score 0.").tag(config=True)

    def preprocess(self, nb, resources):
        names = data_answer_names(self.source_cells(resources))
        for cell in nb.cells:
            grade_id = _grade_id(cell)
            if cell.cell_type == "code" and grade_id in names:
                cell.source, problem = canonical_answer(cell.source, names[grade_id], max_chars=self.max_answer_chars)
                if problem:
                    self.log.warning("Jawaban %s bukan data: %s", grade_id, problem)
        return nb, resources


class DisableLearnerCode(NbGraderPreprocessor, _SourceCells):
    """Comment out every code cell that is neither a locked source cell nor a data answer cell.

    Set ``DisableLearnerCode.enabled = False`` only for a course whose exercises are code the
    learner writes; that code then runs in the sandbox, in the same kernel as the tests.
    """

    notice = Unicode(DISABLED, help="First line of a disabled cell.").tag(config=True)

    def preprocess(self, nb, resources):
        cells = self.source_cells(resources)
        answers = data_answer_names(cells)
        for cell in nb.cells:
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            grade_id = _grade_id(cell)
            src = cells.get(grade_id or "")
            trusted = src is not None and src["locked"] and cell.source == src["source"]
            if trusted or grade_id in answers:
                continue
            cell.source = f"{self.notice}\n{_comment_out(cell.source)}"
        return nb, resources


class ClearCellTags(NbGraderPreprocessor):
    """Drop every cell's tags (``skip-execution``, ``raises-exception``) before execution."""

    def preprocess_cell(self, cell, resources, index):
        cell.metadata.pop("tags", None)
        return cell, resources


# --- HTML that a browser renders -------------------------------------------------------------

_TAGS = frozenset(
    bleach.ALLOWED_TAGS
    | {"p", "br", "hr", "div", "span", "pre", "code", "kbd", "sub", "sup", "del", "s", "u", "small"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "img", "dl", "dt", "dd"}
)
_URL_OK = re.compile(r"^(https?:|mailto:|#|/(?!/)|[^:/?#]*(?:[/?#]|$))", re.IGNORECASE)
_IMG_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,", re.IGNORECASE)


def _attribute_ok(tag: str, name: str, value: str) -> bool:
    if name in {"class", "id", "title", "alt", "align", "colspan", "rowspan", "style"}:
        return True
    if tag == "a" and name == "href":
        return bool(_URL_OK.match(value.strip()))
    if tag == "img" and name == "src":
        v = value.strip()
        return bool(_IMG_DATA.match(v) or (_URL_OK.match(v) and not v.lower().startswith("mailto:")))
    return False


def clean(html: str) -> str:
    """Rendered HTML with scripts, event handlers, ``javascript:``/``data:`` links and frames removed."""
    return bleach.clean(
        html,
        tags=_TAGS,
        attributes=_attribute_ok,
        protocols={"http", "https", "mailto", "data"},  # data: is narrowed to images above
        strip=True,
        strip_comments=True,
        css_sanitizer=CSSSanitizer(),
    )


class SafeMarkdown(LoggingConfigurable):
    """``markdown2html`` for ``HTMLExporter.filters``: the exporter's own rendering, then ``clean``."""

    # Jinja passes the template context to callables that carry this marker (what pass_context sets).
    jinja_pass_arg = jinja2.pass_context(lambda: None).jinja_pass_arg

    def __call__(self, context: Any, source: str) -> str:
        return clean(self.parent.markdown2html(context, source))
