"""HTTP client for the quiz server, made for slow and flaky connections.

- Every call has a connect and a read timeout.
- Connection errors, timeouts, 5xx and 429 are retried with exponential
  backoff and jitter; a ``Retry-After`` from the server is honoured (and a wait
  longer than ``max_wait`` is reported instead of blocking the learner).
- Every POST carries an ``Idempotency-Key`` made once per logical action and
  reused on each retry, so a retry after a lost response never counts twice.
- A submit that cannot reach the server goes to the outbox on disk
  (:mod:`netralitas.outbox`) and :meth:`QuizClient.flush_outbox` sends it later.
- Failures surface as :class:`ClientError` with a stable code and an
  Indonesian message that a widget can show as is.
"""

from __future__ import annotations

import email.utils
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from netralitas import userconfig
from netralitas.errors import NetralitasError
from netralitas.outbox import Entry, Outbox

ENV_SERVER = "NETRALITAS_SERVER"
DEFAULT_SERVER = "http://127.0.0.1:5000"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ENV_TOKEN_STORE = "NETRALITAS_TOKEN_STORE"  # noqa: S105 - the name of a setting, not a secret
TOKEN_STORES = ("file", "memory")
# Identities of token store "memory", by config folder, in this process only. A Voila visitor has a
# kernel of their own, so this dict holds one visitor's login; a file would hold everyone's.
_MEMORY_TOKENS: dict[str, dict[str, Any]] = {}

_STATUS_MESSAGES = {
    401: ("unauthorized", "Sesi Anda berakhir atau Anda belum masuk. Silakan masuk lagi."),
    403: ("forbidden", "Akun ini tidak berhak melakukan tindakan ini."),
    404: ("not_found", "Data tidak ditemukan di server kuis."),
    429: ("rate_limited", "Terlalu banyak permintaan. Coba lagi sebentar lagi."),
}


class ClientError(NetralitasError):
    """A failure a learner can read: stable ``code``, Indonesian ``message``, HTTP ``status`` if any."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message, code=code)


class ServerUnreachable(ClientError):
    def __init__(self, server: str, *, timed_out: bool = False) -> None:
        what = "tidak menjawab tepat waktu" if timed_out else "tidak dapat dihubungi"
        super().__init__(
            "server_unreachable",
            f"Server kuis ({server}) {what}. Periksa koneksi internet Anda, lalu coba lagi.",
        )


def new_key() -> str:
    return uuid.uuid4().hex


def default_token_store() -> str:
    """``$NETRALITAS_TOKEN_STORE`` (``file`` or ``memory``), else ``memory`` in a Voila kernel, else ``file``.

    Voila runs every visitor's kernel as the same OS user with the same config folder, so a token file
    would log the next visitor in as the previous one. JupyterLab has one user per lab and keeps the file,
    so a login in 00-mulai reaches every other notebook.
    """
    chosen = os.environ.get(ENV_TOKEN_STORE, "").strip().lower()
    if chosen in TOKEN_STORES:
        return chosen
    voila = os.environ.get("SERVER_SOFTWARE", "").startswith("voila/")
    return "memory" if voila or any(k.startswith("VOILA_") for k in os.environ) else "file"


@dataclass
class SubmitOutcome:
    """``result`` when the server graded the attempt; ``queued`` when it waits in the outbox."""

    result: dict[str, Any] | None = None
    queued: bool = False
    error: ClientError | None = None


@dataclass
class FlushReport:
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # attempt id -> result
    rejected: dict[str, ClientError] = field(default_factory=dict)  # attempt id -> why
    pending: list[str] = field(default_factory=list)  # attempt ids still waiting
    stopped_by: ClientError | None = None  # why sending stopped early (offline, logged out)


class QuizClient:
    """One learner's connection to the quiz server; token and outbox live in ``config_dir``."""

    def __init__(
        self,
        server: str | None = None,
        config_dir: Path | str | None = None,
        *,
        timeout: tuple[float, float] = (5.0, 20.0),
        retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 10.0,
        session: requests.Session | None = None,
        token_store: str | None = None,
    ) -> None:
        self.config_dir = Path(config_dir) if config_dir else userconfig.config_dir()
        store = token_store or default_token_store()
        if store not in TOKEN_STORES:
            raise ValueError(f"token_store must be one of {TOKEN_STORES}, not {store!r}")
        self.memory_only = store == "memory"  # the token never touches the disk
        self._server = server.rstrip("/") if server else None
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.http = session or requests.Session()
        self.sleep: Callable[[float], None] = time.sleep
        self.outbox = Outbox(self.config_dir / "outbox")

    # -- where and who -------------------------------------------------------------------------

    @property
    def server(self) -> str:
        """Explicit address, else ``$NETRALITAS_SERVER``, else the one saved in 00-mulai, else the default."""
        if self._server:
            return self._server
        if os.environ.get(ENV_SERVER):
            return os.environ[ENV_SERVER].rstrip("/")
        saved = userconfig.read_json(self.config_dir / "settings.json") or {}
        return str(saved.get("server") or DEFAULT_SERVER).rstrip("/")

    @property
    def server_from_env(self) -> bool:
        return not self._server and bool(os.environ.get(ENV_SERVER))

    def save_server(self, address: str) -> None:
        address = address.strip().rstrip("/")
        if not address.startswith(("http://", "https://")):
            raise ClientError("invalid_server", "Alamat server harus diawali http:// atau https://.")
        userconfig.write_json_atomic(self.config_dir / "settings.json", {"server": address})

    def _identity(self) -> dict[str, Any]:
        if self.memory_only:
            saved = _MEMORY_TOKENS.get(str(self.config_dir)) or {}
        else:
            saved = userconfig.read_json(self.config_dir / "token.json") or {}
        return saved if saved.get("server") == self.server and saved.get("token") else {}

    @property
    def token(self) -> str | None:
        """Read from the store on every use, so a login in one notebook reaches every other open notebook
        (the file store) or every widget of this kernel (the memory store)."""
        return self._identity().get("token")

    @property
    def identity(self) -> dict[str, Any]:
        """Who is logged in to this server: ``{"nip", "name", "role"}`` (empty when nobody)."""
        return {k: v for k, v in self._identity().items() if k in ("nip", "name", "role")}

    def _save_token(self, token: str, *, nip: str, name: str | None = None, role: str = "learner") -> None:
        data = {"server": self.server, "token": token, "nip": nip, "name": name, "role": role}
        if self.memory_only:
            _MEMORY_TOKENS[str(self.config_dir)] = data
        else:
            userconfig.write_json_atomic(self.config_dir / "token.json", data)

    def _forget_token(self) -> None:
        _MEMORY_TOKENS.pop(str(self.config_dir), None)
        userconfig.remove(self.config_dir / "token.json")

    def logout(self) -> bool:
        """Revoke the token on the server (``DELETE /api/v1/auth/token``), then forget it here.

        The file goes in every case. Returns False when the server could not be reached, so the
        caller can say that the token stays valid there until it expires.
        """
        token = self.token
        revoked = True
        if token:
            try:
                resp = self.http.delete(
                    self.server + "/api/v1/auth/token",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=self.timeout,
                )
                # 401: already revoked or expired, which is what logging out wants.
                revoked = resp.status_code in (204, 401)
            except requests.RequestException:
                revoked = False
        self._forget_token()
        return revoked

    # -- transport -----------------------------------------------------------------------------

    def _wait_for(self, attempt: int, resp: requests.Response | None) -> float:
        header = resp.headers.get("Retry-After") if resp is not None else None
        if header:
            try:
                return max(0.0, float(header))
            except ValueError:
                when = email.utils.parsedate_to_datetime(header)
                return max(0.0, when.timestamp() - time.time())
        step = min(self.max_wait, self.backoff * 2**attempt)
        return step * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security

    def _error(self, resp: requests.Response) -> ClientError:
        try:
            err = resp.json()["error"]
            code, message = str(err["code"]), str(err["message"])
        except (ValueError, KeyError, TypeError):
            code, message = _STATUS_MESSAGES.get(
                resp.status_code,
                ("server_error", "Server kuis sedang bermasalah. Coba lagi beberapa saat lagi."),
            )
        if code == "unauthorized":  # a bad password is also 401, with its own message
            message = _STATUS_MESSAGES[401][1]
        return ClientError(code, message, status=resp.status_code)

    def request(
        self, method: str, path: str, *, body: Any = None, key: str | None = None, auth: bool = True
    ) -> dict[str, Any]:
        """Send one logical request, retrying what is safe to retry; return the JSON answer."""
        headers = {"Accept": "application/json"}
        if method.upper() == "POST":
            headers["Idempotency-Key"] = key or new_key()
        if auth:
            token = self.token
            if not token:
                raise ClientError("not_logged_in", "Anda belum masuk. Masuk dulu di bagian 'Koneksi dan akun'.")
            headers["Authorization"] = f"Bearer {token}"
        failure: ClientError | None = None
        for attempt in range(self.retries + 1):
            resp = None
            try:
                resp = self.http.request(method, self.server + path, json=body, headers=headers, timeout=self.timeout)
            except requests.Timeout:
                failure = ServerUnreachable(self.server, timed_out=True)
            except requests.ConnectionError:
                failure = ServerUnreachable(self.server)
            else:
                if resp.status_code < 400:
                    return self._json(resp)
                failure = self._error(resp)
                if resp.status_code not in RETRY_STATUSES:
                    raise failure
            if attempt == self.retries:
                break
            wait = self._wait_for(attempt, resp)
            if wait > self.max_wait:
                raise ClientError(
                    failure.code, f"{failure.message} Coba lagi dalam {int(wait) + 1} detik.", status=failure.status
                )
            self.sleep(wait)
        assert failure is not None
        raise failure

    def _json(self, resp: requests.Response) -> dict[str, Any]:
        try:
            data = resp.json()
        except ValueError:
            raise ClientError(
                "bad_response", "Jawaban server kuis tidak dapat dibaca. Periksa alamat server."
            ) from None
        if not isinstance(data, dict):
            raise ClientError("bad_response", "Jawaban server kuis tidak dapat dibaca. Periksa alamat server.")
        return data

    # -- API -----------------------------------------------------------------------------------

    def health(self) -> bool:
        try:
            return self.request("GET", "/healthz", auth=False).get("status") == "ok"
        except ClientError:
            return False

    def instansi(self) -> list[dict[str, str]]:
        return self.request("GET", "/api/v1/instansi", auth=False)["instansi"]

    def register(
        self,
        *,
        nip: str,
        name: str,
        email: str,
        instansi_id: str,
        unit: str,
        password: str,
        nip_kind: str = "pns",
        key: str | None = None,
    ) -> dict[str, Any]:
        """Step one of two: ask for the email code. Returns ``{"registration_id", "expires_in",
        "message"}``, the same for every NIP; finish with :meth:`verify_registration`."""
        body = {
            "nip": nip,
            "nip_kind": nip_kind,
            "name": name,
            "email": email,
            "instansi_id": instansi_id,
            "unit": unit,
            "password": password,
        }
        return self.request("POST", "/api/v1/learners", body=body, key=key, auth=False)

    def verify_registration(self, registration_id: str, code: str, *, key: str | None = None) -> dict[str, Any]:
        """Step two: the 6-digit code from the email creates the account and logs in (the token is saved)."""
        body = {"registration_id": registration_id, "code": "".join(str(code).split())}
        data = self.request("POST", "/api/v1/learners/verify", body=body, key=key, auth=False)
        learner = data["learner"]
        self._save_token(data["token"], nip=learner["nip"], name=learner.get("name"))
        return learner

    def resend_code(self, registration_id: str, *, key: str | None = None) -> str:
        """Ask for a fresh code (the old one stops working); returns the server's message."""
        body = {"registration_id": registration_id}
        return self.request("POST", "/api/v1/learners/resend", body=body, key=key, auth=False)["message"]

    def login(self, nip: str, password: str, *, key: str | None = None) -> None:
        nip = "".join(nip.split())
        data = self.request("POST", "/api/v1/auth/token", body={"nip": nip, "password": password}, key=key, auth=False)
        self._save_token(data["token"], nip=nip, role=data.get("role", "learner"))

    def quizzes(self) -> list[dict[str, Any]]:
        return self.request("GET", "/api/v1/quizzes")["quizzes"]

    def progress(self) -> dict[str, Any]:
        return self.request("GET", "/api/v1/me/progress")

    def start_attempt(self, quiz_id: str, *, key: str | None = None) -> dict[str, Any]:
        return self.request("POST", f"/api/v1/quizzes/{quiz_id}/attempts", body={}, key=key)["attempt"]

    def get_attempt(self, attempt_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v1/attempts/{attempt_id}")["attempt"]

    def submit(self, attempt_id: str, answers: dict[str, list[str]], *, key: str | None = None) -> dict[str, Any]:
        """``answers``: the attempt's own question id -> its shown choice ids (both opaque, per attempt).

        The result's feedback holds only what the course's review options show now; ask again with
        :meth:`get_attempt` later to see more (e.g. the key once the quiz is passed or closed)."""
        body = {"answers": answers}
        return self.request("POST", f"/api/v1/attempts/{attempt_id}/submit", body=body, key=key)["result"]

    # -- outbox --------------------------------------------------------------------------------

    def _owner(self) -> str:
        return str(self.identity.get("nip") or "")

    def pending(self, quiz_id: str | None = None) -> list[Entry]:
        """Outbox entries of the logged-in learner on this server (optionally for one quiz)."""
        owner, server = self._owner(), self.server
        return [
            e
            for e in self.outbox.entries()
            if e.server == server and e.owner == owner and (quiz_id is None or e.quiz_id == quiz_id)
        ]

    def submit_or_queue(self, attempt_id: str, quiz_id: str, answers: dict[str, list[str]]) -> SubmitOutcome:
        """Submit; when the server cannot be reached, keep the answers in the outbox.

        The entry is written before the first send (write-ahead) and removed once
        the server answers, so no crash between the two can lose or double a submit.
        """
        waiting = self.outbox.get(attempt_id)
        same = waiting is not None and waiting.answers == answers
        entry = Entry(
            attempt_id=attempt_id,
            quiz_id=quiz_id,
            answers=answers,
            idempotency_key=waiting.idempotency_key if same and waiting else new_key(),
            server=self.server,
            owner=self._owner(),
        )
        self.outbox.put(entry)
        try:
            result = self._send_entry(entry)
        except ClientError as exc:
            if _transient(exc) or exc.code == "unauthorized":
                return SubmitOutcome(queued=True, error=exc)
            self.outbox.remove(attempt_id)
            raise
        self.outbox.remove(attempt_id)
        return SubmitOutcome(result=result)

    def _send_entry(self, entry: Entry) -> dict[str, Any]:
        try:
            return self.submit(entry.attempt_id, entry.answers, key=entry.idempotency_key)
        except ClientError as exc:
            if exc.code != "attempt_already_submitted":
                raise
            # Submitted earlier (another key, another device): the stored result is the answer.
            stored = self.get_attempt(entry.attempt_id).get("result")
            if stored is None:
                raise
            return stored

    def flush_outbox(self) -> FlushReport:
        """Send every waiting submit of this learner; stop at the first sign of being offline."""
        report = FlushReport()
        waiting = self.pending()
        for i, entry in enumerate(waiting):
            try:
                report.sent[entry.attempt_id] = self._send_entry(entry)
            except ClientError as exc:
                if _transient(exc) or exc.code == "unauthorized":
                    report.stopped_by = exc
                    report.pending = [e.attempt_id for e in waiting[i:]]
                    return report
                self.outbox.reject(entry, exc.code, exc.message)
                report.rejected[entry.attempt_id] = exc
                continue
            self.outbox.remove(entry.attempt_id)
        return report


def _transient(exc: ClientError) -> bool:
    """Worth trying again later: no answer at all, or the server said it was busy or broken."""
    return isinstance(exc, ServerUnreachable) or (exc.status is not None and exc.status in RETRY_STATUSES)
