"""Learner registration, instansi list and own progress."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from quiz_server import web
from quiz_server.api.endpoint import PUBLIC, Call, endpoint
from quiz_server.models import Instansi
from quiz_server.schemas import RegisterLearner, ResendCode, VerifyRegistration
from quiz_server.services import attempts, registration


def learner_json(learner) -> dict:
    return {
        "id": learner.id,
        "nip": learner.nip,
        "nip_kind": learner.nip_kind,
        "name": learner.name,
        "email": learner.email,
        "instansi_id": learner.instansi_id,
        "unit": learner.unit,
    }


@endpoint(
    "POST",
    "/learners",
    "Minta pendaftaran peserta: kode verifikasi dikirim ke email (jawaban sama untuk setiap NIP).",
    roles=PUBLIC,
    body=RegisterLearner,
    idempotent=True,
    responses={
        202: "{registration_id, expires_in, message}: lanjutkan dengan POST /api/v1/learners/verify",
        422: "invalid_nip / unknown_instansi / validation_error",
        429: "rate_limited",
        503: "mail_unavailable",
    },
)
def register(call: Call):
    body = call.body
    web.throttle_registration(nip=body.nip, email=body.email)
    registration_id = registration.start(
        call.uow, **body.model_dump(), **registration.mail_options(call.settings, web.public_base())
    )
    return jsonify(
        {
            "registration_id": registration_id,
            "expires_in": registration.CODE_TTL_SECONDS,
            "message": registration.MESSAGE,
        }
    ), 202


@endpoint(
    "POST",
    "/learners/verify",
    "Selesaikan pendaftaran dengan kode dari email; mengembalikan token bearer.",
    roles=PUBLIC,
    body=VerifyRegistration,
    idempotent=True,
    responses={201: "{learner, token}", 422: "invalid_code", 429: "rate_limited"},
)
def verify(call: Call):
    web.throttle_registration(step="register-code")
    learner, token = registration.verify(
        call.uow, call.body.registration_id, call.body.code, token_days=call.settings.token_ttl_days
    )
    return jsonify({"learner": learner_json(learner), "token": token}), 201


@endpoint(
    "POST",
    "/learners/resend",
    "Kirim ulang kode verifikasi pendaftaran (dibatasi).",
    roles=PUBLIC,
    body=ResendCode,
    responses={202: "{message}", 429: "rate_limited", 503: "mail_unavailable"},
)
def resend(call: Call):
    web.throttle_registration(step="register-code")
    registration.resend(
        call.uow, call.body.registration_id, **registration.mail_options(call.settings, web.public_base())
    )
    return jsonify({"message": registration.RESENT}), 202


@endpoint("GET", "/instansi", "Daftar instansi untuk formulir pendaftaran.", roles=PUBLIC)
def instansi_list(call: Call):
    rows = call.uow.session.scalars(select(Instansi).order_by(Instansi.name))
    return jsonify({"instansi": [{"id": i.id, "name": i.name} for i in rows]})


@endpoint("GET", "/me/progress", "Kemajuan peserta per modul dan status sertifikasi.", roles=("learner",))
def my_progress(call: Call):
    return jsonify(attempts.progress(call.uow, call.me.id, web.public_base(), settings=call.settings))
