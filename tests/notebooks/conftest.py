"""Learner bundles, live quiz servers (one that can be stopped and started on the same port), fast clients,
a lossy proxy."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from jupyter_client.manager import AsyncKernelManager
from traitlets import default
from werkzeug.serving import make_server

from netralitas.cli import main
from netralitas.client import QuizClient
from quiz_server import create_app
from quiz_server.cli import prepare
from tests import mailsink
from tests.conftest import CONTENT, MINI
from tests.server.conftest import Live, next_nip, start_live

PASSWORD = "rahasia-sekali-123"


class IpcKernelManager(AsyncKernelManager):
    """A kernel that talks over Unix sockets in a folder of its own, not TCP ports: a TCP port
    picked free can be taken by another kernel or server of the parallel suite before the kernel
    binds it ("Address already in use": a kernel that dies at start). For NotebookClient's
    ``kernel_manager_class``: the client still creates, owns and shuts down the kernel."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    @default("ip")
    def _ip_default(self) -> str:
        folder = Path(tempfile.mkdtemp(prefix="kernel-ipc-"))
        _IPC_FOLDERS.append(folder)
        return str(folder / "kernel")


_IPC_FOLDERS: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def _remove_ipc_folders() -> Iterator[None]:
    yield
    for folder in _IPC_FOLDERS:
        shutil.rmtree(folder, ignore_errors=True)


def build_bundle(content: Path, out: Path) -> Path:
    """A learner bundle of ``content``, written by the real command into ``out``."""
    run = CliRunner().invoke(main, ["build", "learner-bundle", "--out", str(out), str(content)])
    assert run.exit_code == 0, run.output
    return out


@pytest.fixture(scope="session")
def real_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The learner bundle of content/, built once per session: what widgets and kernels read."""
    return build_bundle(CONTENT, tmp_path_factory.mktemp("bundle") / "real")


@pytest.fixture(scope="session")
def mini_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(MINI, tmp_path_factory.mktemp("bundle") / "mini")


class Restartable:
    """A real quiz server on a fixed port and SQLite file, stoppable to play "the connection dropped"."""

    def __init__(self, tmp_path: Path, content: Path = MINI) -> None:
        self.db_url = f"sqlite:///{tmp_path / 'quiz.sqlite'}"
        self.config = {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": self.db_url,
            "CONTENT_PATH": str(content),
            "SECRET_KEY": "test-secret",
            "MAIL_URL": mailsink.shared().url,  # registration codes (tests/mailsink.py)
        }
        self.port = 0
        self._server = None
        self._thread: threading.Thread | None = None
        self.live: Live | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Live:
        app = create_app(dict(self.config))
        prepare(app, demo=True)  # the tests register learners at the sample agencies
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.port = self._server.server_port
        # Links that leave the server come only from its configured address (web.public_base).
        app.extensions["settings"] = dataclasses.replace(app.extensions["settings"], public_url=self.url)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self.live = Live(self.url, app, self.db_url)
        return self.live

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        assert self._thread is not None
        self._thread.join(timeout=10)
        self._server.server_close()
        assert self.live is not None
        self.live.app.extensions["db"].engine.dispose()
        self._server = None


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[Restartable]:
    server = Restartable(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def live_server(tmp_path: Path, content: Path = MINI, **config) -> Iterator[Live]:
    """``start_live`` as a with-block, for tests that need their own server settings."""
    yield from start_live(tmp_path, f"sqlite:///{tmp_path / 'own.sqlite'}", content, **config)


@pytest.fixture
def mini_live(tmp_path: Path) -> Iterator[Live]:
    yield from start_live(tmp_path, f"sqlite:///{tmp_path / 'quiz.sqlite'}")


@pytest.fixture
def real_live(tmp_path: Path) -> Iterator[Live]:
    yield from start_live(tmp_path, f"sqlite:///{tmp_path / 'quiz.sqlite'}", CONTENT)


def fast_client(server: str, config_dir: Path, **kw) -> QuizClient:
    """A client that gives up quickly, so an offline test takes milliseconds, not seconds."""
    options = {"retries": 2, "backoff": 0.01, "timeout": (2.0, 10.0)} | kw
    return QuizClient(server, config_dir, **options)


def register(client: QuizClient, **over) -> dict:
    """Both registration steps through the client; the code comes from the test's SMTP sink, to
    which every ``start_live`` server mails. Returns the learner."""
    body = {
        "nip": next_nip(),
        "name": "Peserta Notebook",
        "instansi_id": "kab-bengkalis",
        "unit": "Bagian Umum",
        "password": PASSWORD,
    } | over
    body.setdefault("email", f"n{''.join(body['nip'].split())}@example.go.id")
    sink = mailsink.shared()
    mark = sink.mark()
    pending = client.register(**body)
    code = mailsink.code_in(sink.wait_for(body["email"], since=mark))
    return client.verify_registration(pending["registration_id"], code)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LossyProxy:
    """Forwards HTTP to a real server, but hangs up before relaying the answer to chosen requests.

    This is the weak connection in person: the server did the work, the learner
    never heard back. One request per connection keeps the framing simple.
    """

    def __init__(self, target_port: int, drop: Callable[[bytes], bool], times: int = 1) -> None:
        self.target_port, self.drop, self.left = target_port, drop, times
        self.requests: list[bytes] = []
        self.dropped = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._running = True
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self._running:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            body += conn.recv(65536)
        lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
        return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            request = self._read_request(conn)
            if not request:
                return
            self.requests.append(request)
            with socket.create_connection(("127.0.0.1", self.target_port)) as up:
                up.sendall(request)
                response = b""
                while chunk := up.recv(65536):
                    response += chunk
            if self.left > 0 and self.drop(request):
                self.left -= 1
                self.dropped += 1
                return  # the server answered; the learner never hears it
            conn.sendall(response)

    def close(self) -> None:
        self._running = False
        self._sock.close()
