"""Who is calling: bearer tokens for the API, a server-side session for web pages.

Tokens carry 256 random bits and only their SHA-256 is stored, so a database
leak does not leak usable tokens. Web sessions are rows in the same table,
referenced from Flask's signed cookie, so logout really ends them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from netralitas.errors import Forbidden, Unauthenticated
from quiz_server import web
from quiz_server.errors import wants_json
from quiz_server.services.credentials import (  # noqa: F401  (re-exported for the web layer)
    Principal,
    hash_password,
    issue_token,
    principal_for,
    revoke_token,
    token_digest,
    verify_password,
)

csrf = CSRFProtect()


def current_principal() -> Principal | None:
    if "principal" not in g:
        g.principal = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            g.principal = principal_for(web.uow().session, header[7:].strip(), "api")
        elif not request.path.startswith("/api/") and session.get("sid"):
            g.principal = principal_for(web.uow().session, session["sid"], "web")
    return g.principal


def require(*roles: str) -> Callable:
    """Allow only the given roles. JSON callers get 401/403; browsers are sent to the login page."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            who = current_principal()
            if who is None:
                if wants_json():
                    raise Unauthenticated(
                        "Silakan masuk terlebih dahulu (token tidak ada atau kedaluwarsa).", code="unauthorized"
                    )
                return redirect(url_for("learner.login", next=request.full_path))
            if roles and who.role not in roles:
                raise Forbidden("Anda tidak berhak mengakses ini.", code="forbidden")
            return view(*args, **kwargs)

        return inner

    return wrap


_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def _security_headers(resp):
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    if resp.mimetype == "text/html":
        resp.headers.setdefault("Content-Security-Policy", _CSP)
    if request.path.startswith("/api/"):
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.after_request(_security_headers)
