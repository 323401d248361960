"""Exercise hand-in from the learner's notebook, and collection for nbgrader by trainers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Response, current_app, jsonify, request, stream_with_context
from sqlalchemy import func, select

from quiz_server import db
from quiz_server.api import bp
from quiz_server.api.validation import document
from quiz_server.models import Attempt, Learner
from quiz_server.security import current_principal, require
from quiz_server.services import audit, exercises
from quiz_server.services.idempotency import idempotent


@bp.post("/exercises/<assignment>/submissions")
@document(
    "POST",
    "/exercises/{assignment}/submissions",
    "Kirim notebook latihan (.ipynb); setiap versi disimpan, yang terbaru berlaku.",
    responses={201: "Tersimpan", 404: "assignment_not_found", 413: "payload_too_large", 422: "invalid_notebook"},
)
@require("learner")
def hand_in(assignment: str):
    request.max_content_length = current_app.config["MAX_NOTEBOOK_BYTES"]
    return _hand_in(assignment)


@idempotent()
def _hand_in(assignment: str):
    raw = exercises.parse_body(request.get_data())
    return jsonify({"submission": exercises.hand_in(current_principal().id, assignment, raw)}), 201


@bp.get("/exercises/submissions")
@document("GET", "/exercises/submissions", "Daftar kiriman latihan terbaru per peserta (pelatih/admin).")
@require("trainer", "admin")
def list_submissions():
    assignment = request.args.get("assignment") or None
    return jsonify({"submissions": exercises.current(assignment, current_principal().key)})


@bp.get("/exercises/submissions/<int:submission_id>/notebook")
@document("GET", "/exercises/submissions/{submission_id}/notebook", "Unduh berkas notebook satu kiriman (pelatih/admin).")
@require("trainer", "admin")
def submission_file(submission_id: int):
    raw = exercises.notebook(submission_id, current_principal().key)
    return Response(raw, mimetype="application/x-ipynb+json")


@bp.get("/grading/quiz-results")
@document(
    "GET",
    "/grading/quiz-results",
    "Hasil kuis terbaik per peserta dan kuis, sebagai CSV yang dialirkan (untuk sinkronisasi nbgrader).",
)
@require("trainer", "admin")
def quiz_results():
    """Stream one CSV row per learner and quiz: the best submitted percent."""
    actor = current_principal().key
    with db.write() as s:
        audit.record(s, actor, "export_quiz_results", None)
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
    engine = db.engine()

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        out = csv.writer(buf)
        out.writerow(["nip", "name", "email", "quiz_id", "best_percent", "attempts"])
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
            for chunk in result.partitions():
                out.writerows(chunk)
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    return Response(stream_with_context(rows()), mimetype="text/csv")
