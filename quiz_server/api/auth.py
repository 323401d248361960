"""Token login for learners (NIP) and staff (username)."""

from __future__ import annotations

from flask import current_app, jsonify, request

from quiz_server.api import bp
from quiz_server.api.schemas import TokenRequest
from quiz_server.api.validation import document, parse_body
from quiz_server.errors import ApiError
from quiz_server.services import accounts, ratelimit
from quiz_server.services.idempotency import idempotent


def throttle_login(account_key: str) -> None:
    limit, window = current_app.config["RATE_LIMIT_LOGIN"]
    # A whole workshop room may share one NAT address: the per-address budget is generous.
    ratelimit.hit(f"login-ip:{request.remote_addr}", limit * current_app.config["RATE_LIMIT_LOGIN_ADDRESS_FACTOR"], window)
    ratelimit.hit(f"login-acct:{account_key}", limit, window)


@bp.post("/auth/token")
@document(
    "POST",
    "/auth/token",
    "Tukar NIP atau nama pengguna dan kata sandi dengan token bearer.",
    body=TokenRequest,
    responses={200: "Token", 401: "invalid_credentials", 429: "rate_limited"},
    auth=False,
)
def token():
    body = parse_body(TokenRequest)
    if (body.nip is None) == (body.username is None):
        raise ApiError(422, "validation_error", "Isi salah satu: 'nip' atau 'username'.")
    throttle_login(body.nip or body.username or "")
    return _issue(body)


@idempotent(transactional=False)
def _issue(body: TokenRequest):
    raw, account = accounts.login(nip=body.nip, username=body.username, password=body.password)
    role = getattr(account, "role", "learner")
    return jsonify({"token": raw, "role": role})
