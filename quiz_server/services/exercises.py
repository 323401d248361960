"""Exercise notebooks handed in from the learner's notebook, kept per learner and assignment, and
the quiz results that the grading side (nbgrader) collects."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from netralitas.errors import InvalidInput, NotFound, PayloadTooLarge
from quiz_server.models import Attempt, ExerciseSubmission, Learner
from quiz_server.services import audit, catalog
from quiz_server.uow import UnitOfWork


def assignment_ids(uow: UnitOfWork) -> list[str]:
    """One exercise assignment per quiz module: '<module>-latihan'."""
    quizzes = sorted(catalog.snapshot(uow).quizzes.values(), key=lambda q: q.position)
    return [f"{q.module_id}-latihan" for q in quizzes]


def _check_notebook(raw: bytes) -> None:
    import nbformat  # heavy (jsonschema grammars); loaded on the first hand-in, not at start-up

    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except (UnicodeDecodeError, ValueError, nbformat.ValidationError):
        raise InvalidInput("Berkas bukan notebook Jupyter (.ipynb) yang valid.", code="invalid_notebook") from None


def hand_in(uow: UnitOfWork, learner_id: int, assignment: str, raw: bytes, *, max_bytes: int) -> dict[str, Any]:
    """Keep a new version of the notebook (``max_bytes``: ``Settings.max_notebook_bytes``)."""
    if assignment not in assignment_ids(uow):
        raise NotFound("Latihan tidak ditemukan.", code="assignment_not_found")
    if len(raw) > max_bytes:
        raise PayloadTooLarge("Notebook terlalu besar.", code="payload_too_large")
    _check_notebook(raw)
    digest = hashlib.sha256(raw).hexdigest()
    s = uow.write()
    latest = s.scalar(
        select(ExerciseSubmission)
        .where(ExerciseSubmission.learner_id == learner_id, ExerciseSubmission.assignment == assignment)
        .order_by(ExerciseSubmission.version.desc())
        .limit(1)
    )
    if latest is not None and latest.sha256 == digest:
        return _json(latest)  # same file again: nothing new to keep
    sub = ExerciseSubmission(
        learner_id=learner_id,
        assignment=assignment,
        version=(latest.version if latest else 0) + 1,
        notebook=raw,
        sha256=digest,
        size=len(raw),
    )
    s.add(sub)
    s.flush()
    audit.record(uow, f"learner:{learner_id}", "exercise_submit", assignment, version=sub.version)
    return _json(sub)


def _json(sub: ExerciseSubmission) -> dict[str, Any]:
    return {
        "id": sub.id,
        "assignment": sub.assignment,
        "version": sub.version,
        "sha256": sub.sha256,
        "size": sub.size,
        "submitted_at": sub.submitted_at.isoformat(),
    }


def current(uow: UnitOfWork, assignment: str | None, actor: str) -> list[dict[str, Any]]:
    """The newest version per learner (and assignment), for collection into nbgrader."""
    s = uow.session
    newest = (
        select(
            ExerciseSubmission.learner_id,
            ExerciseSubmission.assignment,
            func.max(ExerciseSubmission.version).label("version"),
        )
        .group_by(ExerciseSubmission.learner_id, ExerciseSubmission.assignment)
        .subquery()
    )
    query = (
        select(ExerciseSubmission, Learner)
        .join(
            newest,
            (newest.c.learner_id == ExerciseSubmission.learner_id)
            & (newest.c.assignment == ExerciseSubmission.assignment)
            & (newest.c.version == ExerciseSubmission.version),
        )
        .join(Learner, Learner.id == ExerciseSubmission.learner_id)
        .order_by(ExerciseSubmission.assignment, Learner.nip)
    )
    if assignment:
        query = query.where(ExerciseSubmission.assignment == assignment)
    rows = [
        {**_json(sub), "nip": learner.nip, "name": learner.name, "email": learner.email}
        for sub, learner in s.execute(query)
    ]
    audit.record(uow, actor, "export_submissions", assignment, rows=len(rows))
    return rows


def notebook(uow: UnitOfWork, submission_id: int, actor: str) -> bytes:
    sub = uow.session.get(ExerciseSubmission, submission_id)
    if sub is None:
        raise NotFound("Kiriman latihan tidak ditemukan.")
    raw = sub.notebook
    audit.record(uow, actor, "export_submission_file", str(submission_id))
    return raw


QUIZ_RESULT_COLUMNS = ("nip", "name", "email", "quiz_id", "best_percent", "attempts")


def quiz_results_csv(uow: UnitOfWork, actor: str) -> Iterator[str]:
    """One CSV row per learner and quiz, the best submitted percent, for nbgrader sync.

    The export is added to the audit log now; the rows are read as the returned iterator is
    consumed (a streamed download reads them after the unit of work has committed).
    """
    audit.record(uow, actor, "export_quiz_results", None)
    return _quiz_results(uow)


def _quiz_results(uow: UnitOfWork) -> Iterator[str]:
    query = (
        select(
            Learner.nip,
            Learner.name,
            Learner.email,
            Attempt.quiz_id,
            func.max(Attempt.percent),
            func.count(),
        )
        .join(Learner, Learner.id == Attempt.learner_id)
        .where(Attempt.submitted_at.is_not(None))
        .group_by(Learner.id, Learner.nip, Learner.name, Learner.email, Attempt.quiz_id)
        .order_by(Learner.id, Attempt.quiz_id)
    )
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(QUIZ_RESULT_COLUMNS)
    for chunk in uow.session.execute(query.execution_options(yield_per=5000)).partitions():
        out.writerows(chunk)
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()


def parse_body(raw: bytes) -> bytes:
    """Accept the notebook as the raw .ipynb body or as {"notebook": {...}} JSON."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidInput("Berkas bukan notebook Jupyter (.ipynb) yang valid.", code="invalid_notebook") from None
    if isinstance(data, dict) and isinstance(data.get("notebook"), dict):
        data = data["notebook"]
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
