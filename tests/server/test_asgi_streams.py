"""Live-board streams under `netralitas serve` (gunicorn's ASGI worker): tasks, not held threads.

One worker with two request threads: twenty open board streams must leave requests answering (before
issue #18 each stream held a worker thread and a few stalled the server), every stream must still
see an answer stored through the API, and a stream nobody may watch is refused exactly as under
Flask. A stream's lifetime ends it; the client going away ends it too, and the room's reads stop.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from quiz_server import create_app
from tests import mailsink
from tests.conftest import MINI
from tests.server.conftest import Live
from tests.server.test_cli import free_port, wait_healthy
from tests.server.test_workshops import create, key_of, make_trainer

BIN = Path(sys.executable).parent
STREAMS = 20


@pytest.fixture
def served(tmp_path) -> Iterator[Live]:
    port = free_port()
    db_url = f"sqlite:///{tmp_path / 'quiz.sqlite'}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "NETRALITAS_CONTENT": str(MINI),
        "NETRALITAS_INSTANCE": str(tmp_path / "instance"),
        "NETRALITAS_SECRET_KEY": "kunci-uji-aliran",
        "NETRALITAS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "NETRALITAS_MAIL_URL": mailsink.shared().url,
        "NETRALITAS_WORKSHOP_STREAM_SECONDS": "6",
        "NETRALITAS_WORKSHOP_STREAM_INTERVAL": "0.2",
    }
    proc = subprocess.Popen(
        [str(BIN / "netralitas"), "serve", "--demo", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", proc, 90)
        # The test's own app on the same database: it creates the trainer account, as an admin would.
        app = create_app({"DATABASE_URL": db_url, "INSTANCE_PATH": str(tmp_path / "test-instance")})
        yield Live(f"http://127.0.0.1:{port}", app, db_url)
        app.extensions["db"].engine.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def _next_event(lines: Iterator[str]) -> dict | None:
    """The next event of a stream (its lines read through one iterator: a second ``iter_lines`` on
    the same response would lose what the first had buffered); None when the stream ended."""
    for line in lines:
        if line.startswith("data: "):
            return json.loads(line[6:])
    return None


def test_open_streams_hold_no_request_thread_and_all_see_an_answer(served):
    live = served
    trainer = make_trainer(live, "pelatih-aliran")
    ws = create(trainer)
    _, learner = live.register()
    assert learner.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]}).status_code == 201
    assert trainer.post(f"/api/v1/workshops/{ws['id']}/next").ok
    url = f"{live.url}/pelatih/lokakarya/{ws['id']}/aliran"
    auth = {"Authorization": f"Bearer {trainer.token}"}

    opened = [requests.get(url, headers=auth, stream=True, timeout=30) for _ in range(STREAMS)]
    try:
        for resp in opened:
            assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
            assert resp.headers["Cache-Control"] == "no-store"
        streams = [r.iter_lines(decode_unicode=True) for r in opened]
        firsts = [_next_event(lines) for lines in streams]
        assert all(firsts) and {(f["answered"], f["participants"]) for f in firsts} == {(0, 1)}
        # With every stream open, the two request threads still serve the API.
        for _ in range(10):
            assert requests.get(f"{live.url}/healthz", timeout=5).status_code == 200
        right, _ = key_of(live, ws["id"], 0)
        r = learner.post(f"/api/v1/workshops/{ws['id']}/answer", json={"question_index": 0, "choices": right})
        assert r.status_code in (200, 201), r.text
        with ThreadPoolExecutor(STREAMS) as pool:
            seconds = list(pool.map(_next_event, streams))
        assert all(seconds) and {e["answered"] for e in seconds} == {1}  # each stream saw the answer
    finally:
        for resp in opened:
            resp.close()


def test_a_stream_is_authorised_by_the_app_and_ends_after_its_lifetime(served):
    live = served
    trainer = make_trainer(live, "pelatih-pemilik")
    other = make_trainer(live, "pelatih-lain")
    ws = create(trainer)
    url = f"{live.url}/pelatih/lokakarya/{ws['id']}/aliran"
    # Someone else's workshop, no sign-in, and a forged check header: refused like any page.
    assert requests.get(url, headers={"Authorization": f"Bearer {other.token}"}, timeout=10).status_code == 404
    anonymous = requests.get(url, allow_redirects=False, timeout=10)
    assert anonymous.status_code in (302, 303, 401) and "text/event-stream" not in anonymous.headers.get(
        "Content-Type", ""
    )
    forged = {"Authorization": f"Bearer {other.token}", "X-Netralitas-Stream-Check": "tebakan"}
    assert requests.get(url, headers=forged, timeout=10).status_code == 404
    started = time.monotonic()
    with requests.get(url, headers={"Authorization": f"Bearer {trainer.token}"}, stream=True, timeout=30) as resp:
        body = resp.text  # read to the end: the server closes the stream at its lifetime (6 s here)
    assert body.startswith("retry: 1000\n\n") and "data: " in body
    assert time.monotonic() - started < 60  # a generous bound only a stream that never ends misses


def test_start_and_submit_are_served_natively_with_every_promise(served):
    """Under `netralitas serve` the ASGI router answers start and submit itself (quiz_server/hot.py):
    the same answers, the replay of a key, refusals in the one error shape, the client's address in
    the audit rows, and the security headers of every API answer."""
    live = served
    _, api = live.register()
    key = str(uuid.uuid4())
    first = api.post("/api/v1/quizzes/m01/attempts", json={}, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    again = api.post("/api/v1/quizzes/m01/attempts", json={}, headers={"Idempotency-Key": key})
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == first.content
    for name, value in [("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store"),
                        ("X-Frame-Options", "DENY"), ("Content-Type", "application/json")]:  # fmt: skip
        assert first.headers[name] == value
    attempt = first.json()["attempt"]
    path = f"/api/v1/attempts/{attempt['id']}/submit"
    answers = {q["id"]: [q["choices"][0]["id"]] for q in attempt["questions"]}
    assert live.api().post(path, json={"answers": answers}).json()["error"]["code"] == "unauthorized"
    big = api.post(path, data=b'{"answers": {"x": ["' + b"a" * (70 * 1024) + b'"]}}',
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
    done = api.post(path, json={"answers": answers}, headers={"Idempotency-Key": "kirim-1"})
    assert done.status_code == 200, done.text
    assert done.json()["result"]["attempt_id"] == attempt["id"]
    replay = api.post(path, json={"answers": answers}, headers={"Idempotency-Key": "kirim-1"})
    assert replay.content == done.content and replay.headers["Idempotent-Replayed"] == "true"
    rows = live.sql("SELECT action, ip FROM audit_log WHERE target = :t ORDER BY id", t=attempt["id"])
    assert rows == [("attempt_start", "127.0.0.1"), ("attempt_submit", "127.0.0.1")]
    assert (
        live.sql("SELECT count(*) FROM attempts WHERE id = :t AND submitted_at IS NOT NULL", t=attempt["id"])[0][0] == 1
    )


def test_racing_twin_submits_under_serve_store_one(served):
    """Under `netralitas serve` on SQLite, start and submit run on the event loop and commit through
    the group commit (HotPath.handle_async): eight submits of one attempt at once, each with other
    answers and its own key, store it once; every other gets the one "already submitted with other
    answers" refusal (a staged write that lost the race runs again and sees the stored one)."""
    live = served
    _, api = live.register()
    attempt = api.post("/api/v1/quizzes/m01/attempts", json={}).json()["attempt"]
    questions = attempt["questions"]  # five, each with two choices or more: 32 answer sets at least
    picks = list(itertools.islice(itertools.product(*(q["choices"] for q in questions)), 8))
    assert len(picks) == 8
    path = f"/api/v1/attempts/{attempt['id']}/submit"
    barrier = threading.Barrier(len(picks))

    def submit(i: int) -> requests.Response:
        answers = {q["id"]: [choice["id"]] for q, choice in zip(questions, picks[i], strict=True)}
        s = live.api(api.token)
        barrier.wait(timeout=30)
        return s.post(path, json={"answers": answers}, headers={"Idempotency-Key": f"kembar-{i}"})

    with ThreadPoolExecutor(len(picks)) as pool:
        answered = list(pool.map(submit, range(len(picks))))
    codes = sorted(r.status_code for r in answered)
    assert codes == [200] + [409] * 7, [r.text for r in answered]
    assert {r.json()["error"]["code"] for r in answered if r.status_code == 409} == {"attempt_already_submitted"}
    assert live.sql("SELECT count(*) FROM audit_log WHERE action = 'attempt_submit' AND target = :t",
                    t=attempt["id"])[0][0] == 1  # fmt: skip


def test_the_server_listens_with_gunicorns_backlog(served):
    """A crowd connecting in the same instant queues in the kernel up to gunicorn's backlog (2048 by
    default, at most net.core.somaxconn), not asyncio's default of 100 (quiz_server.asgi.Worker)."""
    port = served.url.rsplit(":", 1)[1]
    listing = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    backlogs = {int(line.split()[2]) for line in listing.splitlines()}
    somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
    assert backlogs == {min(2048, somaxconn)}, listing
