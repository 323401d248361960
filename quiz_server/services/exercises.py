"""Exercise notebooks handed in from the learner's notebook, kept per learner and assignment."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from quiz_server import db
from quiz_server.errors import ApiError, not_found
from quiz_server.models import ExerciseSubmission, Learner
from quiz_server.services import audit, catalog


def assignment_ids() -> list[str]:
    """One exercise assignment per quiz module: '<module>-latihan'."""
    return [f"{q.module_id}-latihan" for q in sorted(catalog.snapshot().quizzes.values(), key=lambda q: q.position)]


def _check_notebook(raw: bytes) -> None:
    import nbformat  # heavy (jsonschema grammars); loaded on the first hand-in, not at start-up

    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except (UnicodeDecodeError, ValueError, nbformat.ValidationError):
        raise ApiError(422, "invalid_notebook", "Berkas bukan notebook Jupyter (.ipynb) yang valid.") from None


def hand_in(learner_id: int, assignment: str, raw: bytes) -> dict[str, Any]:
    if assignment not in assignment_ids():
        raise ApiError(404, "assignment_not_found", "Latihan tidak ditemukan.")
    if len(raw) > current_app.config["MAX_NOTEBOOK_BYTES"]:
        raise ApiError(413, "payload_too_large", "Notebook terlalu besar.")
    _check_notebook(raw)
    digest = hashlib.sha256(raw).hexdigest()
    with db.write() as s:
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
        audit.record(s, f"learner:{learner_id}", "exercise_submit", assignment, version=sub.version)
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


def current(assignment: str | None, actor: str) -> list[dict[str, Any]]:
    """The newest version per learner (and assignment), for collection into nbgrader."""
    s = db.session()
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
    with db.write() as w:
        audit.record(w, actor, "export_submissions", assignment, rows=len(rows))
    return rows


def notebook(submission_id: int, actor: str) -> bytes:
    sub = db.session().get(ExerciseSubmission, submission_id)
    if sub is None:
        raise not_found("Kiriman latihan tidak ditemukan.")
    with db.write() as w:
        audit.record(w, actor, "export_submission_file", str(submission_id))
    return sub.notebook


def parse_body(raw: bytes) -> bytes:
    """Accept the notebook as the raw .ipynb body or as {"notebook": {...}} JSON."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(422, "invalid_notebook", "Berkas bukan notebook Jupyter (.ipynb) yang valid.") from None
    if isinstance(data, dict) and isinstance(data.get("notebook"), dict):
        data = data["notebook"]
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
