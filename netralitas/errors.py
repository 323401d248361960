"""Domain exceptions shared by the core library, the server and the CLI.

Each carries a stable ``code`` and an Indonesian ``message``. They say what went wrong, never how to
answer it: the server maps each *kind* below to an HTTP status in one table
(``quiz_server/errors.py``), the CLI turns any of them into a click error. Specific errors subclass a
kind (``QuizNotFound(NotFound)``) so callers can branch on types instead of code strings.
"""

from __future__ import annotations


class NetralitasError(Exception):
    code = "error"
    message = "Terjadi kesalahan."

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra: object) -> None:
        self.message = message or self.message
        if code:
            self.code = code
        self.extra: dict[str, object] = extra  # machine-readable detail returned with the error
        super().__init__(self.message)


# The kinds of failure. A new error subclasses one of these; the web layer needs no change.


class BadRequest(NetralitasError):
    code = "bad_request"
    message = "Permintaan tidak dapat diproses."


class InvalidInput(NetralitasError):
    code = "validation_error"
    message = "Isian tidak valid."


class Unauthenticated(NetralitasError):
    code = "unauthorized"
    message = "Silakan masuk terlebih dahulu."


class Forbidden(NetralitasError):
    code = "forbidden"
    message = "Anda tidak berhak mengakses ini."


class NotFound(NetralitasError):
    code = "not_found"
    message = "Data tidak ditemukan."


class Conflict(NetralitasError):
    code = "conflict"
    message = "Permintaan bertentangan dengan keadaan data saat ini."


class PayloadTooLarge(NetralitasError):
    code = "payload_too_large"
    message = "Data yang dikirim terlalu besar."


class UnsupportedMediaType(NetralitasError):
    code = "unsupported_media_type"
    message = "Kirim data sebagai JSON (Content-Type: application/json)."


class TooManyRequests(NetralitasError):
    """Refused for now; ``extra["retry_after"]`` (seconds) says when to try again."""

    code = "rate_limited"
    message = "Terlalu banyak percobaan. Coba lagi sebentar lagi."


class Unavailable(NetralitasError):
    code = "unavailable"
    message = "Layanan sedang sibuk atau tidak tersedia. Coba lagi sebentar lagi."


class Misconfigured(NetralitasError):
    """The installation, not the caller, is at fault (a missing tool, content not loaded)."""

    code = "misconfigured"
    message = "Server belum disiapkan dengan benar. Hubungi admin."


class ContentError(Misconfigured):
    code = "content_invalid"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"Konten tidak valid ({len(problems)} masalah):\n" + "\n".join(problems))


class InvalidNIP(InvalidInput):
    """An NIP or NI PPPK that fails a structural check; ``reason`` says which."""

    code = "invalid_nip"

    def __init__(self, message: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(message, reason=reason)
