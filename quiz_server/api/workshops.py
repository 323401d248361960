"""Workshops: trainers create and drive them; learners join with a code and answer live."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, jsonify, request

from quiz_server.api import bp
from quiz_server.api.validation import document, parse_body
from quiz_server.api.workshop_schemas import ControlWorkshop, CreateWorkshop, JoinWorkshop, LiveAnswerBody
from quiz_server.errors import ApiError
from quiz_server.security import current_principal, require
from quiz_server.services import workshop_report, workshop_state, workshops
from quiz_server.services.idempotency import idempotent

TRAINERS = ("trainer", "admin")
FORMATS = ("json", "csv", "xlsx")


@bp.post("/workshops")
@document(
    "POST",
    "/workshops",
    "Buat lokakarya (pelatih): mode live atau self_paced; server membuat kode gabung 6 karakter.",
    body=CreateWorkshop,
    responses={201: "Lokakarya", 404: "quiz_not_found", 422: "validation_error / invalid_window / quiz_empty"},
)
@require(*TRAINERS)
@idempotent()
def create_workshop():
    body = parse_body(CreateWorkshop)
    ws = workshops.create(current_principal(), **body.model_dump())
    return jsonify({"workshop": workshop_state.trainer_workshop(ws)}), 201


@bp.get("/workshops")
@document("GET", "/workshops", "Daftar lokakarya milik pelatih yang masuk.")
@require(*TRAINERS)
def list_workshops():
    items = [workshop_state.trainer_workshop(ws) for ws in workshops.list_own(current_principal())]
    return jsonify({"workshops": items})


@bp.get("/workshops/<int:workshop_id>")
@document(
    "GET",
    "/workshops/{workshop_id}",
    "Rincian lokakarya sendiri (pelatih).",
    responses={200: "Lokakarya", 404: "workshop_not_found"},
)
@require(*TRAINERS)
def get_workshop(workshop_id: int):
    ws = workshops.owned(current_principal(), workshop_id)
    return jsonify({"workshop": workshop_state.trainer_workshop(ws)})


@bp.get("/workshops/<int:workshop_id>/participants")
@document(
    "GET",
    "/workshops/{workshop_id}/participants",
    "Daftar hadir: siapa yang sudah bergabung (pelatih).",
    responses={200: "Peserta", 404: "workshop_not_found"},
)
@require(*TRAINERS)
def workshop_participants(workshop_id: int):
    ws = workshops.owned(current_principal(), workshop_id)
    return jsonify({"participants": workshop_state.roster(ws)})


@bp.get("/workshops/<int:workshop_id>/board")
@document(
    "GET",
    "/workshops/{workshop_id}/board",
    "Keadaan papan proyektor: soal, jumlah yang menjawab, sebaran setelah dibuka, pembahasan (pelatih).",
    responses={200: "Papan", 404: "workshop_not_found"},
)
@require(*TRAINERS)
def workshop_board(workshop_id: int):
    return jsonify(workshop_state.board(workshops.owned(current_principal(), workshop_id)))


def _control_route(action: str, summary: str) -> None:
    def view(workshop_id: int):
        body = parse_body(ControlWorkshop) if request.get_data(cache=True) else ControlWorkshop()
        ws = workshops.control(current_principal(), workshop_id, action, body.version)
        return jsonify({"workshop": workshop_state.trainer_workshop(ws)})

    view.__name__ = f"workshop_{action}"
    wrapped: Callable = idempotent()(view)
    wrapped = require(*TRAINERS)(wrapped)
    document(
        "POST",
        f"/workshops/{{workshop_id}}/{action}",
        summary,
        body=ControlWorkshop,
        responses={
            200: "Lokakarya",
            404: "workshop_not_found",
            409: "workshop_closed / invalid_transition / no_more_questions / state_changed / workshop_not_live",
        },
    )(wrapped)
    bp.post(f"/workshops/<int:workshop_id>/{action}")(wrapped)


_control_route("next", "Kendali langsung: buka soal berikutnya (jawaban diterima).")
_control_route("reveal", "Kendali langsung: tutup jawaban dan tampilkan sebaran pilihan.")
_control_route("explain", "Kendali langsung: tampilkan jawaban benar, pembahasan dan aturan yang dirujuk.")
_control_route("close", "Tutup lokakarya; jawaban langsung tiap peserta menjadi percobaan di catatannya.")


@bp.post("/workshops/join")
@document(
    "POST",
    "/workshops/join",
    "Bergabung dengan lokakarya memakai kode 6 karakter (peserta).",
    body=JoinWorkshop,
    responses={
        200: "Sudah bergabung sebelumnya",
        201: "Bergabung",
        404: "workshop_not_found",
        409: "workshop_closed",
        429: "rate_limited",
    },
)
@require("learner")
def join_workshop():
    try:
        return _join()
    except ApiError as exc:
        if exc.code == "workshop_not_found":  # counted here, after the idempotent transaction rolled back
            workshops.count_miss(f"learner:{current_principal().id}")
        raise


@idempotent()
def _join():
    body = parse_body(JoinWorkshop)
    ws, participant, created = workshops.join(current_principal().id, body.join_code)
    payload = {
        "workshop": workshop_state.public_workshop(ws),
        "participant": {"id": participant.id, "joined_at": participant.joined_at.isoformat()},
    }
    return jsonify(payload), 201 if created else 200


@bp.get("/workshops/<int:workshop_id>/current")
@document(
    "GET",
    "/workshops/{workshop_id}/current",
    "Soal yang sedang dibuka untuk peserta; kunci dan pembahasan baru muncul setelah pelatih membukanya.",
    responses={200: "Keadaan", 404: "workshop_not_found"},
)
@require("learner")
def workshop_current(workshop_id: int):
    return jsonify(workshop_state.participant_view(current_principal().id, workshop_id))


@bp.post("/workshops/<int:workshop_id>/answer")
@document(
    "POST",
    "/workshops/{workshop_id}/answer",
    "Jawab soal yang sedang dibuka (boleh diganti sampai pelatih menutupnya).",
    body=LiveAnswerBody,
    responses={
        200: "Diterima",
        404: "workshop_not_found",
        409: "question_closed / workshop_closed / workshop_not_live",
        422: "invalid_choice / too_many_choices",
    },
)
@require("learner")
@idempotent()
def workshop_answer(workshop_id: int):
    body = parse_body(LiveAnswerBody)
    received = workshops.answer(current_principal().id, workshop_id, body.question_index, body.choices)
    return jsonify({"received": received})


@bp.get("/workshops/<int:workshop_id>/results")
@document(
    "GET",
    "/workshops/{workshop_id}/results",
    "Hasil per peserta dan per soal, dan soal yang paling banyak salah (pelatih). Dicatat di log audit.",
    responses={200: "Hasil", 404: "workshop_not_found"},
)
@require(*TRAINERS)
def workshop_results(workshop_id: int):
    who = current_principal()
    ws = workshops.owned(who, workshop_id)
    report = workshop_report.results(ws)
    workshop_report.record_export(who.key, ws, "json", len(report["participants"]))
    return jsonify(report)


@bp.get("/workshops/<int:workshop_id>/report")
@document(
    "GET",
    "/workshops/{workshop_id}/report",
    "Laporan lokakarya: format=json|csv|xlsx; untuk CSV, part=participants (bawaan) atau questions. "
    "Setiap unduhan dicatat di log audit.",
    responses={200: "Laporan", 404: "workshop_not_found", 422: "invalid_format"},
)
@require(*TRAINERS)
def workshop_report_file(workshop_id: int):
    who = current_principal()
    ws = workshops.owned(who, workshop_id)
    return report_response(who.key, ws, request.args.get("format", "json"), request.args.get("part", "participants"))


def report_response(actor: str, ws, fmt: str, part: str = "participants") -> Response:
    """The report as a download, logged before it leaves. Shared with the trainer pages."""
    if fmt not in FORMATS:
        raise ApiError(422, "invalid_format", "Format harus salah satu dari: json, csv, xlsx.")
    if part not in ("participants", "questions"):
        raise ApiError(422, "invalid_part", "Bagian laporan harus 'participants' atau 'questions'.")
    report = workshop_report.results(ws)
    rows = len(report["participants"]) if fmt != "csv" or part == "participants" else len(report["most_missed"])
    workshop_report.record_export(actor, ws, fmt if fmt != "csv" else f"csv:{part}", rows)
    if fmt == "json":
        return jsonify(report)
    if fmt == "csv":
        body = workshop_report.csv_text(report, part).encode("utf-8")
        name = workshop_report.filename(ws, "csv" if part == "participants" else "soal.csv")
        resp = Response(body, mimetype="text/csv")
    else:
        resp = Response(workshop_report.xlsx_bytes(report), mimetype=workshop_report.XLSX_TYPE)
        name = workshop_report.filename(ws, "xlsx")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
