"""Exercise hand-in from the learner's notebook, and collection for nbgrader by grader accounts.

Collection (the hand-ins, their files, the quiz results) is for the ``grader`` role only, scoped to
this server's course and, for a grader bound to one, to one instansi (docs/grading.md). Trainers and
admins get 403: an admin who needs the data creates a grader account.
"""

from __future__ import annotations

from typing import Annotated

from flask import Response, jsonify, request
from pydantic import Field, StringConstraints

from quiz_server import downloads
from quiz_server.api import idempotency
from quiz_server.api.endpoint import Call, endpoint
from quiz_server.schemas import Body
from quiz_server.services import exercise_scores, exercises


@endpoint(
    "POST",
    "/exercises/<assignment>/submissions",
    "Kirim notebook latihan (.ipynb); setiap versi disimpan, yang terbaru berlaku.",
    roles=("learner",),
    responses={
        201: "Tersimpan",
        404: "assignment_not_found",
        413: "payload_too_large / exercise_quota_exceeded",
        422: "invalid_notebook",
        429: "exercise_version_limit",
    },
)
def hand_in(call: Call, assignment: str):
    # A notebook may be larger than the global 64 KB JSON limit. The limit must be raised before
    # anything reads the body, the Idempotency-Key check included, so this route applies
    # idempotency itself rather than with ``idempotent=True``.
    request.max_content_length = call.settings.max_notebook_bytes
    return idempotency.guarded(call, lambda: _keep(call, assignment))


def _keep(call: Call, assignment: str):
    raw = exercises.parse_body(request.get_data())
    sub = exercises.hand_in(call.uow, call.me.id, assignment, raw, call.settings)
    return jsonify({"submission": sub}), 201


@endpoint(
    "GET",
    "/exercises/submissions",
    "Daftar kiriman latihan terbaru per peserta (akun grader kursus ini; bila terikat instansi, hanya "
    "peserta instansi itu). Setiap kiriman bernama id acak.",
    roles=("grader",),
    responses={200: "Kiriman", 403: "forbidden / grader_out_of_scope"},
)
def list_submissions(call: Call):
    instansi_id = exercises.grader_scope(call.uow, call.settings, call.me)
    assignment = request.args.get("assignment") or None
    return jsonify({"submissions": exercises.current(call.uow, assignment, call.me.key, instansi_id)})


@endpoint(
    "GET",
    "/exercises/submissions/<submission_id>/notebook",
    "Unduh berkas notebook satu kiriman menurut id acaknya (akun grader kursus ini).",
    roles=("grader",),
    responses={200: "application/x-ipynb+json", 403: "forbidden / grader_out_of_scope", 404: "submission_not_found"},
)
def submission_file(call: Call, submission_id: str):
    instansi_id = exercises.grader_scope(call.uow, call.settings, call.me)
    raw = exercises.notebook(call.uow, submission_id, call.me.key, instansi_id)
    return Response(raw, mimetype="application/x-ipynb+json")


@endpoint(
    "GET",
    "/grading/quiz-results",
    "Hasil kuis terbaik per peserta dan kuis, sebagai CSV yang dialirkan (untuk sinkronisasi nbgrader; akun "
    "grader kursus ini, bila terikat instansi hanya peserta instansi itu).",
    roles=("grader",),
    responses={200: "text/csv", 403: "forbidden / grader_out_of_scope"},
)
def quiz_results(call: Call):
    """Stream one CSV row per learner and quiz: the best submitted percent. The export's audit record
    is committed when this view returns; the rows are read afterwards, in the same unit of work."""
    instansi_id = exercises.grader_scope(call.uow, call.settings, call.me)
    return downloads.stream(call.uow, exercises.quiz_results_csv(call.uow, call.me.key, instansi_id), "text/csv")


class ExerciseScoreIn(Body):
    nip: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    assignment: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    score: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
    max_score: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)]


class PushExerciseScores(Body):
    course_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    scores: Annotated[list[ExerciseScoreIn], Field(min_length=1, max_length=500)]


@endpoint(
    "POST",
    "/grading/exercise-scores",
    "Kirim nilai latihan notebook dari nbgrader (akun grader kursus ini; maks. 500 baris): nilai terbaru per "
    "peserta dan latihan disimpan, dicatat di log audit, dan sertifikat terbit bila aturan kini terpenuhi. "
    "Baris ber-NIP yang tidak terdaftar dilewati dan disebutkan (unknown_learners).",
    roles=("grader",),
    body=PushExerciseScores,
    idempotent=True,
    responses={
        200: "Diterima",
        403: "forbidden / grader_out_of_scope",
        422: "course_mismatch / assignment_not_found / score_above_max / duplicate_score / validation_error",
    },
)
def push_exercise_scores(call: Call):
    body = call.body
    return jsonify({"result": exercise_scores.push(call.uow, call.settings, call.me, body.course_id, body.scores)})
