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
from types import SimpleNamespace
from typing import Any

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


def _plain(conn, model: type) -> dict[str, Any]:
    """The rows of ``model``'s table as plain objects with the model's attribute names, by id.

    Not ORM instances: the hot path reads these attributes about a hundred times per submit, and a
    plain attribute costs a tenth of an instrumented one (issue #18). The models have no
    relationships, so the columns are the whole object. Shared between threads: read only."""
    return {row.id: SimpleNamespace(**row._asdict()) for row in conn.execute(select(model.__table__))}


def _load(uow: UnitOfWork, version: str | None) -> Snapshot:
    with uow.handles.engine.connect() as conn:  # its own connection: the snapshot outlives this unit
        snap = Snapshot(version)
        snap.quizzes = _plain(conn, Quiz)
        snap.questions = _plain(conn, Question)
        snap.rules = _plain(conn, Rule)
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
