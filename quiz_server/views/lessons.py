"""Lessons, case studies and the rule pages on the web, for anyone (no sign-in needed to read).

The pages show the *learner view* of the course (:func:`netralitas.content.bundle.learner_view`):
the same reduction the learner bundle for notebooks gets, so what a learner may read is decided in
one place. That view has no field for a question, an answer key, an explanation or an exercise,
and trainer notes (a rule's ``note``, every ``trainer_note``) are cleared from it. The full course
is read from ``content_path`` through the trainer notes page's per-process cache, which reloads
when a file under the folder changes.

Case studies show their facts and question first; the verdict and the reasoning open on request
in a ``<details>`` element, so the page works without JavaScript.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, render_template

from netralitas.content import models as m
from netralitas.content.bundle import LearnerCourse, LearnerModule, learner_view
from netralitas.errors import NetralitasError, NotFound
from netralitas.labels import SANCTION, VERDICT
from quiz_server import web
from quiz_server.views import trainer_notes
from quiz_server.views.learner import signed_in_learner
from quiz_server.views.lesson_text import sections, to_html

bp = Blueprint("lessons", __name__)

_lock = threading.Lock()
_views: dict[str, tuple[object, LearnerCourse]] = {}  # content path -> (the loaded course it came from, view)

# Where a copy of a text was found is a note for trainers, not a source to send a learner to.
_NOT_A_SOURCE = ("scribd.com",)


class ModuleNotFound(NotFound):
    code = "module_not_found"
    message = "Modul tidak ditemukan."


class RuleNotFound(NotFound):
    code = "rule_not_found"
    message = "Aturan tidak ditemukan."


def course() -> LearnerCourse:
    """The learner view of the server's content, rebuilt only when the content changed."""
    path = web.settings().content_path
    loaded = trainer_notes.course(path)
    with _lock:
        hit = _views.get(path)
        if hit is None or hit[0] is not loaded:
            hit = _views[path] = (loaded, learner_view(loaded))
        return hit[1]


def rule_ids() -> set[str]:
    """The rules that have a page; empty (no links, the citation alone) when the content cannot be read,
    so a result page never fails over a link."""
    try:
        return set(course().rules)
    except NetralitasError:
        return set()


def module(module_id: str) -> tuple[int, LearnerModule]:
    """``(position from 1, module)``."""
    for pos, mod in enumerate(course().modules, start=1):
        if mod.id == module_id:
            return pos, mod
    raise ModuleNotFound()


@dataclass(frozen=True)
class Cited:
    id: str
    citation: str
    title: str


def cited(rule_ids: list[str]) -> list[Cited]:
    """The rules behind these ids, in order, for a list of links (unknown ids are left out)."""
    rules = course().rules
    return [Cited(r, rules[r].citation, rules[r].title) for r in dict.fromkeys(rule_ids) if r in rules]


def public_sources(rule: m.Rule) -> list[tuple[str, str]]:
    """``(address, site name)`` of a rule's sources a learner can open: web addresses only, and no
    document-sharing copies. The site name is the link's text (a phone cannot show a long address)."""
    out = []
    for src in rule.sources:
        text = str(src)
        host = urlsplit(text).hostname or ""
        if text.startswith(("http://", "https://")) and not any(host.endswith(h) for h in _NOT_A_SOURCE):
            out.append((text, host.removeprefix("www.")))
    return out


def sanction_text(rule: m.Rule) -> str:
    """The sanction's label, and its detail unless the detail already starts with the label."""
    label = SANCTION[rule.sanction.kind]
    detail = rule.sanction.detail.id if rule.sanction.detail else ""
    if not detail:
        return label
    return detail if detail.lower().startswith(label.lower()) else f"{label}: {detail}"


@bp.get("/materi")
def index():
    learner = course()
    return render_template("learner/lesson_index.html", modules=learner.modules, course=learner.course)


@bp.get("/modul/<module_id>")
def lesson(module_id: str):
    pos, mod = module(module_id)
    learner = course()
    return render_template(
        "learner/lesson.html",
        mod=mod,
        pos=pos,
        total=len(learner.modules),
        body=to_html(mod.lesson.body),
        sections=sections(mod.lesson.body),
        rules=cited(list(mod.lesson.meta.rules)),
        signed_in=signed_in_learner() is not None,
    )


@bp.get("/modul/<module_id>/kasus")
def cases(module_id: str):
    pos, mod = module(module_id)
    modules = course().modules
    return render_template(
        "learner/cases.html",
        mod=mod,
        pos=pos,
        next_mod=modules[pos] if pos < len(modules) else None,
        cases=[(c, cited(list(c.rules))) for c in mod.cases.cases],
        verdicts=VERDICT,
        signed_in=signed_in_learner() is not None,
    )


@bp.get("/aturan/<rule_id>")
def rule(rule_id: str):
    found = course().rules.get(rule_id)
    if found is None:
        raise RuleNotFound()
    return render_template(
        "learner/rule.html", rule=found, sources=public_sources(found), sanction=sanction_text(found)
    )
