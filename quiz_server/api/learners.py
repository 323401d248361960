"""Learner registration, instansi list and own progress."""

from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy import select

from quiz_server import db
from quiz_server.api import bp
from quiz_server.api.schemas import RegisterLearner
from quiz_server.api.validation import document, parse_body
from quiz_server.models import Instansi
from quiz_server.security import current_principal, require
from quiz_server.services import accounts, attempts, ratelimit
from quiz_server.services.idempotency import idempotent


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


@bp.post("/learners")
@document(
    "POST",
    "/learners",
    "Daftar sebagai peserta; mengembalikan token bearer.",
    body=RegisterLearner,
    responses={201: "Terdaftar", 409: "learner_exists", 422: "invalid_nip / validation_error"},
    auth=False,
)
def register():
    limit, window = current_app.config["RATE_LIMIT_REGISTER"]
    ratelimit.hit(f"register:{request.remote_addr}", limit, window)
    return _register()


@idempotent()
def _register():
    body = parse_body(RegisterLearner)
    learner, token = accounts.register_learner(**body.model_dump())
    return jsonify({"learner": learner_json(learner), "token": token}), 201


@bp.get("/instansi")
@document("GET", "/instansi", "Daftar instansi untuk formulir pendaftaran.", auth=False)
def instansi_list():
    rows = db.session().scalars(select(Instansi).order_by(Instansi.name))
    return jsonify({"instansi": [{"id": i.id, "name": i.name} for i in rows]})


@bp.get("/me/progress")
@document("GET", "/me/progress", "Kemajuan peserta per modul dan status sertifikasi.")
@require("learner")
def my_progress():
    return jsonify(attempts.progress(current_principal().id))
