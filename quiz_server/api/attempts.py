"""Starting and submitting attempts."""

from __future__ import annotations

from flask import jsonify, request

from quiz_server.api import bp
from quiz_server.api.schemas import StartAttempt, SubmitAttempt
from quiz_server.api.validation import document, parse_body
from quiz_server.security import current_principal, require
from quiz_server.services import attempts, spike
from quiz_server.services.idempotency import idempotent


@bp.post("/quizzes/<quiz_id>/attempts")
@document(
    "POST",
    "/quizzes/{quiz_id}/attempts",
    "Mulai percobaan: server mengundi dan mengacak soal.",
    body=StartAttempt,
    responses={201: "Percobaan", 404: "quiz_not_found", 409: "attempt_limit_reached", 429: "server_busy"},
)
@require("learner")
@idempotent()
def start_attempt(quiz_id: str):
    body = parse_body(StartAttempt) if _has_body() else StartAttempt()
    with spike.start_slot():
        attempt = attempts.start(current_principal().id, quiz_id, body.workshop_id)
    return jsonify({"attempt": attempt}), 201


@bp.get("/attempts/<attempt_id>")
@document(
    "GET",
    "/attempts/{attempt_id}",
    "Lihat percobaan sendiri (untuk melanjutkan); hasil bila sudah dikirim.",
    responses={200: "Percobaan", 404: "not_found"},
)
@require("learner")
def get_attempt(attempt_id: str):
    return jsonify({"attempt": attempts.get_open(current_principal().id, attempt_id)})


@bp.post("/attempts/<attempt_id>/submit")
@document(
    "POST",
    "/attempts/{attempt_id}/submit",
    "Kirim jawaban; server menilai dan memberi umpan balik.",
    body=SubmitAttempt,
    responses={
        200: "Hasil",
        404: "not_found",
        409: "attempt_already_submitted / attempt_expired",
        422: "idempotency_key_reused / invalid_choice",
    },
)
@require("learner")
@idempotent()
def submit_attempt(attempt_id: str):
    body = parse_body(SubmitAttempt)
    result = attempts.submit(current_principal().id, attempt_id, body.answers)
    return jsonify({"result": result})


def _has_body() -> bool:
    return bool(request.get_data(cache=True))
