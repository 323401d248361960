"""Credential lifecycle: password change and reset, admin resets, disabled staff, attempt grants.

Plain Python: no Flask. Every change of a password revokes the account's tokens and web sessions
(all of them, or all but the one the change was made with) and is audited. Reset links carry 256
random bits; only their SHA-256 is stored, they work once, for :data:`RESET_MINUTES`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from netralitas.errors import Conflict, InvalidInput, NotFound
from quiz_server.models import AttemptGrant, Learner, PasswordReset, Staff, Token
from quiz_server.models.base import utcnow
from quiz_server.services import audit, catalog
from quiz_server.services.credentials import (
    Principal,
    forget_principals,
    hash_password,
    issue_token,
    token_digest,
    verify_password,
)
from quiz_server.services.errors import LearnerNotFound, QuizNotFound
from quiz_server.services.passwords import learner_password_problem, staff_password_problem
from quiz_server.uow import UnitOfWork

RESET_MINUTES = 30
MAX_GRANT = 10  # extra attempts in one grant


class WrongPassword(InvalidInput):
    code = "wrong_password"
    message = "Kata sandi saat ini salah."


class InvalidResetToken(InvalidInput):
    code = "invalid_reset_token"
    message = "Tautan atur ulang kata sandi tidak berlaku lagi (sudah dipakai atau lewat 30 menit). Minta tautan baru."


class StaffNotFound(NotFound):
    code = "staff_not_found"
    message = "Akun staf tidak ditemukan."


def _weak(problem: str | None) -> None:
    if problem:
        raise InvalidInput(problem, code="weak_password")


def nip_digits(nip: str) -> str:
    return "".join(str(nip).split())


def _revoke_all(uow: UnitOfWork, field: str, account_id: int, *, keep: str | None = None) -> int:
    """Delete every token and web session of one account, except the one whose raw value is ``keep``."""
    query = delete(Token).where(getattr(Token, field) == account_id)
    if keep:
        query = query.where(Token.token_hash != token_digest(keep))
    revoked = uow.write().execute(query).rowcount
    forget_principals()  # this process's cached token lookups (services/credentials.py)
    return revoked


# -- password change (signed in) ------------------------------------------------------------------


def change_password(uow: UnitOfWork, who: Principal, *, current: str, new: str, keep_token: str | None) -> int:
    """Change the caller's own password; every other token and session of the account is revoked.

    ``keep_token``: the raw token or session id the change was made with, which stays valid.
    Returns how many others were revoked.
    """
    model = Learner if who.kind == "learner" else Staff
    account = uow.session.get(model, who.id)
    if account is None:
        raise WrongPassword()
    if not verify_password(account.password_hash, current):
        raise WrongPassword()
    if isinstance(account, Learner):
        _weak(learner_password_problem(new, account.nip))
    else:
        _weak(staff_password_problem(new, account.username))
    if new == current:
        raise InvalidInput("Kata sandi baru harus berbeda dari yang sekarang.", code="same_password")
    password_hash = hash_password(new)  # slow on purpose: before the write transaction
    s = uow.write()
    s.execute(update(model).where(model.id == who.id).values(password_hash=password_hash))
    field = "learner_id" if who.kind == "learner" else "staff_id"
    revoked = _revoke_all(uow, field, who.id, keep=keep_token)
    if who.kind == "learner":
        s.execute(delete(PasswordReset).where(PasswordReset.learner_id == who.id))
    audit.record(uow, who.key, "password_changed", who.key, sessions_revoked=revoked)
    return revoked


# -- password reset by email (learners) -------------------------------------------------------------


@dataclass(frozen=True)
class ResetMail:
    to: str
    subject: str
    body: str


def _reset_body(name: str, link: str) -> str:
    return (
        f"Yth. {name},\n\n"
        "Kami menerima permintaan untuk mengatur ulang kata sandi akun Netralitas ASN Anda.\n"
        f"Buka tautan berikut dalam {RESET_MINUTES} menit untuk membuat kata sandi baru:\n\n"
        f"{link}\n\n"
        "Tautan ini hanya dapat dipakai satu kali. Setelah kata sandi diganti, semua perangkat yang\n"
        "masih masuk dengan akun Anda akan dikeluarkan.\n\n"
        "Bila Anda tidak meminta ini, abaikan email ini: kata sandi Anda tidak berubah.\n\n"
        "Salam,\nNetralitas ASN\n"
    )


def request_reset(uow: UnitOfWork, nip: str, *, link_base: str, now: dt.datetime | None = None) -> ResetMail | None:
    """Store a reset link for the learner with ``nip`` and return the mail to send, or None.

    Both paths do the same work up to the insert (a random token, its digest, one lookup, one audit
    record), and the caller answers both the same way and sends the mail after the answer, so
    neither the reply nor its timing tells whether the NIP is registered.
    """
    now = now or utcnow()
    raw = secrets.token_urlsafe(32)  # 256 bits
    digest = token_digest(raw)
    learner = uow.session.scalar(select(Learner).where(Learner.nip == nip_digits(nip)))
    s = uow.write()
    if learner is None or not learner.email:
        audit.record(uow, "anonymous", "password_reset_requested", None)
        return None
    s.add(
        PasswordReset(
            token_hash=digest,
            learner_id=learner.id,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=RESET_MINUTES),
        )
    )
    audit.record(uow, "anonymous", "password_reset_requested", f"learner:{learner.id}")
    link = f"{link_base}?t={raw}"
    return ResetMail(learner.email, "Atur ulang kata sandi Netralitas ASN", _reset_body(learner.name, link))


def _live_reset(uow: UnitOfWork, raw: str, now: dt.datetime) -> PasswordReset:
    row = uow.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_digest(raw or "")))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise InvalidResetToken()
    return row


def check_reset(uow: UnitOfWork, raw: str, *, now: dt.datetime | None = None) -> None:
    """Raise :class:`InvalidResetToken` unless ``raw`` is a live reset link (changes nothing)."""
    _live_reset(uow, raw, now or utcnow())


def confirm_reset(
    uow: UnitOfWork, raw: str, new_password: str, *, token_days: int, kind: str = "api", now: dt.datetime | None = None
) -> tuple[Learner, str]:
    """Set a new password from a reset link; every token and session dies; return ``(learner, token)``
    where ``token`` is a fresh one of ``kind`` ('api' or 'web') so the learner is signed in."""
    now = now or utcnow()
    row = _live_reset(uow, raw, now)
    learner = uow.session.get(Learner, row.learner_id)
    assert learner is not None  # the row cascades with its learner
    _weak(learner_password_problem(new_password, learner.nip))
    password_hash = hash_password(new_password)
    s = uow.write()
    # The compare-and-set on used_at makes the link single use even when two requests race.
    used = s.execute(
        update(PasswordReset).where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None)).values(used_at=now)
    ).rowcount
    if used != 1:
        raise InvalidResetToken()
    s.execute(update(Learner).where(Learner.id == learner.id).values(password_hash=password_hash))
    s.execute(delete(PasswordReset).where(PasswordReset.learner_id == learner.id, PasswordReset.id != row.id))
    revoked = _revoke_all(uow, "learner_id", learner.id)
    token = issue_token(s, kind=kind, learner_id=learner.id, days=token_days)
    who = f"learner:{learner.id}"
    audit.record(uow, who, "password_reset", who, sessions_revoked=revoked)
    return learner, token


# -- admin: reset any password, disable and enable staff --------------------------------------------


def random_password(username: str = "") -> str:
    while True:
        candidate = secrets.token_urlsafe(12)  # 16 characters, 96 bits
        if staff_password_problem(candidate, username or "x") is None:
            return candidate


def _account(uow: UnitOfWork, name_or_nip: str) -> Learner | Staff:
    """A staff account by username, else a learner by NIP."""
    staff = uow.session.scalar(select(Staff).where(Staff.username == name_or_nip))
    if staff is not None:
        return staff
    learner = uow.session.scalar(select(Learner).where(Learner.nip == nip_digits(name_or_nip)))
    if learner is None or learner.nip.startswith("X"):  # an erased learner has no account left
        raise NotFound(f"Tidak ada akun staf atau peserta '{name_or_nip}'.", code="account_not_found")
    return learner


def admin_reset_password(uow: UnitOfWork, name_or_nip: str, password: str, *, actor: str = "cli") -> str:
    """Set ``password`` on a staff account (username) or a learner (NIP); revoke every token and
    session; audited. Works for the last admin too. Returns a label of the account for messages."""
    account = _account(uow, name_or_nip)
    if isinstance(account, Staff):
        _weak(staff_password_problem(password, account.username))
        model, field, key, label = Staff, "staff_id", f"staff:{account.id}", f"{account.username} ({account.role})"
    else:
        _weak(learner_password_problem(password, account.nip))
        model, field, key, label = Learner, "learner_id", f"learner:{account.id}", f"peserta {account.nip}"
    password_hash = hash_password(password)
    s = uow.write()
    s.execute(update(model).where(model.id == account.id).values(password_hash=password_hash))
    revoked = _revoke_all(uow, field, account.id)
    if isinstance(account, Learner):
        s.execute(delete(PasswordReset).where(PasswordReset.learner_id == account.id))
    audit.record(uow, actor, "password_reset_by_admin", key, sessions_revoked=revoked)
    return label


def set_staff_disabled(uow: UnitOfWork, username: str, disabled: bool, *, actor: str = "cli") -> Staff:
    """Disable (no login; every token and session refused and deleted) or enable a staff account."""
    staff = uow.session.scalar(select(Staff).where(Staff.username == username))
    if staff is None:
        raise StaffNotFound(f"Akun staf '{username}' tidak ditemukan.")
    s = uow.write()
    if disabled:
        if staff.role == "admin" and _other_active_admins(uow, staff.id) == 0:
            raise Conflict(
                "Ini satu-satunya akun admin yang aktif; buat atau aktifkan admin lain dulu.", code="last_admin"
            )
        s.execute(update(Staff).where(Staff.id == staff.id).values(disabled_at=utcnow()))
        revoked = _revoke_all(uow, "staff_id", staff.id)
        audit.record(uow, actor, "staff_disabled", f"staff:{staff.id}", sessions_revoked=revoked)
    else:
        s.execute(update(Staff).where(Staff.id == staff.id).values(disabled_at=None))
        audit.record(uow, actor, "staff_enabled", f"staff:{staff.id}")
    return staff


def _other_active_admins(uow: UnitOfWork, staff_id: int) -> int:
    return uow.session.scalar(
        select(func.count())
        .select_from(Staff)
        .where(Staff.role == "admin", Staff.disabled_at.is_(None), Staff.id != staff_id)
    )


def list_staff(uow: UnitOfWork) -> list[Staff]:
    return list(uow.session.scalars(select(Staff).order_by(Staff.username)))


# -- attempt grants ("kesempatan tambahan") -------------------------------------------------------


def grant_attempts(uow: UnitOfWork, who: Principal, nip: str, *, quiz_id: str, extra: int, reason: str) -> dict:
    """``extra`` more attempts at ``quiz_id`` for the learner with ``nip``, by an admin or the HR of
    the learner's own instansi (HR of another instansi: :class:`LearnerNotFound`, as if there were
    no such learner). Audited; the reason is shown to the learner."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("Alasan wajib diisi.", code="reason_required")
    if not 1 <= extra <= MAX_GRANT:
        raise InvalidInput(f"Jumlah kesempatan tambahan 1 sampai {MAX_GRANT}.", code="invalid_extra")
    learner = uow.session.scalar(select(Learner).where(Learner.nip == nip_digits(nip)))
    if (
        learner is None
        or learner.nip.startswith("X")
        or (who.role != "admin" and learner.instansi_id != who.instansi_id)
    ):
        raise LearnerNotFound()
    if quiz_id not in catalog.snapshot(uow).quizzes:
        raise QuizNotFound()
    grant = AttemptGrant(learner_id=learner.id, quiz_id=quiz_id, extra=extra, reason=reason[:500], granted_by=who.key)
    s = uow.write()
    s.add(grant)
    s.flush()
    audit.record(uow, who.key, "attempt_grant", f"learner:{learner.id}", quiz_id=quiz_id, extra=extra)
    return {"id": grant.id, "nip": learner.nip, "quiz_id": quiz_id, "extra": extra, "reason": grant.reason}


_G = AttemptGrant.__table__
# Built once (every start and submit asks, issue #18): a statement made per call cost more to build
# and key for SQLAlchemy's cache than to run. The hot path reads it as a subquery of its own reads
# (attempts._USED, attempts._STANDING), with the same parameters.
GRANTED = select(func.coalesce(func.sum(_G.c.extra), 0)).where(
    _G.c.learner_id == bindparam("learner_id"), _G.c.quiz_id == bindparam("quiz_id")
)


def granted(uow: UnitOfWork, learner_id: int, quiz_id: str) -> int:
    """Extra attempts granted to one learner at one quiz (0 when none)."""
    return uow.conn.scalar(GRANTED, {"learner_id": learner_id, "quiz_id": quiz_id})


def grants_by_quiz(uow: UnitOfWork, learner_id: int) -> dict[str, list[dict[str, Any]]]:
    """The learner's grants per quiz, oldest first: ``{quiz_id: [{"extra", "reason", "at"}]}``."""
    rows = uow.session.execute(
        select(AttemptGrant.quiz_id, AttemptGrant.extra, AttemptGrant.reason, AttemptGrant.created_at)
        .where(AttemptGrant.learner_id == learner_id)
        .order_by(AttemptGrant.id)
    ).all()
    out: dict[str, list[dict[str, Any]]] = {}
    for quiz_id, extra, reason, at in rows:
        out.setdefault(quiz_id, []).append({"extra": extra, "reason": reason, "at": at.isoformat()})
    return out


def recent_grants(uow: UnitOfWork, who: Principal, limit: int = 20) -> list[dict[str, Any]]:
    """The latest grants the caller may see (HR: learners of its instansi; admin: all)."""
    q = (
        select(AttemptGrant, Learner.nip, Learner.name)
        .join(Learner, Learner.id == AttemptGrant.learner_id)
        .order_by(AttemptGrant.id.desc())
        .limit(limit)
    )
    if who.role != "admin":
        q = q.where(Learner.instansi_id == who.instansi_id)
    return [
        {"nip": nip, "name": name, "quiz_id": g.quiz_id, "extra": g.extra, "reason": g.reason, "at": g.created_at}
        for g, nip, name in uow.session.execute(q).all()
    ]
