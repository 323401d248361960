"""A per-process read cache of the course content (quizzes, questions with keys, rules).

Content changes only through ``netralitas content load``, which adds a row to
``content_versions``; every request reads the newest row's checksum (one indexed
read) and the app's cache is rebuilt when it changed, so all processes see new
content on their next request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app, g
from sqlalchemy import select

from quiz_server import db
from quiz_server.models import ContentVersion, Question, Quiz, Rule


@dataclass
class _Snapshot:
    version: str | None
    quizzes: dict[str, Quiz] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    pools: dict[str, list[Question]] = field(default_factory=dict)


_lock = threading.Lock()


def _load(version: str | None) -> _Snapshot:
    s = db.session()
    snap = _Snapshot(version)
    snap.quizzes = {q.id: q for q in s.scalars(select(Quiz))}
    snap.questions = {q.id: q for q in s.scalars(select(Question))}
    snap.rules = {r.id: r for r in s.scalars(select(Rule))}
    for q in snap.questions.values():
        if q.active and q.graded:
            snap.pools.setdefault(q.quiz_id, []).append(q)
    s.expunge_all()  # detached, read-only copies shared between threads
    return snap


def snapshot() -> _Snapshot:
    if "catalog" in g:
        return g.catalog
    version = db.session().scalar(select(ContentVersion.checksum).order_by(ContentVersion.id.desc()).limit(1))
    with _lock:
        current = current_app.extensions.get("catalog")
        if current is None or current.version != version:
            current = current_app.extensions["catalog"] = _load(version)
    g.catalog = current
    return current
