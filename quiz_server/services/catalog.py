"""A per-process read cache of the course content (quizzes, questions with keys, rules).

Content changes only through ``netralitas content load``, which adds a row to
``content_versions``; every unit of work reads the newest row's checksum once (one indexed
read) and the process's cache is rebuilt when it changed, so all processes see new
content on their next request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import select

from quiz_server.models import ContentVersion, Question, Quiz, Rule
from quiz_server.uow import UnitOfWork


@dataclass
class Snapshot:
    version: str | None
    quizzes: dict[str, Quiz] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    pools: dict[str, list[Question]] = field(default_factory=dict)


_lock = threading.Lock()


def _load(uow: UnitOfWork, version: str | None) -> Snapshot:
    s = uow.handles.reader()  # its own session: the snapshot's objects outlive this unit of work
    try:
        snap = Snapshot(version)
        snap.quizzes = {q.id: q for q in s.scalars(select(Quiz))}
        snap.questions = {q.id: q for q in s.scalars(select(Question))}
        snap.rules = {r.id: r for r in s.scalars(select(Rule))}
        s.expunge_all()  # detached, read-only copies shared between threads
    finally:
        s.close()
    for q in snap.questions.values():
        if q.active and q.graded:
            snap.pools.setdefault(q.quiz_id, []).append(q)
    return snap


def snapshot(uow: UnitOfWork) -> Snapshot:
    if "catalog" in uow.memo:
        return uow.memo["catalog"]
    version = uow.session.scalar(select(ContentVersion.checksum).order_by(ContentVersion.id.desc()).limit(1))
    with _lock:
        current = uow.handles.shared.get("catalog")
        if current is None or current.version != version:
            current = uow.handles.shared["catalog"] = _load(uow, version)
    uow.memo["catalog"] = current
    return current
