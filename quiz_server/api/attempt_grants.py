"""Extra quiz attempts ("kesempatan tambahan") granted by an admin or the learner's own HR."""

from __future__ import annotations

from flask import jsonify

from quiz_server.api.endpoint import Call, endpoint
from quiz_server.schemas import AttemptGrantBody
from quiz_server.services import lifecycle


@endpoint(
    "POST",
    "/learners/<nip>/attempt-grants",
    "Beri peserta kesempatan tambahan untuk satu kuis, dengan alasan (admin, atau HR instansi peserta).",
    roles=("hr", "admin"),
    body=AttemptGrantBody,
    idempotent=True,
    responses={
        201: "{grant}",
        404: "learner_not_found (juga untuk peserta instansi lain) / quiz_not_found",
        422: "validation_error / reason_required",
    },
)
def grant(call: Call, nip: str):
    body = call.body
    out = lifecycle.grant_attempts(call.uow, call.me, nip, quiz_id=body.quiz_id, extra=body.extra, reason=body.reason)
    return jsonify({"grant": out}), 201
