"""Learner registration, staff accounts, and logins that never reveal whether an NIP exists."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from netralitas.nip import parse_nip
from quiz_server import db
from quiz_server.errors import ApiError
from quiz_server.models import Instansi, Learner, Staff
from quiz_server.security import hash_password, issue_token, verify_password
from quiz_server.services import audit

ROLES = ("trainer", "hr", "admin")


def _bad_login() -> ApiError:
    # A fresh exception per refusal: one shared instance grows its __traceback__ on every raise and
    # keeps each failed attempt's frames, submitted passwords included, alive for the process's life.
    return ApiError(401, "invalid_credentials", "NIP/nama pengguna atau kata sandi salah.")


def register_learner(*, nip: str, nip_kind: str, name: str, email: str, instansi_id: str, unit: str, password: str):
    """Create a learner and return ``(learner, api_token)``."""
    parsed = parse_nip(nip, nip_kind)
    password_hash = hash_password(password)  # slow on purpose: outside the write transaction
    with db.write() as s:
        if s.get(Instansi, instansi_id) is None:
            raise ApiError(422, "unknown_instansi", "Instansi tidak dikenal. Pilih dari daftar instansi.")
        if s.scalar(select(Learner.id).where(Learner.nip == parsed.digits)):
            raise ApiError(409, "learner_exists", "NIP ini sudah terdaftar. Silakan masuk.")
        learner = Learner(
            nip=parsed.digits,
            nip_kind=parsed.kind.value,
            name=name,
            email=email,
            instansi_id=instansi_id,
            unit=unit,
            password_hash=password_hash,
        )
        s.add(learner)
        try:
            s.flush()
        except IntegrityError:  # a concurrent registration of the same NIP won the race
            raise ApiError(409, "learner_exists", "NIP ini sudah terdaftar. Silakan masuk.") from None
        token = issue_token(s, kind="api", learner_id=learner.id, days=current_app.config["TOKEN_TTL_DAYS"])
        audit.record(s, f"learner:{learner.id}", "register", learner.instansi_id)
    return learner, token


def _find_account(s: Session, *, nip: str | None, username: str | None) -> Learner | Staff | None:
    if nip is not None:
        digits = "".join(str(nip).split())
        return s.scalar(select(Learner).where(Learner.nip == digits))
    return s.scalar(select(Staff).where(Staff.username == username))


def login(*, nip: str | None, username: str | None, password: str, kind: str = "api") -> tuple[str, Learner | Staff]:
    """Check credentials and issue a token (``kind`` 'api') or a web session ('web')."""
    account = _find_account(db.session(), nip=nip, username=username)
    ok = verify_password(account.password_hash if account else None, password)
    who = f"{'learner' if isinstance(account, Learner) else 'staff'}:{account.id}" if account else "anonymous"
    token = None
    with db.write() as s:
        if ok and account is not None:
            field = "learner_id" if isinstance(account, Learner) else "staff_id"
            token = issue_token(s, kind=kind, days=current_app.config["TOKEN_TTL_DAYS"], **{field: account.id})
            audit.record(s, who, "login", kind)
        else:
            audit.record(s, who, "login_failed", None)
    if token is None:
        raise _bad_login()
    return token, account


def create_staff(s: Session, *, username: str, role: str, password: str, instansi_id: str | None) -> Staff:
    if role not in ROLES:
        raise ApiError(422, "invalid_role", f"Peran harus salah satu dari: {', '.join(ROLES)}.")
    if role == "hr" and not instansi_id:
        raise ApiError(422, "instansi_required", "Akun HR wajib terikat pada satu instansi (--instansi).")
    if instansi_id and s.get(Instansi, instansi_id) is None:
        raise ApiError(422, "unknown_instansi", f"Instansi '{instansi_id}' tidak dikenal.")
    if s.scalar(select(Staff.id).where(Staff.username == username)):
        raise ApiError(409, "user_exists", f"Nama pengguna '{username}' sudah dipakai.")
    if len(password) < 10:
        raise ApiError(422, "weak_password", "Kata sandi minimal 10 karakter.")
    staff = Staff(username=username, role=role, instansi_id=instansi_id, password_hash=hash_password(password))
    s.add(staff)
    s.flush()
    audit.record(s, "cli", "staff_created", f"staff:{staff.id}", role=role)
    return staff
