"""Token login for learners (NIP) and staff (username)."""

from __future__ import annotations

from flask import jsonify

from netralitas.errors import InvalidInput
from quiz_server import web
from quiz_server.api.endpoint import PUBLIC, Call, endpoint
from quiz_server.schemas import TokenRequest
from quiz_server.services import accounts


@endpoint(
    "POST",
    "/auth/token",
    "Tukar NIP atau nama pengguna dan kata sandi dengan token bearer.",
    roles=PUBLIC,
    body=TokenRequest,
    idempotent=True,
    responses={200: "Token", 401: "invalid_credentials", 429: "rate_limited"},
)
def token(call: Call):
    body = call.body
    if (body.nip is None) == (body.username is None):
        raise InvalidInput("Isi salah satu: 'nip' atau 'username'.")
    web.throttle_login(accounts.login_key(nip=body.nip, username=body.username))
    raw, account = accounts.login(
        call.uow, nip=body.nip, username=body.username, password=body.password, token_days=call.settings.token_ttl_days
    )
    return jsonify({"token": raw, "role": getattr(account, "role", "learner")})
