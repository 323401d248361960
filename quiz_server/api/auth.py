"""Tokens and passwords: login for learners (NIP) and staff (username), logout (revoke), password
change, and password reset by email for learners (services/lifecycle.py)."""

from __future__ import annotations

from flask import jsonify, request

from netralitas.errors import InvalidInput
from quiz_server import web
from quiz_server.api.endpoint import PUBLIC, Call, endpoint
from quiz_server.schemas import PasswordChange, PasswordResetConfirm, PasswordResetRequest, TokenRequest
from quiz_server.services import accounts, audit, lifecycle
from quiz_server.services.credentials import revoke_token

SIGNED_IN = ("learner", "trainer", "hr", "admin", "grader")
RESET_SENT = (
    "Bila NIP itu terdaftar, tautan untuk mengatur ulang kata sandi sudah dikirim ke email akunnya. "
    "Tautan berlaku 30 menit dan hanya sekali pakai. Periksa juga folder spam."
)


def _bearer() -> str:
    return request.headers.get("Authorization", "")[7:].strip()


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


@endpoint(
    "DELETE",
    "/auth/token",
    "Keluar: cabut token bearer yang dipakai untuk permintaan ini (langsung tidak berlaku).",
    roles=SIGNED_IN,
    responses={204: "Token dicabut", 401: "unauthorized"},
)
def revoke(call: Call):
    revoke_token(call.uow.write(), _bearer())
    audit.record(call.uow, call.me.key, "logout", "api")
    return "", 204


@endpoint(
    "POST",
    "/auth/password",
    "Ganti kata sandi sendiri; semua token dan sesi lain akun ini dicabut (token ini tetap berlaku).",
    roles=SIGNED_IN,
    body=PasswordChange,
    responses={200: "{message, sessions_revoked}", 422: "wrong_password / weak_password", 429: "rate_limited"},
)
def change_password(call: Call):
    web.throttle_password_change(call.me.key)
    revoked = lifecycle.change_password(
        call.uow, call.me, current=call.body.current_password, new=call.body.new_password, keep_token=_bearer()
    )
    return jsonify({"message": "Kata sandi sudah diganti.", "sessions_revoked": revoked})


@endpoint(
    "POST",
    "/auth/password-reset",
    "Minta tautan atur ulang kata sandi lewat email (peserta). Jawaban selalu sama, terdaftar atau tidak.",
    roles=PUBLIC,
    body=PasswordResetRequest,
    responses={202: "{message}", 429: "rate_limited"},
)
def password_reset(call: Call):
    web.throttle_password_reset(call.body.nip)
    mail = lifecycle.request_reset(call.uow, call.body.nip, link_base=web.public_base() + "/atur-ulang-sandi")
    resp = jsonify({"message": RESET_SENT})
    resp.status_code = 202
    web.send_after_response(resp, mail)
    return resp


@endpoint(
    "POST",
    "/auth/password-reset/confirm",
    "Atur kata sandi baru dengan token dari email; semua token lama dicabut dan token baru diberikan.",
    roles=PUBLIC,
    body=PasswordResetConfirm,
    responses={200: "{token, role}", 422: "invalid_reset_token / weak_password"},
)
def password_reset_confirm(call: Call):
    learner, raw = lifecycle.confirm_reset(
        call.uow, call.body.token, call.body.new_password, token_days=call.settings.token_ttl_days
    )
    audit.record(call.uow, f"learner:{learner.id}", "login", "api")
    return jsonify({"token": raw, "role": "learner"})
