"""A per-process read cache of the course content (quizzes, questions with keys, rules).

Content changes only through ``netralitas content load``, which adds a row to
``content_versions``. A process reads the newest row's checksum (one indexed read) at most once
per ``CHECK_SECONDS`` (issue #18: not on every request of the hot path) and rebuilds its cache when
it changed, so every process sees new content within a second; a load made in this process is seen
at once (``content.load`` resets the check).
"""

from __future__ import annotations

import threading
import time
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
CHECK_SECONDS = 1.0
_CHECKED = "catalog_checked_at"  # in DbHandles.shared: when this process last read the version


def recheck(uow: UnitOfWork) -> None:
    """Read the content version again on the next snapshot (after a load in this process)."""
    uow.handles.shared.pop(_CHECKED, None)
    uow.memo.pop("catalog", None)


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
    shared = uow.handles.shared
    now = time.monotonic()
    current = shared.get("catalog")
    if current is not None and now - shared.get(_CHECKED, float("-inf")) < CHECK_SECONDS:
        uow.memo["catalog"] = current
        return current
    version = uow.session.scalar(select(ContentVersion.checksum).order_by(ContentVersion.id.desc()).limit(1))
    with _lock:
        current = shared.get("catalog")
        if current is None or current.version != version:
            current = shared["catalog"] = _load(uow, version)
        shared[_CHECKED] = now
    uow.memo["catalog"] = current
    return current
