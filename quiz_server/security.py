"""Who is calling: bearer tokens for the API, a server-side session for web pages.

Tokens carry 256 random bits and only their SHA-256 is stored, so a database
leak does not leak usable tokens. Web sessions are rows in the same table,
referenced from Flask's signed cookie, so logout really ends them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import delete, select

from quiz_server import db
from quiz_server.errors import ApiError, wants_json
from quiz_server.models import Learner, Staff, Token
from quiz_server.models.base import utcnow

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash verified when an account does not exist, so timing does not reveal registration."""
    return _hasher.hash("netralitas-dummy-password")

csrf = CSRFProtect()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    kind: str  # learner | staff
    id: int
    role: str  # learner | trainer | hr | admin
    instansi_id: str | None
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


def issue_token(s, *, kind: str, learner_id: int | None = None, staff_id: int | None = None, days: int = 30) -> str:
    raw = secrets.token_urlsafe(32)
    s.add(
        Token(
            token_hash=token_digest(raw),
            kind=kind,
            learner_id=learner_id,
            staff_id=staff_id,
            expires_at=utcnow() + dt.timedelta(days=days),
        )
    )
    return raw


def revoke_token(s, raw: str) -> None:
    s.execute(delete(Token).where(Token.token_hash == token_digest(raw)))


def _principal_for(raw: str, kind: str) -> Principal | None:
    """One query: the token with its learner or staff account."""
    row = db.session().execute(
        select(Token.expires_at, Learner, Staff)
        .outerjoin(Learner, Learner.id == Token.learner_id)
        .outerjoin(Staff, Staff.id == Token.staff_id)
        .where(Token.token_hash == token_digest(raw), Token.kind == kind)
    ).first()
    if row is None or row.expires_at < utcnow():
        return None
    if row.Learner is not None:
        learner = row.Learner
        return Principal("learner", learner.id, "learner", learner.instansi_id, learner.name)
    staff = row.Staff
    return staff and Principal("staff", staff.id, staff.role, staff.instansi_id, staff.username)


def current_principal() -> Principal | None:
    if "principal" not in g:
        g.principal = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            g.principal = _principal_for(header[7:].strip(), "api")
        elif not request.path.startswith("/api/") and session.get("sid"):
            g.principal = _principal_for(session["sid"], "web")
    return g.principal


def require(*roles: str) -> Callable:
    """Allow only the given roles. JSON callers get 401/403; browsers are sent to the login page."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            who = current_principal()
            if who is None:
                if wants_json():
                    raise ApiError(
                        401, "unauthorized", "Silakan masuk terlebih dahulu (token tidak ada atau kedaluwarsa)."
                    )
                return redirect(url_for("learner.login", next=request.full_path))
            if roles and who.role not in roles:
                raise ApiError(403, "forbidden", "Anda tidak berhak mengakses ini.")
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
