"""Register, log in and log out. A web session is a Token row of kind 'web' named by ``session["sid"]``."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from pydantic import ValidationError

from netralitas.errors import InvalidNIP
from netralitas.nip import parse_nip
from quiz_server import web
from quiz_server.errors import status_of
from quiz_server.models import Learner
from quiz_server.schemas import RegisterLearner
from quiz_server.security import current_principal
from quiz_server.services import passwords, registration
from quiz_server.services.errors import InvalidCredentials, RateLimited, UnknownInstansi
from quiz_server.services.mail import MailUnavailable
from quiz_server.services.registration import InvalidCode
from quiz_server.views.learner import bp, safe_next, searching_instansi

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
    "password": "Kata sandi minimal 10 karakter (paling banyak 200).",
}
_TEXT_FIELDS = ("nip", "nip_kind", "name", "email", "instansi_id", "unit")


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
    if "password" not in errors:
        problem = passwords.learner_password_problem(data["password"], data["nip"])
        if problem:
            errors["password"] = problem
    if form.get("password2", "") != data["password"] and "password" not in errors:
        errors["password2"] = "Ulangi kata sandi yang sama persis."
    return (None if errors else body), errors


def _register_form(values: dict, errors: dict[str, str], status: int = 200, message: str | None = None):
    page = render_template("learner/register.html", values=values, errors=errors, message=message)
    return page, status


@bp.route("/daftar", methods=["GET", "POST"])
def register():
    if request.method != "POST":  # GET, and HEAD (which CSRF protection does not check)
        return _register_form({"nip_kind": "pns"}, {})
    values = {f: request.form.get(f, "").strip() for f in _TEXT_FIELDS}  # passwords are never sent back
    if searching_instansi():  # the instansi field's "Cari": the same form, its list filtered
        return _register_form(values, {})
    body, errors = _validate(request.form)
    try:
        # The same budgets as the API: per address, and per NIP and email once the form is valid.
        web.throttle_registration(*((body.nip, body.email) if body else ()))
    except RateLimited as exc:
        return _register_form(values, {}, status_of(exc), exc.message)
    if body is None:
        return _register_form(values, errors, 422)
    try:
        session[PENDING] = start_registration(body)
    except UnknownInstansi as exc:
        return _register_form(values, {"instansi_id": exc.message}, 422)
    except MailUnavailable as exc:
        return _register_form(values, {}, status_of(exc), exc.message)
    return redirect(url_for("learner.register_code"), 303)


# The browser's pending registration id (opaque; useless without the code in the mail).
PENDING = "pending_registration"


def start_registration(body: RegisterLearner) -> str:
    """Request the code for a validated form (shared with the workshop join page)."""
    return registration.start(
        web.uow(), **body.model_dump(), **registration.mail_options(web.settings(), web.public_base())
    )


def resend_code() -> None:
    web.throttle_registration(step="register-code")
    reg = session.get(PENDING)
    if reg:
        registration.resend(web.uow(), reg, **registration.mail_options(web.settings(), web.public_base()))


def verify_code(code: str) -> Learner:
    """Check the code of this browser's pending registration and sign the new account in.

    Raises :class:`InvalidCode` or :class:`RateLimited`."""
    web.throttle_registration(step="register-code")
    reg = session.get(PENDING)
    if not reg:
        raise InvalidCode()
    # The page signs in with a web session, so no bearer token is issued that nobody would use.
    learner, raw = registration.verify(
        web.uow(), reg, code.strip()[:12], token_days=web.settings().token_ttl_days, kind="web"
    )
    web.begin_web_session("learner_id", learner.id, token=raw)  # also forgets the pending id
    return learner


def _code_form(error: str | None = None, status: int = 200, headers: dict | None = None):
    return render_template("learner/register_verify.html", error=error), status, headers or {}


@bp.route("/daftar/kode", methods=["GET", "POST"])
def register_code():
    if not session.get(PENDING):
        return redirect(url_for("learner.register"))
    if request.method != "POST":  # GET, and HEAD (which CSRF protection does not check)
        return _code_form()
    try:
        if request.form.get("action") == "resend":
            resend_code()
            flash(registration.RESENT, "ok")
            return redirect(url_for("learner.register_code"), 303)
        learner = verify_code(request.form.get("code", ""))
    except InvalidCode as exc:
        return _code_form(exc.message, 422)
    except RateLimited as exc:
        return _code_form(exc.message, status_of(exc), {"Retry-After": str(exc.extra["retry_after"])})
    except MailUnavailable as exc:
        return _code_form(exc.message, status_of(exc))
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
