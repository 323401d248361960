"""Register, log in and log out. A web session is a Token row of kind 'web' named by ``session["sid"]``."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from pydantic import ValidationError
from sqlalchemy import select

from netralitas.errors import InvalidNIP
from netralitas.nip import parse_nip
from quiz_server import web
from quiz_server.errors import status_of
from quiz_server.models import Instansi
from quiz_server.schemas import RegisterLearner
from quiz_server.security import current_principal
from quiz_server.services import accounts
from quiz_server.services.errors import InvalidCredentials, LearnerExists, RateLimited, UnknownInstansi
from quiz_server.views.learner import bp, safe_next

# One message for an unknown NIP and a wrong password, so the form never reveals who is registered.
BAD_LOGIN = "NIP atau kata sandi salah."

# Shown when a field fails the API's own constraints (RegisterLearner), so web and API accept the same input.
FIELD_MESSAGES = {
    "nip": "NIP terlalu panjang.",
    "nip_kind": "Pilih jenis NIP: PNS atau PPPK.",
    "name": "Nama wajib diisi (paling banyak 200 karakter).",
    "email": "Alamat email tidak valid. Contoh: nama@instansi.go.id.",
    "instansi_id": "Pilih instansi dari daftar.",
    "unit": "Unit kerja wajib diisi (paling banyak 200 karakter).",
    "password": "Kata sandi minimal 8 karakter (paling banyak 200).",
}
_TEXT_FIELDS = ("nip", "nip_kind", "name", "email", "instansi_id", "unit")


def _instansi_options() -> list[Instansi]:
    return list(web.uow().session.scalars(select(Instansi).order_by(Instansi.name)))


def _validate(form) -> tuple[RegisterLearner | None, dict[str, str]]:
    """Check every field at once so the learner sees all problems in one round trip."""
    data = {f: form.get(f, "").strip() for f in _TEXT_FIELDS} | {"password": form.get("password", "")}
    errors: dict[str, str] = {}
    body = None
    try:
        body = RegisterLearner.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            errors.setdefault(field, FIELD_MESSAGES.get(field, "Isian tidak valid."))
    if "nip" not in errors and data["nip_kind"] in ("pns", "pppk"):
        try:
            parse_nip(data["nip"], data["nip_kind"])
        except InvalidNIP as exc:
            errors["nip"] = exc.message
    if form.get("password2", "") != data["password"] and "password" not in errors:
        errors["password2"] = "Ulangi kata sandi yang sama persis."
    return (None if errors else body), errors


def _register_form(values: dict, errors: dict[str, str], status: int = 200, message: str | None = None):
    page = render_template(
        "learner/register.html", values=values, errors=errors, message=message, instansi=_instansi_options()
    )
    return page, status


@bp.route("/daftar", methods=["GET", "POST"])
def register():
    if request.method != "POST":  # GET, and HEAD (which CSRF protection does not check)
        return _register_form({"nip_kind": "pns"}, {})
    values = {f: request.form.get(f, "").strip() for f in _TEXT_FIELDS}  # passwords are never sent back
    try:
        web.throttle_registration()  # the same budget as the API
    except RateLimited as exc:
        return _register_form(values, {}, status_of(exc), exc.message)
    body, errors = _validate(request.form)
    if body is None:
        return _register_form(values, errors, 422)
    uow = web.uow()
    try:
        # The page signs in with a web session, so no bearer token is issued that nobody would use.
        learner, raw = accounts.register_learner(
            uow, **body.model_dump(), token_days=web.settings().token_ttl_days, kind="web"
        )
    except LearnerExists as exc:
        return _register_form(values, {"nip": exc.message}, 422)
    except UnknownInstansi as exc:
        return _register_form(values, {"instansi_id": exc.message}, 422)
    web.begin_web_session("learner_id", learner.id, token=raw)
    flash(f"Pendaftaran berhasil. Selamat datang, {learner.name}!", "ok")
    return redirect(url_for("learner.index"), 303)


def _login_form(nip: str, error: str | None = None, status: int = 200, headers: dict | None = None):
    nxt = safe_next(request.values.get("next"))
    return render_template("learner/login.html", nip=nip, error=error, next=nxt), status, headers or {}


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    if request.method != "POST":  # GET, and HEAD (which CSRF protection does not check)
        return _login_form("")
    nip = request.form.get("nip", "").strip()[:40]
    password = request.form.get("password", "")
    if not nip or not password:
        return _login_form(nip, "Isi NIP dan kata sandi.", 422)
    try:
        web.page_login(nip=nip, password=password)
    except InvalidCredentials:
        return _login_form(nip, BAD_LOGIN, 422)
    except RateLimited as exc:
        return _login_form(nip, exc.message, status_of(exc), {"Retry-After": str(exc.extra["retry_after"])})
    return redirect(safe_next(request.form.get("next")) or url_for("learner.index"), 303)


@bp.post("/keluar")
def logout():
    web.end_web_session(current_principal())
    flash("Anda sudah keluar. Sampai jumpa.", "ok")
    return redirect(url_for("learner.index"), 303)
