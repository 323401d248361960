"""Web login for staff (trainer, HR, admin) at /staf/masuk, and the guard for staff pages.

Staff sessions are the same ``tokens`` rows of kind 'web' as learner sessions, so logout
(``POST /keluar``) and session rotation work the same way for everyone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from netralitas.errors import Forbidden
from quiz_server import web
from quiz_server.errors import status_of
from quiz_server.models import Staff
from quiz_server.security import current_principal
from quiz_server.services.errors import InvalidCredentials, RateLimited
from quiz_server.views.learner import safe_next

bp = Blueprint("staff", __name__, url_prefix="/staf")

BAD_LOGIN = "Nama pengguna atau kata sandi salah."
# Where each role lands after logging in; an endpoint that is not registered (yet) falls back to "/".
LANDING = {"hr": "hr.dashboard", "admin": "admin_reports.national_page", "trainer": "trainer.index"}


def landing(role: str) -> str:
    endpoint = LANDING.get(role)
    return url_for(endpoint) if endpoint in current_app.view_functions else url_for("learner.index")


def staff_page(*roles: str) -> Callable:
    """Only signed-in staff with one of ``roles``; others are sent to the staff login or refused (403)."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            who = current_principal()
            if who is None:
                return redirect(url_for("staff.login", next=request.full_path))
            if who.role not in roles:
                raise Forbidden("Halaman ini hanya untuk akun staf yang berwenang.", code="forbidden")
            return view(*args, **kwargs)

        return inner

    return wrap


def _form(username: str, error: str | None = None, status: int = 200, headers: dict | None = None):
    nxt = safe_next(request.values.get("next"))
    page = render_template("staff/login.html", username=username, error=error, next=nxt)
    return page, status, headers or {}


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    if request.method != "POST":  # GET, and HEAD (which CSRF protection does not check)
        return _form("")
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")
    if not username or not password:
        return _form(username, "Isi nama pengguna dan kata sandi.", 422)
    try:
        account = web.page_login(username=username, password=password)  # the API's login counters
    except InvalidCredentials:
        return _form(username, BAD_LOGIN, 422)
    except RateLimited as exc:
        return _form(username, exc.message, status_of(exc), {"Retry-After": str(exc.extra["retry_after"])})
    assert isinstance(account, Staff)  # a username always names a staff account
    return redirect(safe_next(request.form.get("next")) or landing(account.role), 303)
