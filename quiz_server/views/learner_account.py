"""Register, log in and log out. A web session is a Token row of kind 'web' named by ``session["sid"]``."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from pydantic import ValidationError
from sqlalchemy import select

from netralitas.errors import InvalidNIP
from netralitas.nip import parse_nip
from quiz_server import db
from quiz_server.api.auth import throttle_login
from quiz_server.api.schemas import RegisterLearner
from quiz_server.errors import ApiError
from quiz_server.models import Instansi
from quiz_server.security import current_principal, issue_token, revoke_token
from quiz_server.services import accounts, audit, ratelimit
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
    return list(db.session().scalars(select(Instansi).order_by(Instansi.name)))


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


def _begin_web_session(s, learner_id: int) -> None:
    """Rotate the session: drop the old cookie contents and its Token row, then issue a fresh one."""
    old = session.get("sid")
    session.clear()
    if old:
        revoke_token(s, old)
    session["sid"] = issue_token(s, kind="web", learner_id=learner_id, days=current_app.config["TOKEN_TTL_DAYS"])


@bp.route("/daftar", methods=["GET", "POST"])
def register():
    if request.method == "GET":
        return _register_form({"nip_kind": "pns"}, {})
    values = {f: request.form.get(f, "").strip() for f in _TEXT_FIELDS}  # passwords are never sent back
    limit, window = current_app.config["RATE_LIMIT_REGISTER"]
    try:
        ratelimit.hit(f"register:{request.remote_addr}", limit, window)  # the same budget as the API
    except ApiError as exc:
        return _register_form(values, {}, exc.status, exc.message)
    body, errors = _validate(request.form)
    if body is None:
        return _register_form(values, errors, 422)
    try:
        learner, api_token = accounts.register_learner(**body.model_dump())
    except ApiError as exc:
        field = {"learner_exists": "nip", "unknown_instansi": "instansi_id"}.get(exc.code)
        if field is None:
            raise
        return _register_form(values, {field: exc.message}, 422)
    with db.write() as s:
        revoke_token(s, api_token)  # the page signs in with a web session; an unused bearer token is only risk
        _begin_web_session(s, learner.id)
        audit.record(s, f"learner:{learner.id}", "login", "web")
    flash(f"Pendaftaran berhasil. Selamat datang, {learner.name}!", "ok")
    return redirect(url_for("learner.index"), 303)


def _login_form(nip: str, error: str | None = None, status: int = 200, headers: dict | None = None):
    nxt = safe_next(request.values.get("next"))
    return render_template("learner/login.html", nip=nip, error=error, next=nxt), status, headers or {}


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return _login_form("")
    nip = request.form.get("nip", "").strip()[:40]
    password = request.form.get("password", "")
    if not nip or not password:
        return _login_form(nip, "Isi NIP dan kata sandi.", 422)
    try:
        throttle_login(nip)  # shared with the API, so switching channels buys no extra guesses
        raw, _account = accounts.login(nip=nip, username=None, password=password, kind="web")
    except ApiError as exc:
        if exc.code == "invalid_credentials":
            return _login_form(nip, BAD_LOGIN, 422)
        retry = exc.extra.get("retry_after")
        return _login_form(nip, exc.message, exc.status, {"Retry-After": str(retry)} if retry else None)
    old = session.get("sid")
    session.clear()
    session["sid"] = raw
    if old:
        with db.write() as s:
            revoke_token(s, old)
    return redirect(safe_next(request.form.get("next")) or url_for("learner.index"), 303)


@bp.post("/keluar")
def logout():
    who = current_principal()
    sid = session.get("sid")
    if sid:
        with db.write() as s:
            revoke_token(s, sid)  # the row is the session: without it the old cookie is worthless
            audit.record(s, who.key if who else "anonymous", "logout", "web")
    session.clear()
    flash("Anda sudah keluar. Sampai jumpa.", "ok")
    return redirect(url_for("learner.index"), 303)
