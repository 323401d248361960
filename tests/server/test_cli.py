"""The server-side commands, run as a person would: real processes, real gunicorn, real SQLite."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import MINI

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "NETRALITAS_INSTANCE": str(tmp_path / "instance"),
        "NETRALITAS_CONTENT": str(MINI),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
    }


def run(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "netralitas"), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def wait_healthy(url: str, proc: subprocess.Popen, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited early"
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or too busy starting to answer
            pass
        time.sleep(0.1)  # polling interval, bounded by the deadline above
    raise AssertionError(f"{url} not healthy in {deadline_s}s")


def test_serve_migrates_loads_and_answers_on_any_port(env):
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "netralitas"), "serve", "--demo", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        inst = requests.get(f"http://127.0.0.1:{port}/api/v1/instansi", timeout=5).json()["instansi"]
        assert {"id": "kab-bengkalis", "name": "Pemerintah Kabupaten Bengkalis"} in inst
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Konten versi 1.0.0 dimuat" in out


def test_content_load_is_idempotent(env):
    first = run(env, "content", "load")
    assert first.returncode == 0, first.stderr
    assert "dimuat" in first.stdout
    again = run(env, "content", "load")
    assert again.returncode == 0
    assert "tidak berubah" in again.stdout


def test_users_add_and_errors(env, tmp_path):
    ok = run(env, "users", "add", "pelatih1", "--role", "trainer", "--password-stdin", stdin="kata-sandi-panjang\n")
    assert ok.returncode == 0, ok.stderr
    dup = run(env, "users", "add", "pelatih1", "--role", "trainer", "--password-stdin", stdin="kata-sandi-panjang\n")
    assert dup.returncode == 1
    assert "[user_exists]" in dup.stderr and "Traceback" not in dup.stderr
    hr = run(env, "users", "add", "hr1", "--role", "hr", "--password-stdin", stdin="kata-sandi-panjang\n")
    assert hr.returncode == 1 and "[instansi_required]" in hr.stderr
    csv = tmp_path / "inst.csv"
    csv.write_text("id,name\nkab-contoh,Pemerintah Kabupaten Contoh\n")
    imp = run(env, "instansi", "import", str(csv))
    assert imp.returncode == 0 and "1 instansi" in imp.stdout
    hr = run(
        env,
        "users",
        "add",
        "hr1",
        "--role",
        "hr",
        "--instansi",
        "kab-contoh",
        "--password-stdin",
        stdin="kata-sandi-panjang\n",
    )
    assert hr.returncode == 0, hr.stderr


def test_instansi_import_rejects_bad_file(env, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("kode,nama\nx,y\n")
    res = run(env, "instansi", "import", str(csv))
    assert res.returncode == 1
    assert "[invalid_csv]" in res.stderr and "Traceback" not in res.stderr


def test_instansi_import_and_list(env, tmp_path):
    empty = run(env, "instansi", "list")
    assert empty.returncode == 0 and "Belum ada instansi" in empty.stdout and "instansi import" in empty.stdout
    good = tmp_path / "instansi.csv"
    good.write_text("id,name\nkab-contoh,Pemerintah Kabupaten Contoh\nbkn,Badan Kepegawaian Negara\n", "utf-8")
    assert run(env, "instansi", "import", str(good)).returncode == 0
    # A bad file imports nothing, says which rows, and never shows a traceback.
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\nbaru,Instansi Baru\nbaru,Lagi\n,Tanpa Id\n", "utf-8")
    res = run(env, "instansi", "import", str(bad))
    assert res.returncode == 1 and "[invalid_csv]" in res.stderr and "Traceback" not in res.stderr
    assert "baris 3" in res.stderr and "baris 4" in res.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,name\nx,Kabupaten Bône\n".encode("latin-1"))
    res = run(env, "instansi", "import", str(latin))
    assert res.returncode == 1 and "UTF-8" in res.stderr and "Traceback" not in res.stderr
    table = run(env, "instansi", "list")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAMA"]
    assert [line.split()[0] for line in lines[1:-1]] == ["bkn", "kab-contoh"]  # by name; nothing of bad.csv
    assert lines[-1] == "(2 instansi)"
    as_json = json.loads(run(env, "instansi", "list", "--json").stdout)
    assert as_json["instansi"][1] == {"id": "kab-contoh", "name": "Pemerintah Kabupaten Contoh"}
