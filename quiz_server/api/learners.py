"""Learner registration, instansi list and own progress."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from quiz_server import web
from quiz_server.api.endpoint import PUBLIC, Call, endpoint
from quiz_server.models import Instansi
from quiz_server.schemas import RegisterLearner
from quiz_server.services import accounts, attempts


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
    "Daftar sebagai peserta; mengembalikan token bearer.",
    roles=PUBLIC,
    body=RegisterLearner,
    idempotent=True,
    responses={201: "Terdaftar", 409: "learner_exists", 422: "invalid_nip / validation_error"},
)
def register(call: Call):
    web.throttle_registration()
    learner, token = accounts.register_learner(
        call.uow, **call.body.model_dump(), token_days=call.settings.token_ttl_days
    )
    return jsonify({"learner": learner_json(learner), "token": token}), 201


@endpoint("GET", "/instansi", "Daftar instansi untuk formulir pendaftaran.", roles=PUBLIC)
def instansi_list(call: Call):
    rows = call.uow.session.scalars(select(Instansi).order_by(Instansi.name))
    return jsonify({"instansi": [{"id": i.id, "name": i.name} for i in rows]})


@endpoint("GET", "/me/progress", "Kemajuan peserta per modul dan status sertifikasi.", roles=("learner",))
def my_progress(call: Call):
    return jsonify(attempts.progress(call.uow, call.me.id, web.public_base()))
