"""Start-up (issue 16): `make run` refuses a taken port in Indonesian, `up` stops when a child dies,
ends its start with a summary, and sample agencies load only in demo mode.

Real processes throughout: GNU make, `netralitas up`, gunicorn, JupyterLab, SQLite.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from quiz_server import create_app, db, startup
from quiz_server.cli import demo_requested, prepare
from quiz_server.models import Instansi
from tests.conftest import MINI, ROOT

BIN = Path(sys.executable).parent
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - only passed to public_url, never bound


@contextmanager
def held_port() -> Iterator[int]:
    """A port another program listens on, as a stray server would."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = {
        **os.environ,
        "NETRALITAS_INSTANCE": str(tmp_path / "instance"),
        "NETRALITAS_CONTENT": str(MINI),
        "NETRALITAS_LEARNER_HOME": str(tmp_path / "peserta"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite'}",
    }
    for name in ("NETRALITAS_DEMO", "NETRALITAS_PUBLIC_URL", "NETRALITAS_MAIL_URL", "NETRALITAS_BANK"):
        out.pop(name, None)
    return out


@pytest.mark.parametrize(("var", "what"), [("PORT", "server kuis"), ("LAB_PORT", "JupyterLab peserta")])
def test_make_run_with_a_port_taken_exits_non_zero_in_indonesian(env, tmp_path, var, what):
    others = {"PORT": free_port(), "LAB_PORT": free_port()}
    with held_port() as port:
        others[var] = port
        # `-o .venv/.installed`: never (re)install the venv here; BIN: the venv running this test.
        done = subprocess.run(
            ["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", "run", f"BIN={BIN}"]
            + [f"{k}={v}" for k, v in others.items()],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert is_listening(port)  # the other program is untouched
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert f"port {port} ({what}) sudah dipakai program lain" in done.stderr
    assert f"make run {var}=" in done.stderr and "hentikan program" in done.stderr
    assert "Traceback" not in out and "siap" not in out and "http://" not in out
    assert not (tmp_path / "instance").exists()  # checked before anything was prepared or started


class Up:
    """`netralitas up` in the background; its output read line by line."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port, self.lab_port = free_port(), free_port()
        self.proc = subprocess.Popen(
            [str(BIN / "netralitas"), "up", "--port", str(self.port), "--lab-port", str(self.lab_port), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read_until(self, needle: str, deadline_s: float = 120) -> str:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
            if needle in line:
                return "".join(self.seen)
        raise AssertionError(f"no {needle!r} in:\n" + "".join(self.seen))

    def child(self, word: str) -> int:
        """The pid of up's direct child whose command line holds ``word``."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid and word.encode() in cmdline:
                return int(entry.name)
        raise AssertionError(f"no child {word!r} of up")

    def wait(self, deadline_s: float = 60) -> int:
        try:
            return self.proc.wait(timeout=deadline_s)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.wait()
        self.reader.join(timeout=30)
        self.proc.stdout.close()


def test_up_ends_with_a_summary_and_stops_when_the_server_dies(env, tmp_path):
    up = Up(env)
    try:
        out = up.read_until("Tekan Ctrl-C")
        assert "siap" in out
        assert f"Server kuis : http://127.0.0.1:{up.port}/" in out
        assert f"JupyterLab  : http://127.0.0.1:{up.lab_port}/lab?token=" in out
        assert str(tmp_path / "instance" / "outbox") in out  # mail goes to the file outbox
        assert "Hanya dapat dibuka dari komputer ini" in out and "HOST=0.0.0.0" in out
        # Plain mode: no sample agency; the summary says how to import the real list.
        assert "instansi import DAFTAR.csv" in out and "Instansi    : belum ada" in out
        assert "users add pelatih1 --role trainer" in out and "--role hr --instansi" in out
        inst = requests.get(f"http://127.0.0.1:{up.port}/api/v1/instansi", timeout=10).json()["instansi"]
        assert inst == []
        # The admin password comes last, framed, after everything else.
        tail = out[out.index("Langkah berikutnya") :]
        assert "AKUN ADMIN BARU" in tail and "kata sandi    : " in tail
        assert out.count("kata sandi    : ") == 1
        assert is_listening(up.lab_port)

        os.kill(up.child("serve"), signal.SIGTERM)  # the quiz server stops on its own
        assert up.wait() == 1
        out = up.read_until("[start_failed]")
        assert "Server kuis berhenti tiba-tiba" in out and "server.log" in out
        assert not is_listening(up.lab_port)  # the lab was stopped with it
    finally:
        up.close()


def test_up_stops_the_lab_when_the_server_dies_at_start(env, tmp_path):
    env["NETRALITAS_ACCESS_LOG"] = str(tmp_path / "tidak-ada" / "akses.log")  # gunicorn refuses to start
    up = Up(env)
    try:
        assert up.wait(120) == 1
        out = up.read_until("[start_failed]")
        assert "Server kuis berhenti tiba-tiba" in out and "akses.log" in out
        assert "siap" not in out and "Tekan Ctrl-C" not in out
        assert not is_listening(up.lab_port) and not is_listening(up.port)
    finally:
        up.close()


def test_sample_agencies_load_only_in_demo_mode(tmp_path, monkeypatch):
    def count(app) -> int:
        with db.unit_of_work(app) as uow:
            return len(uow.session.query(Instansi).all())

    cfg = {"INSTANCE_PATH": str(tmp_path), "CONTENT_PATH": str(MINI), "SECRET_KEY": "x"}
    plain = create_app({**cfg, "DATABASE_URL": f"sqlite:///{tmp_path / 'plain.sqlite'}"})
    prepare(plain)
    assert count(plain) == 0
    demo = create_app({**cfg, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite'}"})
    assert any("instansi contoh" in n for n in prepare(demo, demo=True))
    assert count(demo) == 10
    for app in (plain, demo):
        db.engine(app).dispose()
    monkeypatch.delenv("NETRALITAS_DEMO", raising=False)
    assert not demo_requested(False)
    monkeypatch.setenv("NETRALITAS_DEMO", "1")
    assert demo_requested(False)


def test_public_url_for_phones():
    assert startup.public_url(EVERY_INTERFACE, 5050, "https://pelatihan.example.go.id/").url == (
        "https://pelatihan.example.go.id"
    )
    assert startup.public_url("192.168.10.5", 5050, None) == startup.PublicUrl("http://192.168.10.5:5050", None)
    assert startup.public_url("::1", 5050, None).url == "http://[::1]:5050"
    room = startup.public_url(EVERY_INTERFACE, 5050, None)
    lan = startup.lan_address()
    if lan:
        assert room.url == f"http://{lan}:5050" and "NETRALITAS_PUBLIC_URL" in room.note
    else:  # no address on the training network: say that phones need the setting
        assert room.url == "http://127.0.0.1:5050" and "NETRALITAS_PUBLIC_URL" in room.note
