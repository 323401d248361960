"""Two real app servers (gunicorn processes) on one PostgreSQL database: nothing lives in one
process's memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests import mailsink
from tests.conftest import MINI
from tests.server.conftest import PG_URL, _pg_schema_url, next_nip
from tests.server.test_api_flow import answers_for
from tests.server.test_cli import free_port, wait_healthy

pytestmark = pytest.mark.postgres
BIN = Path(sys.executable).parent


class Pair:
    def __init__(self, urls: list[str], db_url: str) -> None:
        self.urls = urls
        self.db_url = db_url

    def sql(self, query: str, **params):
        from sqlalchemy import create_engine, text

        from quiz_server.db import normalise_url

        eng = create_engine(normalise_url(self.db_url))
        try:
            with eng.connect() as conn:
                return conn.execute(text(query), params).all()
        finally:
            eng.dispose()


def register(url: str, body: dict, verify_on: str | None = None) -> requests.Response:
    """Both registration steps, the code read from the test's SMTP sink; ``verify_on`` another server."""
    mark = mailsink.shared().mark()
    asked = requests.post(f"{url}/api/v1/learners", json=body, timeout=30)
    assert asked.status_code == 202, asked.text
    code = mailsink.code_in(mailsink.shared().wait_for(body["email"], since=mark))
    done = {"registration_id": asked.json()["registration_id"], "code": code}
    return requests.post(f"{verify_on or url}/api/v1/learners/verify", json=done, timeout=30)


@pytest.fixture
def pair(tmp_path) -> Iterator[Pair]:
    if not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    for db_url in _pg_schema_url():
        procs, urls = [], []
        secret = "kunci-bersama-untuk-uji"
        try:
            for i in range(2):
                port = free_port()
                env = {
                    **os.environ,
                    "DATABASE_URL": db_url,
                    "NETRALITAS_CONTENT": str(MINI),
                    "NETRALITAS_INSTANCE": str(tmp_path / f"inst{i}"),
                    "NETRALITAS_SECRET_KEY": secret,
                    "CERTIFICATE_KEY_PATH": str(tmp_path / "kunci-sertifikat.pem"),
                    "NETRALITAS_PUBLIC_URL": f"http://127.0.0.1:{port}",  # links (web.public_base)
                    "NETRALITAS_MAIL_URL": mailsink.shared().url,  # registration codes: the test's SMTP sink
                }
                proc = subprocess.Popen(
                    [str(BIN / "netralitas"), "serve", "--demo", "--port", str(port), "--workers", "2"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                procs.append(proc)
                urls.append(f"http://127.0.0.1:{port}")
                wait_healthy(f"{urls[-1]}/healthz", proc, 90)  # one at a time: both migrate the same schema
            yield Pair(urls, db_url)
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(timeout=30)


def test_attempt_started_on_one_is_submitted_on_the_other(pair):
    a, b = pair.urls
    body = {
        "nip": next_nip(),
        "name": "Dua Server",
        "email": "d@example.go.id",
        "instansi_id": "bkn",
        "unit": "U",
        "password": "rahasia-sekali-123",
    }
    reg = register(a, body, verify_on=b)  # the pending registration lives in the shared database
    assert reg.status_code == 201, reg.text
    token = reg.json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    attempt = requests.post(f"{a}/api/v1/quizzes/m01/attempts", json={}, headers=h, timeout=30).json()["attempt"]
    # The same Idempotency-Key on the other server replays instead of creating a second attempt.
    key = {**h, "Idempotency-Key": "sama-di-dua-server"}
    first = requests.post(f"{a}/api/v1/quizzes/m01/attempts", json={}, headers=key, timeout=30)
    second = requests.post(f"{b}/api/v1/quizzes/m01/attempts", json={}, headers=key, timeout=30)
    assert first.json() == second.json()
    assert pair.sql("SELECT count(*) FROM attempts")[0][0] == 2

    class _Live:  # answers_for reads the key from the database, like a grader
        sql = staticmethod(pair.sql)

    r = requests.post(
        f"{b}/api/v1/attempts/{attempt['id']}/submit",
        json={"answers": answers_for(_Live, attempt)},
        headers=h,
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["result"]["percent"] == 100.0
    progress = requests.get(f"{a}/api/v1/me/progress", headers=h, timeout=30).json()
    assert progress["modules"][0]["best_percent"] == 100.0


def test_login_rate_limit_holds_across_both(pair):
    a, b = pair.urls
    nip = next_nip()
    register(
        a,
        {
            "nip": nip,
            "name": "N",
            "email": "n@example.go.id",
            "instansi_id": "bkn",
            "unit": "U",
            "password": "rahasia-sekali-123",
        },
    )
    codes = [
        requests.post(
            f"{(a, b)[i % 2]}/api/v1/auth/token", json={"nip": nip, "password": "salah"}, timeout=30
        ).status_code
        for i in range(12)
    ]
    assert codes[:10] == [401] * 10
    assert codes[10:] == [429, 429]


def test_web_session_from_one_works_on_the_other(pair):
    a, b = pair.urls
    nip = next_nip()
    register(
        a,
        {
            "nip": nip,
            "name": "Sesi",
            "email": "s@example.go.id",
            "instansi_id": "bkn",
            "unit": "U",
            "password": "rahasia-sekali-123",
        },
    )
    s = requests.Session()
    page = s.get(f"{a}/masuk", timeout=30).text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    s.post(f"{a}/masuk", data={"nip": nip, "password": "rahasia-sekali-123", "csrf_token": csrf}, timeout=30)
    dash = s.get(f"{b}/", timeout=30)
    assert "Sesi" in dash.text and "Keluar" in dash.text


def test_workshop_board_on_one_sees_answers_given_on_the_other(pair, tmp_path):
    a, b = pair.urls
    env = {
        **os.environ,
        "DATABASE_URL": pair.db_url,
        "NETRALITAS_CONTENT": str(MINI),
        "NETRALITAS_INSTANCE": str(tmp_path / "cli"),
    }
    made = subprocess.run(
        [str(BIN / "netralitas"), "users", "add", "pelatih-dua", "--role", "trainer", "--password-stdin"],
        env=env,
        input="kata-sandi-pelatih\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    tok = requests.post(
        f"{a}/api/v1/auth/token", json={"username": "pelatih-dua", "password": "kata-sandi-pelatih"}, timeout=30
    ).json()["token"]
    th = {"Authorization": f"Bearer {tok}"}
    ws = requests.post(
        f"{a}/api/v1/workshops",
        json={"title": "Dua server", "date": "2026-11-23", "place": "Aula", "quiz_id": "m01", "mode": "live"},
        headers=th,
        timeout=30,
    )
    ws = ws.json()["workshop"]
    reg = register(
        b,
        {
            "nip": next_nip(),
            "name": "Peserta",
            "email": "p@example.go.id",
            "instansi_id": "bkn",
            "unit": "U",
            "password": "rahasia-sekali-123",
        },
    )
    lh = {"Authorization": f"Bearer {reg.json()['token']}"}
    assert (
        requests.post(
            f"{b}/api/v1/workshops/join", json={"join_code": ws["join_code"]}, headers=lh, timeout=30
        ).status_code
        == 201
    )
    assert requests.post(f"{a}/api/v1/workshops/{ws['id']}/next", headers=th, timeout=30).status_code == 200
    current = requests.get(f"{b}/api/v1/workshops/{ws['id']}/current", headers=lh, timeout=30).json()
    question = current.get("question") or current
    choice = question["choices"][0]["id"]
    answered = requests.post(
        f"{b}/api/v1/workshops/{ws['id']}/answer",
        json={"question_index": 0, "choices": [choice]},
        headers=lh,
        timeout=30,
    )
    assert answered.status_code == 200, answered.text
    board = requests.get(f"{a}/api/v1/workshops/{ws['id']}/board", headers=th, timeout=30).json()
    assert (board["participants"], board["answered"]) == (1, 1)
