"""Idempotency-Key handling for every POST.

A retry with the same key and body replays the first response and creates
nothing; the same key with another body is refused. In the transactional mode
the record is written in the same transaction as the change it protects, so a
crash can never leave a change without its record (or the reverse).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Callable

from cryptography.fernet import Fernet
from flask import Response, current_app, make_response, request
from sqlalchemy.exc import IntegrityError

from quiz_server import db
from quiz_server.errors import ApiError
from quiz_server.models import IdempotencyRecord
from quiz_server.security import current_principal

HEADER = "Idempotency-Key"


def _request_hash() -> str:
    body = request.get_data(cache=True) or b""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + canonical).hexdigest()


def _replay(rec: IdempotencyRecord, digest: str) -> Response:
    if rec.request_hash != digest:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "Idempotency-Key ini sudah dipakai untuk permintaan lain. Buat kunci baru untuk permintaan baru.",
        )
    resp = make_response(_cipher().decrypt(rec.body.encode()), rec.status)
    resp.mimetype = "application/json"
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def idempotent(transactional: bool = True) -> Callable:
    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            key = request.headers.get(HEADER)
            if not key:
                return view(*args, **kwargs)
            if len(key) > 200:
                raise ApiError(422, "invalid_idempotency_key", "Idempotency-Key terlalu panjang (maks. 200 karakter).")
            who = current_principal()
            principal = who.key if who else "anonymous"
            digest = _request_hash()
            if not transactional:
                rec = db.session().get(IdempotencyRecord, (principal, key))
                if rec:
                    return _replay(rec, digest)
                resp = make_response(view(*args, **kwargs))
                try:
                    with db.write() as s:
                        s.add(_record(principal, key, digest, resp))
                except IntegrityError:
                    pass  # a concurrent twin stored it first; both answers are equivalent
                return resp
            rec = db.session().get(IdempotencyRecord, (principal, key))
            if rec:
                return _replay(rec, digest)
            try:
                with db.held_write():
                    resp = make_response(view(*args, **kwargs))
                    db.finish_held(_record(principal, key, digest, resp) if resp.status_code < 300 else None)
                return resp
            except IntegrityError:
                # Lost a race with the same key: the twin's change and record are committed; ours is not.
                s = db.session()
                s.rollback()
                rec = s.get(IdempotencyRecord, (principal, key))
                if rec is None:
                    raise
                return _replay(rec, digest)

        return inner

    return wrap


def _cipher() -> Fernet:
    """Stored responses can hold a fresh bearer token (registration, login): keep them encrypted
    with a key derived from the server secret, so a copy of the database alone reveals none."""
    secret = current_app.config["SECRET_KEY"].encode()
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"idempotency:" + secret).digest()))


def _record(principal: str, key: str, digest: str, resp: Response) -> IdempotencyRecord:
    body = _cipher().encrypt(resp.get_data()).decode()
    return IdempotencyRecord(principal=principal, key=key, request_hash=digest, status=resp.status_code, body=body)
