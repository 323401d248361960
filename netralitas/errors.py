"""Domain exceptions shared by the core library, the server and the CLI.

Each carries a stable ``code`` and an Indonesian ``message``; the server maps
them to HTTP statuses in one error handler and the CLI to click errors.
"""

from __future__ import annotations


class NetralitasError(Exception):
    code = "error"
    status = 400
    message = "Terjadi kesalahan."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.message
        if code:
            self.code = code
        super().__init__(self.message)


class ContentError(NetralitasError):
    code = "content_invalid"
    status = 500

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"Konten tidak valid ({len(problems)} masalah):\n" + "\n".join(problems))


class InvalidNIP(NetralitasError):
    """An NIP or NI PPPK that fails a structural check; ``code`` says which."""

    code = "invalid_nip"
    status = 422

    def __init__(self, message: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(message)
