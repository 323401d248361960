"""One error shape for every failure: ``{"error": {"code", "message"}}`` with an Indonesian message.

Domain exceptions are raised in the core library and the services; this module alone maps them to
HTTP, by kind (``STATUS``).
No stack trace ever reaches a client: unexpected errors are logged and answered
with a generic 500.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from netralitas import errors
from netralitas.errors import NetralitasError

log = logging.getLogger(__name__)


# The one table from kinds of domain error to HTTP status. An error's own class decides its code and
# message; its nearest kind in this table decides the status.
STATUS: dict[type[NetralitasError], int] = {
    errors.BadRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.InvalidInput: 422,
    errors.TooManyRequests: 429,
    errors.Misconfigured: 500,
    errors.Unavailable: 503,
}


def status_of(exc: NetralitasError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400  # a bare NetralitasError: the request could not be done as asked


_HTTP_MESSAGES = {
    400: ("bad_request", "Permintaan tidak dapat diproses."),
    401: ("unauthorized", "Silakan masuk terlebih dahulu."),
    403: ("forbidden", "Anda tidak berhak mengakses ini."),
    404: ("not_found", "Alamat tidak ditemukan."),
    405: ("method_not_allowed", "Metode tidak diizinkan untuk alamat ini."),
    413: ("payload_too_large", "Data yang dikirim terlalu besar."),
    415: ("unsupported_media_type", "Kirim data sebagai JSON (Content-Type: application/json)."),
    429: ("rate_limited", "Terlalu banyak percobaan. Coba lagi sebentar lagi."),
    500: ("internal_error", "Terjadi kesalahan pada server. Silakan coba lagi."),
    503: ("unavailable", "Layanan sedang sibuk atau basis data tidak tersedia. Coba lagi sebentar lagi."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or request.is_json


def error_response(status: int, code: str, message: str, headers: dict | None = None, **extra: object):
    if wants_json():
        body = {"error": {"code": code, "message": message, **extra}}
        resp = jsonify(body)
    else:
        resp = render_template("error.html", status=status, message=message, code=code)
    return resp, status, headers or {}


def _db_fault(exc: Exception) -> tuple[str, str]:
    """A stable code per kind of storage fault; nothing was stored when this is answered."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "database is locked" in text or "database is busy" in text:
        return "database_locked", "Basis data sedang sibuk; jawaban Anda belum tersimpan. Coba lagi sebentar lagi."
    if "disk is full" in text or "no space left" in text or "disk i/o error" in text:
        return "storage_full", "Penyimpanan server penuh; jawaban Anda belum tersimpan. Hubungi admin."
    return "database_unavailable", "Basis data tidak tersedia; jawaban Anda belum tersimpan. Coba lagi sebentar lagi."


def json_error(exc: BaseException) -> tuple[int, dict, dict[str, str]]:
    """The status, JSON body and headers the handlers below give ``exc``, without Flask: the hot
    path (quiz_server/hot.py) answers its errors with exactly what a Flask route would."""
    headers: dict[str, str] = {}
    if isinstance(exc, NetralitasError):
        extra = dict(exc.extra)
        if "retry_after" in extra:
            headers["Retry-After"] = str(extra.pop("retry_after"))
        status, code, message = status_of(exc), exc.code, exc.message
    elif isinstance(exc, HTTPException):
        status = exc.code or 500
        extra = {}
        code, message = _HTTP_MESSAGES.get(status, ("http_error", "Permintaan gagal."))
    elif isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        log.warning("database unavailable: %s", exc)
        status, extra, headers = 503, {}, {"Retry-After": "5"}
        code, message = _db_fault(exc)
    elif isinstance(exc, DataError | OverflowError):
        status, extra = 422, {}
        code, message = "invalid_value", "Nilai yang dikirim di luar batas yang diterima."
    else:
        log.error("unhandled error on the hot path", exc_info=exc)
        status, extra = 500, {}
        code, message = _HTTP_MESSAGES[500]
    return status, {"error": {"code": code, "message": message, **extra}}, headers


def init_app(app: Flask) -> None:
    @app.errorhandler(NetralitasError)
    def _domain(exc: NetralitasError):
        extra = dict(exc.extra)
        headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
        return error_response(status_of(exc), exc.code, exc.message, headers, **extra)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code, message = _HTTP_MESSAGES.get(exc.code or 500, ("http_error", "Permintaan gagal."))
        return error_response(exc.code or 500, code, message)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _db_down(exc: Exception):
        log.warning("database unavailable: %s", exc)
        code, message = _db_fault(exc)
        return error_response(503, code, message, {"Retry-After": "5"})

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _bad_value(exc: Exception):
        # A value the database cannot hold (an id or number far out of range): bad input, not a fault.
        return error_response(422, "invalid_value", "Nilai yang dikirim di luar batas yang diterima.")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        code, message = _HTTP_MESSAGES[500]
        return error_response(500, code, message)
