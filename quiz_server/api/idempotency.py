"""Idempotency-Key handling for POST routes, around the request's unit of work.

A retry with the same key and body replays the first response and creates nothing; the same key
with another body is refused. The record is written in the same transaction as the change it
protects, so a crash can never leave a change without its record (or the reverse).

A stored reply is encrypted when it may hold a secret (a fresh bearer token: registration, login);
routes whose replies never do (attempt start and submit: ``endpoint(..., secret_reply=False)``)
store it as it is, which costs no encryption on the hot path. A Fernet token always begins with
``gAAAA`` and a JSON reply with ``{``, so both kinds replay from the same table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet
from flask import Response, current_app, make_response, request
from sqlalchemy import Connection, Row, bindparam, select
from sqlalchemy.exc import IntegrityError

from netralitas.errors import InvalidInput
from quiz_server.fastsql import Prepared
from quiz_server.models import IdempotencyRecord
from quiz_server.services.errors import IdempotencyKeyReused
from quiz_server.uow import Retry, UnitOfWork

if TYPE_CHECKING:
    from quiz_server.api.endpoint import Call

HEADER = "Idempotency-Key"


def request_digest(secret_key: str, method: str, path: str, body: bytes) -> str:
    """What a record remembers of its request: method, path and the body as canonical JSON."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    # Keyed with the server's secret: a login body holds a password, and a plain SHA-256 of it kept
    # for days would let anyone holding a copy of the database test guesses offline.
    secret = hashlib.sha256(b"idempotency-request:" + str(secret_key).encode()).digest()
    message = method.encode() + b" " + path.encode() + b"\n" + canonical
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def check_key(key: str) -> None:
    if len(key) > 200:
        raise InvalidInput("Idempotency-Key terlalu panjang (maks. 200 karakter).", code="invalid_idempotency_key")


def replayed(rec: Row, digest: str, secret_key: str) -> tuple[int, bytes]:
    """The stored reply (status, JSON body) of ``rec``; another body under the same key is refused."""
    if rec.request_hash != digest:
        raise IdempotencyKeyReused()
    stored = rec.body.encode()
    return rec.status, _cipher(secret_key).decrypt(stored) if stored.startswith(b"gAAAA") else stored


def stage_record(
    uow: UnitOfWork, principal: str, key: str, digest: str, status: int, data: bytes, *, encrypt: bool, secret_key: str
) -> None:
    """Write the record with the change it protects, in its transaction (``uow.stage``)."""
    body = _cipher(secret_key).encrypt(data).decode() if encrypt or not data.startswith(b"{") else data.decode()
    row = {"principal": principal, "key": key, "request_hash": digest, "status": status, "body": body}

    def store(conn: Connection) -> None:
        try:
            _INSERT.send(conn, row)
        except IntegrityError:
            # Lost a race with the same key: the twin's change and record are committed, ours is
            # not. Run again (web._in_unit_of_work, hot.HotPath): the lookup then replays the twin's reply.
            raise Retry() from None

    uow.stage(store)


def guarded(call: Call, produce: Callable[[], object], *, secret_reply: bool = True) -> Response:
    """Run ``produce`` (the view) at most once per (caller, key); add the record to the unit of work.

    ``secret_reply=False``: the reply never holds a secret, so it is stored unencrypted."""
    key = request.headers.get(HEADER)
    if not key:
        return make_response(produce())
    check_key(key)
    principal = call.who.key if call.who else "anonymous"
    secret_key = current_app.config["SECRET_KEY"]
    digest = request_digest(secret_key, request.method, request.path, request.get_data(cache=True) or b"")
    rec = find(call.uow.conn, principal, key)
    if rec is not None:
        status, data = replayed(rec, digest, secret_key)
        resp = make_response(data, status)
        resp.mimetype = "application/json"
        resp.headers["Idempotent-Replayed"] = "true"
        return resp
    resp = make_response(produce())
    if resp.status_code >= 300:
        return resp  # refusals are not recorded: the same key may be retried after fixing the input
    stage_record(
        call.uow, principal, key, digest, resp.status_code, resp.get_data(), encrypt=secret_reply, secret_key=secret_key
    )
    return resp


_T = IdempotencyRecord.__table__
_INSERT = Prepared(_T.insert(), keys=("principal", "key", "request_hash", "status", "body"))
_FIND = Prepared(
    select(_T.c.request_hash, _T.c.status, _T.c.body).where(
        _T.c.principal == bindparam("principal"), _T.c.key == bindparam("key")
    )
)


def find(conn: Connection, principal: str, key: str) -> Row | None:
    """The stored record (request_hash, status, body), by a Core statement compiled once."""
    return _FIND.first(conn, {"principal": principal, "key": key})


def _cipher(secret_key: str) -> Fernet:
    """Stored responses can hold a fresh bearer token (registration, login): keep them encrypted
    with a key derived from the server secret, so a copy of the database alone reveals none."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"idempotency:" + str(secret_key).encode()).digest()))
