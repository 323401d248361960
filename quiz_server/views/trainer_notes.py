"""Trainer page /pelatih/catatan: the course's trainer-only notes, module by module (trainers and admins).

Content 2.0 keeps every research caveat out of learner text: lessons, cases, questions and exercises
carry a ``trainer_note``, rules a ``note`` (with their confidence, sources and official text). None of
that is in the database, so this page reads the course from ``content_path`` itself, cached per
process until a file under it changes. Learners never reach this page, and no learner page reads
these fields.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, render_template, request

from netralitas.content.loader import load_course
from netralitas.content.models import LoadedCourse, Module, Rule
from netralitas.errors import NotFound
from netralitas.labels import CONFIDENCE, date_id
from quiz_server import web
from quiz_server.views.staff import staff_page

bp = Blueprint("trainer_notes", __name__, url_prefix="/pelatih")
EXCERPT_CHARS = 160

_lock = threading.Lock()
_cache: dict[str, tuple[int, LoadedCourse]] = {}  # resolved content path -> (newest mtime, course)


@bp.after_request
def _no_store(resp: Response) -> Response:
    resp.headers.setdefault("Cache-Control", "no-store")  # trainer-only material: not for a shared cache
    return resp


def _newest_mtime(root: Path) -> int:
    """The newest mtime (ns) of the folder and everything under it; a deleted file changes its folder's."""
    newest = 0
    for path in (root, *root.rglob("*")):
        try:
            newest = max(newest, path.stat().st_mtime_ns)
        except FileNotFoundError:  # removed while we looked, or no content folder at all
            continue
    return newest


def course(content_path: str | Path) -> LoadedCourse:
    """The course under ``content_path``, loaded once per process and again after any file changes."""
    root = Path(content_path).resolve()
    stamp = _newest_mtime(root)  # taken before loading: an edit during the load is seen next time
    with _lock:  # one load at a time; a second request for the same stamp finds the first one's result
        hit = _cache.get(str(root))
        if hit is not None and hit[0] == stamp:
            return hit[1]
        loaded = load_course(root)  # ContentError (misconfigured) when the content does not validate
        _cache[str(root)] = (stamp, loaded)
        return loaded


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return cut + "…"


@dataclass(frozen=True)
class ItemNote:
    id: str
    excerpt: str
    note: str


@dataclass(frozen=True)
class ModuleNotes:
    module: Module
    lesson_note: str | None
    groups: list[tuple[str, list[ItemNote]]]  # (Indonesian heading, notes), empty groups left out
    rules: list[Rule]  # rules cited in the module that have a note, in catalogue order

    @property
    def empty(self) -> bool:
        return not (self.lesson_note or self.groups or self.rules)


def cited_rules(mod: Module) -> set[str]:
    ex = mod.exercises
    ids = set(mod.lesson.meta.rules) | set(ex.case_analysis.rules)
    for thing in (*mod.questions.questions, *mod.cases.cases, *ex.classification.items):
        ids.update(thing.rules)
    return ids


def module_notes(loaded: LoadedCourse, mod: Module) -> ModuleNotes:
    cases = [
        ItemNote(c.id, excerpt(f"{c.title}: {c.facts}"), c.trainer_note) for c in mod.cases.cases if c.trainer_note
    ]
    questions = [
        ItemNote(q.id, excerpt(f"{q.scenario} {q.text}" if q.scenario else q.text), q.trainer_note)
        for q in mod.questions.questions
        if q.trainer_note
    ]
    cl, ca = mod.exercises.classification, mod.exercises.case_analysis
    exercises = []
    if cl.trainer_note:
        exercises.append(ItemNote(cl.id, excerpt(f"Klasifikasi. {cl.title}: {cl.instructions}"), cl.trainer_note))
    if ca.trainer_note:
        exercises.append(ItemNote(ca.id, excerpt(f"Analisis kasus. {ca.title}: {ca.situation}"), ca.trainer_note))
    groups = [(name, items) for name, items in (("Kasus", cases), ("Soal", questions), ("Latihan", exercises)) if items]
    cited = cited_rules(mod)
    rules = [r for rid, r in loaded.rules.items() if rid in cited and r.note]
    return ModuleNotes(mod, mod.lesson.meta.trainer_note, groups, rules)


@bp.get("/catatan")
@staff_page("trainer", "admin")
def page():
    loaded = course(web.settings().content_path)
    module_id = request.args.get("modul") or None
    if module_id is None:
        shown = loaded.modules
    else:
        try:
            shown = [loaded.module(module_id)]
        except KeyError:
            raise NotFound("Modul tidak ditemukan.", code="not_found") from None
    return render_template(
        "trainer/notes.html",
        course=loaded.course,
        modules=loaded.modules,
        module_id=module_id,
        notes=[module_notes(loaded, m) for m in shown],
        confidence=CONFIDENCE,
        date_id=date_id,
    )
