"""Storage faults: locked database, full disk, unreachable PostgreSQL. The API answers 503 with
Retry-After and a stable code, never a success that was not stored, and recovers without a restart."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from quiz_server.db import make_engine
from tests.server.conftest import PG_URL, _pg_schema_url, start_live
from tests.server.tcpproxy import TcpProxy
from tests.server.test_api_flow import answers_for, start


def submit(api, attempt, answers):
    return api.post(
        f"/api/v1/attempts/{attempt['id']}/submit",
        json={"answers": answers},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )


def stored(live, attempt_id: str) -> bool:
    return live.sql("SELECT submitted_at FROM attempts WHERE id = :id", id=attempt_id)[0][0] is not None


def test_locked_database_gives_503_then_recovers(tmp_path):
    path = tmp_path / "quiz.sqlite"
    for live in start_live(tmp_path, f"sqlite:///{path}", SQLITE_BUSY_TIMEOUT_MS=300):
        _, api = live.register()
        attempt = start(api).json()["attempt"]
        answers = answers_for(live, attempt)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
        try:
            r = submit(api, attempt, answers)
            assert r.status_code == 503
            assert r.headers["Retry-After"].isdigit()
            assert r.json()["error"]["code"] == "database_locked"
            health = live.api().get("/healthz")
            assert health.status_code == 503 and health.json()["checks"]["write"] == "locked"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert not stored(live, attempt["id"])
        again = submit(api, attempt, answers)
        assert again.status_code == 200 and again.json()["result"]["percent"] == 100.0
        assert stored(live, attempt["id"])
        assert live.api().get("/healthz").json() == {"status": "ok"}


@pytest.fixture
def tiny_disk(tmp_path) -> Path:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)]).returncode:
        pytest.skip("uji disk penuh butuh root untuk memasang tmpfs kecil")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_gives_503_then_recovers(tmp_path, tiny_disk):
    for live in start_live(tmp_path, f"sqlite:///{tiny_disk / 'quiz.sqlite'}"):
        _, api = live.register()
        attempts = [start(api).json()["attempt"] for _ in range(2)]
        filler = tiny_disk / "filler"
        with filler.open("wb", buffering=0) as fh:  # fill the disk to the last byte
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError:
                pass
        r = submit(api, attempts[0], answers_for(live, attempts[0]))
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] in {"storage_full", "database_unavailable"}
        health = live.api().get("/healthz")
        assert health.status_code == 503 and health.json()["checks"]["disk"] == "full"
        filler.unlink()
        ok = submit(api, attempts[0], answers_for(live, attempts[0]))
        assert ok.status_code == 200, ok.text
        assert stored(live, attempts[0]["id"]) and not stored(live, attempts[1]["id"])
        assert live.api().get("/healthz").status_code == 200


@pytest.mark.postgres
def test_unreachable_postgres_gives_503_then_recovers(tmp_path):
    if not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    for url in _pg_schema_url():
        parts = urlsplit(url)
        proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
        proxy.start()
        proxied = url.replace(parts.netloc, f"{parts.hostname}:{proxy.port}", 1)
        try:
            for live in start_live(tmp_path, proxied):
                _, api = live.register()
                attempt = start(api).json()["attempt"]
                proxy.stop()
                r = submit(api, attempt, {})
                assert r.status_code == 503
                assert r.json()["error"]["code"] == "database_unavailable"
                assert r.headers["Retry-After"]
                assert live.api().get("/healthz").status_code == 503
                proxy.start()
                ok = submit(api, attempt, {})
                assert ok.status_code == 200, ok.text
                assert live.api().get("/healthz").json() == {"status": "ok"}
        finally:
            proxy.stop()


def _terminate(backend_pid: int) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
        # pg_terminate_backend only signals: wait until the backend is gone
        deadline = time.monotonic() + 20
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend_pid,)).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.01)


def _backend(eng) -> int:
    with eng.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_postgres_connection_dropped_while_idle_is_replaced_before_use():
    """db.make_engine pings a pooled connection that sat idle (not one used a moment ago): one the
    server dropped meanwhile is replaced at checkout, and the request never sees it."""
    if not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    eng = make_engine(PG_URL, pool_size=1, max_overflow=0, ping_idle_seconds=0)  # every checkout idle enough
    try:
        first = _backend(eng)
        _terminate(first)
        second = _backend(eng)  # pinged, found dead, connected again: no error
        assert second != first
    finally:
        eng.dispose()


def test_postgres_connection_in_use_a_moment_ago_is_not_pinged():
    """The other side of the trade (no round trip per checkout under load): a connection dropped
    within the idle time fails its next statement once, as a disconnect, and the pool then
    connects afresh."""
    if not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    eng = make_engine(PG_URL, pool_size=1, max_overflow=0, ping_idle_seconds=3600)
    try:
        first = _backend(eng)
        _terminate(first)
        with pytest.raises(DBAPIError) as failed:
            _backend(eng)
        assert failed.value.connection_invalidated
        assert _backend(eng) != first
    finally:
        eng.dispose()


def test_postgres_hot_reads_leave_no_transaction_open():
    """The hot path's reads on PostgreSQL run in autocommit (uow.DbHandles.read_connection): while a
    unit holds its read connection the server shows it idle, not idle in a transaction, so there
    is no BEGIN before the reads and no ROLLBACK after them."""
    if not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    import psycopg

    from quiz_server.db import handles_for
    from quiz_server.uow import UnitOfWork

    eng = make_engine(PG_URL, pool_size=1, max_overflow=0)
    try:
        with UnitOfWork(handles_for(eng)) as uow:
            backend = uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            uow.conn.execute(text("SELECT 1"))
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                state = admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone()
            assert state == ("idle",)
    finally:
        eng.dispose()
