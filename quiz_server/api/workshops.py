"""Workshops: trainers create and drive them; learners join with a code and answer live."""

from __future__ import annotations

from flask import Response, jsonify, request, url_for

from quiz_server import web
from quiz_server.api.endpoint import Call, endpoint
from quiz_server.models import Workshop
from quiz_server.services import workshop_report, workshop_state, workshops
from quiz_server.services.errors import WorkshopNotFound
from quiz_server.workshop_schemas import ControlWorkshop, CreateWorkshop, JoinWorkshop, LiveAnswerBody

TRAINERS = ("trainer", "admin")


def _links(ws: Workshop) -> workshop_state.Links:
    """The workshop's addresses as people outside the server reach them (NETRALITAS_PUBLIC_URL)."""
    base = web.public_base()
    return workshop_state.Links(
        join_address=base + url_for("workshop.join"),
        join_url=base + url_for("workshop.join", code=ws.join_code),
        qr_url=base + url_for("trainer.qr", workshop_id=ws.id),
    )


def _trainer_json(call: Call, ws: Workshop) -> dict:
    return workshop_state.trainer_workshop(call.uow, ws, _links(ws))


@endpoint(
    "POST",
    "/workshops",
    "Buat lokakarya (pelatih): mode live atau self_paced; server membuat kode gabung 6 karakter.",
    roles=TRAINERS,
    body=CreateWorkshop,
    idempotent=True,
    responses={201: "Lokakarya", 404: "quiz_not_found", 422: "validation_error / invalid_window / quiz_empty"},
)
def create_workshop(call: Call):
    ws = workshops.create(call.uow, call.me, **call.body.model_dump())
    return jsonify({"workshop": _trainer_json(call, ws)}), 201


@endpoint("GET", "/workshops", "Daftar lokakarya milik pelatih yang masuk.", roles=TRAINERS)
def list_workshops(call: Call):
    return jsonify({"workshops": [_trainer_json(call, ws) for ws in workshops.list_own(call.uow, call.me)]})


@endpoint(
    "GET",
    "/workshops/<int:workshop_id>",
    "Rincian lokakarya sendiri (pelatih).",
    roles=TRAINERS,
    responses={200: "Lokakarya", 404: "workshop_not_found"},
)
def get_workshop(call: Call, workshop_id: int):
    return jsonify({"workshop": _trainer_json(call, workshops.owned(call.uow, call.me, workshop_id))})


@endpoint(
    "GET",
    "/workshops/<int:workshop_id>/participants",
    "Daftar hadir: siapa yang sudah bergabung (pelatih).",
    roles=TRAINERS,
    responses={200: "Peserta", 404: "workshop_not_found"},
)
def workshop_participants(call: Call, workshop_id: int):
    ws = workshops.owned(call.uow, call.me, workshop_id)
    return jsonify({"participants": workshop_state.roster(call.uow, ws)})


@endpoint(
    "GET",
    "/workshops/<int:workshop_id>/board",
    "Keadaan papan proyektor: soal, jumlah yang menjawab, sebaran setelah dibuka, pembahasan (pelatih).",
    roles=TRAINERS,
    responses={200: "Papan", 404: "workshop_not_found"},
)
def workshop_board(call: Call, workshop_id: int):
    return jsonify(workshop_state.board(call.uow, workshops.owned(call.uow, call.me, workshop_id)))


def _control_route(action: str, summary: str) -> None:
    def view(call: Call, workshop_id: int):
        ws = workshops.control(call.uow, call.me, workshop_id, action, call.body.version)
        return jsonify({"workshop": _trainer_json(call, ws)})

    view.__name__ = f"workshop_{action}"
    endpoint(
        "POST",
        f"/workshops/<int:workshop_id>/{action}",
        summary,
        roles=TRAINERS,
        body=ControlWorkshop,
        optional_body=True,
        idempotent=True,
        responses={
            200: "Lokakarya",
            404: "workshop_not_found",
            409: "workshop_closed / invalid_transition / no_more_questions / state_changed / workshop_not_live",
        },
    )(view)


_control_route("next", "Kendali langsung: buka soal berikutnya (jawaban diterima).")
_control_route("reveal", "Kendali langsung: tutup jawaban dan tampilkan sebaran pilihan.")
_control_route("explain", "Kendali langsung: tampilkan jawaban benar, pembahasan dan aturan yang dirujuk.")
_control_route("close", "Tutup lokakarya; jawaban langsung tiap peserta menjadi percobaan di catatannya.")


@endpoint(
    "POST",
    "/workshops/join",
    "Bergabung dengan lokakarya memakai kode 6 karakter (peserta).",
    roles=("learner",),
    body=JoinWorkshop,
    idempotent=True,
    responses={
        200: "Sudah bergabung sebelumnya",
        201: "Bergabung",
        404: "workshop_not_found",
        409: "workshop_closed",
        429: "rate_limited",
    },
)
def join_workshop(call: Call):
    try:
        ws, participant, created = workshops.join(call.uow, call.me.id, call.body.join_code)
    except WorkshopNotFound:
        # Counted in a unit of work of its own: the refused request's rollback must not undo it.
        web.throttle(f"join-miss:{call.me.key}", *workshops.MISSES_PER_LEARNER)
        raise
    payload = {
        "workshop": workshop_state.public_workshop(call.uow, ws),
        "participant": {"id": participant.id, "joined_at": participant.joined_at.isoformat()},
    }
    return jsonify(payload), 201 if created else 200


@endpoint(
    "GET",
    "/workshops/<int:workshop_id>/current",
    "Soal yang sedang dibuka untuk peserta; kunci dan pembahasan baru muncul setelah pelatih membukanya.",
    roles=("learner",),
    responses={200: "Keadaan", 404: "workshop_not_found"},
)
def workshop_current(call: Call, workshop_id: int):
    return jsonify(workshop_state.participant_view(call.uow, call.me.id, workshop_id))


@endpoint(
    "POST",
    "/workshops/<int:workshop_id>/answer",
    "Jawab soal yang sedang dibuka (boleh diganti sampai pelatih menutupnya).",
    roles=("learner",),
    body=LiveAnswerBody,
    idempotent=True,
    responses={
        200: "Diterima",
        404: "workshop_not_found",
        409: "question_closed / workshop_closed / workshop_not_live",
        422: "invalid_choice / too_many_choices",
    },
)
def workshop_answer(call: Call, workshop_id: int):
    body = call.body
    received = workshops.answer(call.uow, call.me.id, workshop_id, body.question_index, body.choices)
    return jsonify({"received": received})


@endpoint(
    "GET",
    "/workshops/<int:workshop_id>/results",
    "Hasil per peserta dan per soal, dan soal yang paling banyak salah (pelatih). Dicatat di log audit.",
    roles=TRAINERS,
    responses={200: "Hasil", 404: "workshop_not_found"},
)
def workshop_results(call: Call, workshop_id: int):
    ws = workshops.owned(call.uow, call.me, workshop_id)
    report = workshop_report.results(call.uow, ws, _links(ws))
    workshop_report.record_export(call.uow, call.me.key, ws, "json", len(report["participants"]))
    return jsonify(report)


@endpoint(
    "GET",
    "/workshops/<int:workshop_id>/report",
    "Laporan lokakarya: format=json|csv|xlsx; untuk CSV, part=participants (bawaan) atau questions. "
    "Setiap unduhan dicatat di log audit.",
    roles=TRAINERS,
    responses={200: "Laporan", 404: "workshop_not_found", 422: "invalid_format"},
)
def workshop_report_file(call: Call, workshop_id: int):
    ws = workshops.owned(call.uow, call.me, workshop_id)
    report, download = workshop_report.export(
        call.uow,
        call.me.key,
        ws,
        request.args.get("format", "json"),
        request.args.get("part", "participants"),
        links=_links(ws),
        zone=call.settings.zone,
    )
    if download is None:
        return jsonify(report)
    return _attachment(download)


def _attachment(download: workshop_report.Download) -> Response:
    resp = Response(download.content, mimetype=download.mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
