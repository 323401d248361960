"""Exercise notebooks handed in from the learner's notebook, kept per learner and assignment, and
the quiz results that the grading side (nbgrader) collects.

Hand-ins are named by a random ``public_id``; the row's integer id never leaves the server. Each
learner has quotas (``Settings.max_notebook_versions`` per assignment, ``max_learner_notebook_bytes``
over all hand-ins), checked before the notebook is validated or stored. Only a ``grader`` account
of this server's course collects, and only the learners of its instansi when it is bound to one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from netralitas.errors import InvalidInput, NotFound, PayloadTooLarge, TooManyRequests
from quiz_server.config import Settings
from quiz_server.models import Attempt, ExerciseSubmission, Learner
from quiz_server.services import audit, catalog, certification
from quiz_server.services.credentials import Principal
from quiz_server.uow import UnitOfWork


class SubmissionNotFound(NotFound):
    code = "submission_not_found"
    message = "Kiriman latihan tidak ditemukan."


class VersionLimitReached(TooManyRequests):
    code = "exercise_version_limit"


class LearnerQuotaExceeded(PayloadTooLarge):
    code = "exercise_quota_exceeded"


def grader_scope(uow: UnitOfWork, settings: Settings, who: Principal) -> str | None:
    """The instansi a grader collects for (None: every instansi); 403 ``grader_out_of_scope`` for a
    grader of another course. The routes admit the ``grader`` role only."""
    certification.check_scope(uow, who, certification.course(settings))
    return who.instansi_id


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


def hand_in(uow: UnitOfWork, learner_id: int, assignment: str, raw: bytes, settings: Settings) -> dict[str, Any]:
    """Keep a new version of the notebook, within the learner's quotas (see the module docstring)."""
    if assignment not in assignment_ids(uow):
        raise NotFound("Latihan tidak ditemukan.", code="assignment_not_found")
    if len(raw) > settings.max_notebook_bytes:
        raise PayloadTooLarge("Notebook terlalu besar.", code="payload_too_large")
    digest = hashlib.sha256(raw).hexdigest()
    latest = _latest(uow, learner_id, assignment)
    if latest is not None and latest.sha256 == digest:
        return _json(latest)  # same file again: nothing new to keep
    _check_quota(uow, learner_id, latest.version if latest else 0, len(raw), settings)
    _check_notebook(raw)  # the costly check, only for what the quota allows, before the write lock
    s = uow.write()
    latest = _latest(uow, learner_id, assignment)  # again under the lock: a hand-in may have raced this one
    if latest is not None and latest.sha256 == digest:
        return _json(latest)
    _check_quota(uow, learner_id, latest.version if latest else 0, len(raw), settings)
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


def _latest(uow: UnitOfWork, learner_id: int, assignment: str) -> ExerciseSubmission | None:
    return uow.session.scalar(
        select(ExerciseSubmission)
        .where(ExerciseSubmission.learner_id == learner_id, ExerciseSubmission.assignment == assignment)
        .order_by(ExerciseSubmission.version.desc())
        .limit(1)
    )


def _check_quota(uow: UnitOfWork, learner_id: int, versions: int, size: int, settings: Settings) -> None:
    if versions >= settings.max_notebook_versions:
        raise VersionLimitReached(
            f"Anda sudah mengirim {settings.max_notebook_versions} versi untuk latihan ini, batas yang disimpan. "
            "Versi terakhir Anda tetap berlaku; hubungi pelatih bila perlu mengirim ulang."
        )
    used = uow.session.scalar(
        select(func.coalesce(func.sum(ExerciseSubmission.size), 0)).where(ExerciseSubmission.learner_id == learner_id)
    )
    if used + size > settings.max_learner_notebook_bytes:
        limit_mb = settings.max_learner_notebook_bytes / (1024 * 1024)
        raise LearnerQuotaExceeded(
            f"Ruang kiriman latihan Anda sudah penuh (batas {limit_mb:g} MB untuk semua kiriman). "
            "Kiriman ini tidak disimpan; versi terakhir Anda tetap berlaku. Hubungi pelatih."
        )


def _json(sub: ExerciseSubmission) -> dict[str, Any]:
    return {
        "id": sub.public_id,
        "assignment": sub.assignment,
        "version": sub.version,
        "sha256": sub.sha256,
        "size": sub.size,
        "submitted_at": sub.submitted_at.isoformat(),
    }


def current(uow: UnitOfWork, assignment: str | None, actor: str, instansi_id: str | None) -> list[dict[str, Any]]:
    """The newest version per learner (and assignment), for collection into nbgrader; only learners
    registered under ``instansi_id`` when it is given."""
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
    if instansi_id:
        query = query.where(Learner.instansi_id == instansi_id)
    rows = [
        {**_json(sub), "nip": learner.nip, "name": learner.name, "email": learner.email}
        for sub, learner in s.execute(query)
    ]
    audit.record(uow, actor, "export_submissions", assignment, rows=len(rows), instansi=instansi_id)
    return rows


def notebook(uow: UnitOfWork, public_id: str, actor: str, instansi_id: str | None) -> bytes:
    """One hand-in's file by its public id; outside the grader's instansi it does not exist."""
    query = select(ExerciseSubmission.notebook).where(ExerciseSubmission.public_id == public_id)
    if instansi_id:
        query = query.join(Learner, Learner.id == ExerciseSubmission.learner_id).where(
            Learner.instansi_id == instansi_id
        )
    raw = uow.session.scalar(query)
    if raw is None:
        raise SubmissionNotFound()
    audit.record(uow, actor, "export_submission_file", public_id)
    return raw


QUIZ_RESULT_COLUMNS = ("nip", "name", "email", "quiz_id", "best_percent", "attempts")


def quiz_results_csv(uow: UnitOfWork, actor: str, instansi_id: str | None) -> Iterator[str]:
    """One CSV row per learner and quiz, the best submitted percent, for nbgrader sync; only learners
    registered under ``instansi_id`` when it is given.

    The export is added to the audit log now; the rows are read as the returned iterator is
    consumed (a streamed download reads them after the unit of work has committed).
    """
    audit.record(uow, actor, "export_quiz_results", None, instansi=instansi_id)
    return _quiz_results(uow, instansi_id)


def _quiz_results(uow: UnitOfWork, instansi_id: str | None) -> Iterator[str]:
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
    if instansi_id:
        query = query.where(Learner.instansi_id == instansi_id)
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
