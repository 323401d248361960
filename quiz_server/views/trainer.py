"""Trainer pages under /pelatih: list and create workshops, the control screen, QR code, results, downloads.

Trainers sign in at /staf/masuk (views/staff.py). The projector board and its live updates
are in ``trainer_board.py``; both only ever show the signed-in trainer's own workshops.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from pydantic import ValidationError
from sqlalchemy import select

from netralitas.errors import InvalidInput, NetralitasError, NotFound
from quiz_server import web
from quiz_server.models import Quiz, Workshop
from quiz_server.security import current_principal
from quiz_server.services import joincode, workshop_report, workshop_state, workshops
from quiz_server.views.staff import staff_page
from quiz_server.workshop_schemas import CreateWorkshop

bp = Blueprint("trainer", __name__, url_prefix="/pelatih")
TRAINERS = ("trainer", "admin")
FIELD_MESSAGES = {
    "title": "Judul wajib diisi (paling banyak 200 karakter).",
    "date": "Isi tanggal lokakarya.",
    "place": "Tempat wajib diisi (paling banyak 200 karakter).",
    "quiz_id": "Pilih kuis dari daftar.",
    "mode": "Pilih mode: langsung atau mandiri.",
    "opens_at": "Tanggal dan jam mulai tidak valid.",
    "closes_at": "Tanggal dan jam selesai tidak valid.",
    "question_count": "Jumlah soal 1 sampai 30.",
}
ACTION_LABELS = {
    "next": "Soal berikutnya",
    "reveal": "Tutup jawaban dan tampilkan sebaran",
    "explain": "Tampilkan pembahasan",
    "close": "Tutup sesi dan catat hasil",
}
PHASE_LABELS = {
    "waiting": "Menunggu soal pertama",
    "question": "Soal dibuka: peserta menjawab",
    "revealed": "Jawaban ditutup: sebaran ditampilkan",
    "explained": "Pembahasan ditampilkan",
    "closed": "Sesi ditutup",
}


@bp.after_request
def _no_store(resp: Response) -> Response:
    resp.headers.setdefault("Cache-Control", "no-store")  # rosters and scores are personal data
    return resp


@bp.app_template_filter("waktu")
def waktu(value: str | dt.datetime | None) -> str:
    """An instant in the report time zone, e.g. '2026-03-02 09:00 WIB'."""
    if not value:
        return "–"
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    local = when.astimezone(web.settings().zone)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def links(ws: Workshop) -> workshop_state.Links:
    """The workshop's addresses as people outside the server reach them (NETRALITAS_PUBLIC_URL)."""
    base = web.public_base()
    return workshop_state.Links(
        join_address=base + url_for("workshop.join"),
        join_url=base + url_for("workshop.join", code=ws.join_code),
        qr_url=base + url_for("trainer.qr", workshop_id=ws.id),
    )


def owned_workshop(workshop_id: int) -> Workshop:
    """The signed-in trainer's workshop ``workshop_id``; anyone else's is not found."""
    return workshops.owned(web.uow(), current_principal(), workshop_id)


def _quizzes() -> list[Quiz]:
    return list(web.uow().session.scalars(select(Quiz).order_by(Quiz.position)))


def _index_page(values: dict, errors: dict[str, str], status: int = 200, message: str | None = None):
    uow = web.uow()
    items = [workshop_state.trainer_workshop(uow, ws, links(ws)) for ws in workshops.list_own(uow, current_principal())]
    page = render_template(
        "trainer/index.html", workshops=items, quizzes=_quizzes(), values=values, errors=errors, message=message
    )
    return page, status


@bp.get("/")
@staff_page(*TRAINERS)
def index():
    today = dt.datetime.now(web.settings().zone).date()
    return _index_page({"date": today.isoformat(), "mode": "live"}, {})


def _parse_create(form) -> tuple[CreateWorkshop | None, dict, dict[str, str]]:
    """Form strings -> the API's own body model, so page and API accept the same input."""
    keys = ("title", "date", "place", "quiz_id", "mode", "opens_at", "closes_at", "question_count")
    values = {k: form.get(k, "").strip() for k in keys} | {"leaderboard": form.get("leaderboard") == "1"}
    zone = web.settings().zone
    data: dict = {k: values[k] for k in ("title", "place", "quiz_id")} | {
        "mode": values["mode"] or "live",
        "leaderboard": values["leaderboard"],
    }
    errors: dict[str, str] = {}
    try:
        data["date"] = dt.date.fromisoformat(values["date"])
    except ValueError:
        errors["date"] = FIELD_MESSAGES["date"]
    for key in ("opens_at", "closes_at"):
        if values[key]:
            try:
                data[key] = dt.datetime.fromisoformat(values[key]).replace(tzinfo=zone)
            except ValueError:
                errors[key] = FIELD_MESSAGES[key]
    if values["question_count"]:
        data["question_count"] = int(values["question_count"]) if values["question_count"].isdigit() else -1
    body = None
    try:
        body = CreateWorkshop.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            errors.setdefault(field, FIELD_MESSAGES.get(field, "Isian tidak valid."))
    return (None if errors else body), values, errors


@bp.post("/lokakarya")
@staff_page(*TRAINERS)
def create():
    body, values, errors = _parse_create(request.form)
    if body is None:
        return _index_page(values, errors, 422)
    try:
        ws = workshops.create(web.uow(), current_principal(), **body.model_dump())
    except (NotFound, InvalidInput) as exc:  # an unknown quiz, a window in the past, a quiz without questions
        return _index_page(values, {}, 422, exc.message)
    flash(f"Lokakarya dibuat. Kode gabung: {ws.join_code}", "ok")
    return redirect(url_for("trainer.workshop", workshop_id=ws.id), 303)


def allowed_actions(ws: Workshop) -> list[tuple[str, str]]:
    """The buttons the control screen offers now: the next sensible step first, then the others."""
    if ws.status == "closed" or not workshops.is_open(ws):
        return []
    if ws.mode != "live":
        return [("close", "Tutup lokakarya")]
    out = []
    for action, (phases, _) in workshops.ACTIONS.items():
        if ws.phase not in phases:
            continue
        if action == "next":
            if ws.current_index + 1 >= len(ws.questions):
                continue
            label = "Mulai soal pertama" if ws.current_index < 0 else ACTION_LABELS["next"]
            out.append((action, label))
        else:
            out.append((action, ACTION_LABELS[action]))
    step = next_step(ws, [a for a, _ in out])
    return sorted(out, key=lambda item: item[0] != step)


def next_step(ws: Workshop, actions: list[str]) -> str | None:
    """The one action the control screen shows as primary: what a trainer does next in this phase.
    After the last question's explanation that is closing the session; a self-paced workshop has none."""
    if ws.mode != "live":
        return None
    wanted = {"waiting": "next", "question": "reveal", "revealed": "explain", "explained": "next"}.get(ws.phase)
    if wanted in actions:
        return wanted
    return "close" if ws.phase == "explained" and "close" in actions else None


def _panel_context(ws: Workshop) -> dict:
    uow = web.uow()
    actions = allowed_actions(ws)
    return {
        "ws": ws,
        "info": workshop_state.trainer_workshop(uow, ws, links(ws)),
        "board": workshop_state.board(uow, ws),
        "roster": workshop_state.roster(uow, ws),
        "actions": actions,
        "primary": next_step(ws, [a for a, _ in actions]),
        "phase_label": PHASE_LABELS.get(ws.phase, ws.phase),
    }


@bp.get("/lokakarya/<int:workshop_id>")
@staff_page(*TRAINERS)
def workshop(workshop_id: int):
    ws = owned_workshop(workshop_id)
    return render_template("trainer/workshop.html", **_panel_context(ws))


@bp.get("/lokakarya/<int:workshop_id>/panel")
@staff_page(*TRAINERS)
def panel(workshop_id: int):
    """The live part of the control screen as an HTML fragment, fetched by workshop-live.js on change."""
    ws = owned_workshop(workshop_id)
    return render_template("trainer/_panel.html", **_panel_context(ws))


@bp.post("/lokakarya/<int:workshop_id>/kendali")
@staff_page(*TRAINERS)
def control(workshop_id: int):
    action = request.form.get("action", "")
    version = request.form.get("version", "")
    if action == "close" and request.form.get("confirm") != "1":
        return redirect(url_for("trainer.close_confirm", workshop_id=workshop_id), 303)  # ask first
    try:
        workshops.control(
            web.uow(), current_principal(), workshop_id, action, int(version) if version.isdigit() else None
        )
    except NotFound:
        raise  # another trainer's workshop, or none: the error page
    except NetralitasError as exc:  # a stale screen or a move the room cannot make now: say so on the screen
        flash(exc.message, "error")
    return redirect(url_for("trainer.workshop", workshop_id=workshop_id), 303)


@bp.get("/lokakarya/<int:workshop_id>/tutup")
@staff_page(*TRAINERS)
def close_confirm(workshop_id: int):
    """The step before closing: what closing does, and one button that does it (works without JavaScript)."""
    ws = owned_workshop(workshop_id)
    return render_template("trainer/close.html", **_panel_context(ws))


@bp.get("/lokakarya/<int:workshop_id>/qr.png")
@staff_page(*TRAINERS)
def qr(workshop_id: int):
    ws = owned_workshop(workshop_id)
    png = joincode.qr_png(links(ws).join_url)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=3600"})


@bp.get("/lokakarya/<int:workshop_id>/hasil")
@staff_page(*TRAINERS)
def results(workshop_id: int):
    who = current_principal()
    uow = web.uow()
    ws = workshops.owned(uow, who, workshop_id)
    report = workshop_report.results(uow, ws, links(ws))
    workshop_report.record_export(uow, who.key, ws, "html", len(report["participants"]))
    return render_template("trainer/results.html", ws=ws, report=report)


@bp.get("/lokakarya/<int:workshop_id>/laporan.<fmt>")
@staff_page(*TRAINERS)
def download(workshop_id: int, fmt: str):
    who = current_principal()
    uow = web.uow()
    ws = workshops.owned(uow, who, workshop_id)
    if fmt not in ("csv", "xlsx"):
        raise NotFound("Format laporan tidak dikenal.", code="not_found")
    part = "questions" if request.args.get("bagian") == "soal" else "participants"
    _report, file = workshop_report.export(uow, who.key, ws, fmt, part, links=links(ws), zone=web.settings().zone)
    assert file is not None  # csv and xlsx are files
    resp = Response(file.content, mimetype=file.mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
