"""Password pages: change (learners at /akun/kata-sandi, staff at /staf/kata-sandi), forgotten
password by email for learners (/lupa-sandi, /atur-ulang-sandi), and the HR form that grants a
learner extra quiz attempts (/hr/kesempatan-tambahan). The work is in services/lifecycle.py."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for

from netralitas.errors import InvalidInput, NotFound
from quiz_server import web
from quiz_server.errors import status_of
from quiz_server.security import current_principal, require
from quiz_server.services import catalog, lifecycle
from quiz_server.services.errors import RateLimited
from quiz_server.services.lifecycle import InvalidResetToken, WrongPassword
from quiz_server.views.staff import landing, staff_page

bp = Blueprint("account", __name__)

STAFF_ROLES = ("trainer", "hr", "admin", "grader")
RESET_SENT = (
    "Bila NIP itu terdaftar, kami sudah mengirim tautan untuk mengatur ulang kata sandi ke email akunnya. "
    "Tautan berlaku 30 menit dan hanya sekali pakai. Periksa juga folder spam."
)
CHANGED = "Kata sandi sudah diganti. Perangkat lain yang masih masuk dengan akun ini sudah dikeluarkan."


@bp.after_request
def _private(resp):
    # Reset links carry their token in the address: no Referer may take it to another site, and no
    # shared office computer may keep these pages in its cache.
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- change (signed in) ---------------------------------------------------------------------------


def _new_password_errors(form) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not form.get("current_password"):
        errors["current_password"] = "Isi kata sandi Anda saat ini."  # noqa: S105 - a message
    if not form.get("new_password"):
        errors["new_password"] = "Isi kata sandi baru."  # noqa: S105 - a message
    elif form.get("new_password2", "") != form.get("new_password"):
        errors["new_password2"] = "Ulangi kata sandi baru yang sama persis."
    return errors


def _change(template_ctx: dict, done_url: str):
    """GET shows the form; POST changes the password and keeps this browser's session only."""
    if request.method != "POST":  # GET, and HEAD (which CSRF protection does not check)
        return render_template("account/password.html", errors={}, **template_ctx)
    who = current_principal()
    errors = _new_password_errors(request.form)
    if not errors:
        try:
            web.throttle_password_change(who.key)
            lifecycle.change_password(
                web.uow(),
                who,
                current=request.form["current_password"],
                new=request.form["new_password"],
                keep_token=session.get("sid"),
            )
        except RateLimited as exc:
            return render_template("account/password.html", errors={}, message=exc.message, **template_ctx), 429
        except WrongPassword as exc:
            errors["current_password"] = exc.message
        except InvalidInput as exc:  # weak_password, same_password
            errors["new_password"] = exc.message
    if errors:
        return render_template("account/password.html", errors=errors, **template_ctx), 422
    flash(CHANGED, "ok")
    return redirect(done_url, 303)


@bp.route("/akun/kata-sandi", methods=["GET", "POST"])
@require("learner")
def learner_password():
    ctx = {"action": url_for("account.learner_password"), "minimum": 10, "back": url_for("learner.index")}
    return _change(ctx, url_for("learner.index"))


@bp.route("/staf/kata-sandi", methods=["GET", "POST"])
@staff_page(*STAFF_ROLES)
def staff_password():
    home = landing(current_principal().role)
    return _change({"action": url_for("account.staff_password"), "minimum": 12, "back": home}, home)


# -- forgotten password (learners; staff are reset by an admin) -------------------------------------


@bp.route("/lupa-sandi", methods=["GET", "POST"])
def forgot():
    if request.method != "POST":
        return render_template("account/forgot.html", nip="", sent=False, error=None)
    nip = request.form.get("nip", "").strip()[:40]
    if not nip:
        return render_template("account/forgot.html", nip="", sent=False, error="Isi NIP Anda."), 422
    try:
        web.throttle_password_reset(nip)
    except RateLimited as exc:
        page = render_template("account/forgot.html", nip=nip, sent=False, error=exc.message)
        return page, status_of(exc), {"Retry-After": str(exc.extra["retry_after"])}
    mail = lifecycle.request_reset(web.uow(), nip, link_base=web.public_base() + url_for("account.reset"))
    resp = make_response(render_template("account/forgot.html", nip="", sent=True, message=RESET_SENT, error=None))
    web.send_after_response(resp, mail)
    return resp


def _reset_form(token: str, errors: dict[str, str], status: int = 200, invalid: str | None = None):
    return render_template("account/reset.html", token=token, errors=errors, invalid=invalid), status


@bp.route("/atur-ulang-sandi", methods=["GET", "POST"])
def reset():
    token = (request.form.get("t") if request.method == "POST" else request.args.get("t")) or ""
    token = token.strip()[:100]
    try:
        lifecycle.check_reset(web.uow(), token)
    except InvalidResetToken as exc:
        return _reset_form("", {}, 410, exc.message)
    if request.method != "POST":
        return _reset_form(token, {})
    new = request.form.get("new_password", "")
    if not new:
        return _reset_form(token, {"new_password": "Isi kata sandi baru."}, 422)
    if request.form.get("new_password2", "") != new:
        return _reset_form(token, {"new_password2": "Ulangi kata sandi baru yang sama persis."}, 422)
    try:
        learner, raw = lifecycle.confirm_reset(
            web.uow(), token, new, token_days=web.settings().token_ttl_days, kind="web"
        )
    except InvalidResetToken as exc:  # used by a concurrent request meanwhile
        return _reset_form("", {}, 410, exc.message)
    except InvalidInput as exc:  # weak_password
        return _reset_form(token, {"new_password": exc.message}, 422)
    web.begin_web_session("learner_id", learner.id, token=raw)
    flash("Kata sandi baru sudah disimpan dan Anda sudah masuk. Perangkat lain sudah dikeluarkan.", "ok")
    return redirect(url_for("learner.index"), 303)


# -- HR: extra quiz attempts ("kesempatan tambahan") ------------------------------------------------


def _grants_page(values: dict, errors: dict[str, str], status: int = 200, message: str | None = None):
    who = current_principal()
    quizzes = sorted(catalog.snapshot(web.uow()).quizzes.values(), key=lambda q: q.position)
    page = render_template(
        "account/hr_grants.html",
        values=values,
        errors=errors,
        message=message,
        quizzes=quizzes,
        recent=lifecycle.recent_grants(web.uow(), who),
    )
    return page, status


@bp.route("/hr/kesempatan-tambahan", methods=["GET", "POST"])
@staff_page("hr", "admin")
def hr_grants():
    if request.method != "POST":
        return _grants_page({"extra": "1"}, {})
    values = {k: request.form.get(k, "").strip() for k in ("nip", "quiz_id", "extra", "reason")}
    errors = {}
    if not values["nip"]:
        errors["nip"] = "Isi NIP peserta."
    try:
        extra = int(values["extra"])
    except ValueError:
        extra = 0
    if not 1 <= extra <= lifecycle.MAX_GRANT:
        errors["extra"] = f"Isi angka 1 sampai {lifecycle.MAX_GRANT}."
    if not values["reason"]:
        errors["reason"] = "Alasan wajib diisi; peserta akan melihatnya."
    if errors:
        return _grants_page(values, errors, 422)
    try:
        grant = lifecycle.grant_attempts(
            web.uow(),
            current_principal(),
            values["nip"],
            quiz_id=values["quiz_id"],
            extra=extra,
            reason=values["reason"][:500],
        )
    except NotFound as exc:  # no such learner in this instansi, or no such quiz
        field = "quiz_id" if exc.code == "quiz_not_found" else "nip"
        return _grants_page(values, {field: exc.message}, 404)
    except InvalidInput as exc:
        return _grants_page(values, {"reason": exc.message}, 422)
    flash(f"Peserta {grant['nip']} mendapat {grant['extra']} kesempatan tambahan.", "ok")
    return redirect(url_for("account.hr_grants"), 303)
