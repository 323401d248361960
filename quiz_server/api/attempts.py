"""Starting and submitting attempts."""

from __future__ import annotations

from flask import current_app, jsonify

from netralitas.content.models import Review
from quiz_server.api.endpoint import Call, endpoint
from quiz_server.schemas import StartAttempt, SubmitAttempt
from quiz_server.services import attempts, review, spike


def _policy() -> Review:
    return review.course_policy(current_app.config["CONTENT_PATH"])


@endpoint(
    "POST",
    "/quizzes/<quiz_id>/attempts",
    "Mulai percobaan: server mengundi dan mengacak soal.",
    roles=("learner",),
    body=StartAttempt,
    optional_body=True,
    idempotent=True,
    secret_reply=False,  # an attempt and a result hold no token: the idempotency record is stored plain
    responses={201: "Percobaan", 404: "quiz_not_found", 409: "attempt_limit_reached", 429: "server_busy"},
)
def start_attempt(call: Call, quiz_id: str):
    call.uow.end_reads()  # wait for a slot without holding a pooled connection
    with spike.start_slot(call.uow.handles.shared, call.settings):
        attempt = attempts.start(call.uow, call.me.id, quiz_id, call.body.workshop_id)
    return jsonify({"attempt": attempt}), 201


@endpoint(
    "GET",
    "/attempts/<attempt_id>",
    "Lihat percobaan sendiri (untuk melanjutkan); hasil bila sudah dikirim.",
    roles=("learner",),
    responses={200: "Percobaan", 404: "not_found"},
)
def get_attempt(call: Call, attempt_id: str):
    grace = call.settings.attempt_grace_seconds
    return jsonify(
        {"attempt": attempts.get_open(call.uow, call.me.id, attempt_id, policy=_policy(), grace_seconds=grace)}
    )


@endpoint(
    "POST",
    "/attempts/<attempt_id>/submit",
    "Kirim jawaban; server menilai dan memberi umpan balik sesuai opsi tinjauan kursus.",
    roles=("learner",),
    body=SubmitAttempt,
    idempotent=True,
    secret_reply=False,
    responses={
        200: "Hasil",
        404: "not_found",
        409: "attempt_already_submitted / attempt_expired",
        422: "idempotency_key_reused / invalid_choice",
    },
)
def submit_attempt(call: Call, attempt_id: str):
    result = attempts.submit(
        call.uow,
        call.me.id,
        attempt_id,
        call.body.answers,
        settings=call.settings,
        policy=_policy(),
    )
    return jsonify({"result": result})
