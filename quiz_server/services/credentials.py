"""Passwords, bearer tokens and the principal a token names. Plain Python: no Flask.

Tokens carry 256 random bits and only their SHA-256 is stored, so a database
leak does not leak usable tokens. Web sessions are token rows of kind 'web'.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.orm import Session

from quiz_server.fastsql import Prepared
from quiz_server.models import Learner, Staff, Token
from quiz_server.models.base import utcnow

# Argon2id with argon2-cffi's defaults (RFC 9106's second recommended option: t=3, 64 MiB). An
# installation may tune them to its hardware (ARGON2_TIME_COST, ARGON2_MEMORY_KIB; docs/deploy.md);
# the test suite lowers them so thousands of sign-ups stay cheap. A stored hash names its own
# parameters, so hashes made under other settings keep verifying.
_hasher = PasswordHasher()


def configure_hasher(*, time_cost: int | None = None, memory_kib: int | None = None) -> None:
    """Set the cost of new hashes for this process (called by ``create_app`` from its settings)."""
    global _hasher
    time_cost = _hasher.time_cost if time_cost is None else time_cost
    memory_kib = _hasher.memory_cost if memory_kib is None else memory_kib
    if time_cost < 1 or memory_kib < 8 * _hasher.parallelism:
        raise ValueError("ARGON2_TIME_COST minimal 1 dan ARGON2_MEMORY_KIB minimal 8 x paralelisme")
    if (time_cost, memory_kib) != (_hasher.time_cost, _hasher.memory_cost):
        _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=_hasher.parallelism)
        _dummy_hash.cache_clear()


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
    forget_principals()


# Learners' bearer tokens are looked up on every API call (the attempt hot path, issue #18): a
# lookup is kept in this process for CACHE_SECONDS. Anything in this process that revokes a token or
# changes a learner's account clears the cache (forget_principals); a revocation made by another
# process takes effect here within CACHE_SECONDS. Staff tokens and web sessions are never cached, so
# disabling a staff account or signing out of a page is immediate everywhere.
CACHE_SECONDS = 1.0
_CACHE_MAX = 20_000
_cache: dict[str, tuple[float, dt.datetime, Principal]] = {}


def forget_principals() -> None:
    """Drop every cached token lookup of this process."""
    _cache.clear()


def principal_for(s: Session | Connection, raw: str, kind: str) -> Principal | None:
    """The caller a token stands for: one query (the token with its learner or staff account), or
    for a learner's bearer token a lookup of the last CACHE_SECONDS."""
    digest = token_digest(raw)
    if kind == "api":
        hit = _cache.get(digest)
        if hit is not None and hit[0] > time.monotonic() and hit[1] >= utcnow():
            return hit[2]
    who, expires_at = _lookup(s, digest, kind)
    if who is not None and kind == "api" and who.kind == "learner":
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[digest] = (time.monotonic() + CACHE_SECONDS, expires_at, who)
    return who


def _lookup(s: Session | Connection, digest: str, kind: str) -> tuple[Principal | None, dt.datetime | None]:
    """One Core statement, compiled once: the token with its learner's or staff account's columns."""
    row = _LOOKUP.first(s if isinstance(s, Connection) else s.connection(), {"digest": digest, "kind": kind})
    if row is None or row.expires_at < utcnow():
        return None, None
    if row.learner_id is not None:
        return Principal("learner", row.learner_id, "learner", row.learner_instansi, row.learner_name), row.expires_at
    if row.staff_id is None or row.disabled_at is not None:  # disabled: refused at once, whatever it holds
        return None, None
    return Principal("staff", row.staff_id, row.role, row.staff_instansi, row.username), row.expires_at


_LOOKUP = Prepared(
    select(
        Token.expires_at,
        Learner.id.label("learner_id"),
        Learner.instansi_id.label("learner_instansi"),
        Learner.name.label("learner_name"),
        Staff.id.label("staff_id"),
        Staff.role,
        Staff.instansi_id.label("staff_instansi"),
        Staff.username,
        Staff.disabled_at,
    )
    .select_from(Token)
    .outerjoin(Learner, Learner.id == Token.learner_id)
    .outerjoin(Staff, Staff.id == Token.staff_id)
    .where(Token.token_hash == bindparam("digest"), Token.kind == bindparam("kind"))
)
