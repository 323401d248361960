"""Passwords, bearer tokens and the principal a token names. Plain Python: no Flask.

Tokens carry 256 random bits and only their SHA-256 is stored, so a database
leak does not leak usable tokens. Web sessions are token rows of kind 'web'.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from quiz_server.models import Learner, Staff, Token
from quiz_server.models.base import utcnow

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash verified when an account does not exist, so timing does not reveal registration."""
    return _hasher.hash("netralitas-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        # An empty hash (an erased learner, an account made by OpenID Connect) matches no password.
        return _hasher.verify(stored or _dummy_hash(), password) and bool(stored)
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


def issue_token(
    s: Session, *, kind: str, learner_id: int | None = None, staff_id: int | None = None, days: int = 30
) -> str:
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


def revoke_token(s: Session, raw: str) -> None:
    s.execute(delete(Token).where(Token.token_hash == token_digest(raw)))


def principal_for(s: Session, raw: str, kind: str) -> Principal | None:
    """One query: the token with its learner or staff account."""
    row = s.execute(
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
    if staff is None or staff.disabled_at is not None:  # disabled: refused at once, whatever it holds
        return None
    return Principal("staff", staff.id, staff.role, staff.instansi_id, staff.username)
