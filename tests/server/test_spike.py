"""Start spike: many learners starting in the same second get an answer each, never an error.

The guard's one slot is held by the test while thirty learners start at once, so the spike is
saturated on every run, however fast a start is (a start takes well under a millisecond of the
slot since issue #18, and thirty racing threads need not overlap at all)."""

from __future__ import annotations

import asyncio
import json
import threading

import requests

from quiz_server import hot
from quiz_server.services import spike
from tests.server.conftest import start_live


def test_saturated_starts_get_429_with_retry_after_and_nothing_half_done(tmp_path):
    for live in start_live(
        tmp_path, f"sqlite:///{tmp_path / 'q.sqlite'}", START_CONCURRENCY=1, START_QUEUE_SECONDS=0.001
    ):
        _spike(live)


def _spike(live) -> None:
    apis = [live.register()[1] for _ in range(30)]
    barrier = threading.Barrier(len(apis))
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def go(api):
        s = requests.Session()
        barrier.wait()
        r = s.post(
            f"{live.url}/api/v1/quizzes/m01/attempts",
            json={},
            headers={"Authorization": f"Bearer {api.token}"},
            timeout=60,
        )
        with lock:
            answers.append(r)

    slot = spike._slots(live.app.extensions["db"].shared, live.app.extensions["settings"])
    assert slot.acquire(timeout=5)  # the only slot (START_CONCURRENCY=1): every start now finds it taken
    try:
        threads = [threading.Thread(target=go, args=(a,)) for a in apis]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        slot.release()
    codes = sorted(r.status_code for r in answers)
    assert codes == [429] * len(apis), codes
    busy = answers
    for r in busy:
        assert r.json()["error"]["code"] == "server_busy"
        assert 1 <= int(r.headers["Retry-After"]) <= 5
    assert live.sql("SELECT count(*) FROM attempts")[0][0] == codes.count(201)
    # Once the spike has passed, a refused learner starts normally.
    live.app.config["START_QUEUE_SECONDS"] = 5
    retry = requests.post(
        f"{live.url}/api/v1/quizzes/m01/attempts",
        json={},
        headers={"Authorization": busy[0].request.headers["Authorization"]},
        timeout=60,
    )
    assert retry.status_code == 201


def test_on_the_event_loop_a_start_that_finds_no_slot_in_time_gets_429(tmp_path):
    """The guard as the ASGI router runs starts on SQLite (HotPath.handle_async): the loop's own
    slots, held until the start is committed. With the only slot taken, a start waits
    START_QUEUE_SECONDS without blocking the loop, then gets 429 and stores nothing; once the slot
    is free the same start is made."""
    for live in start_live(
        tmp_path, f"sqlite:///{tmp_path / 'q.sqlite'}", START_CONCURRENCY=1, START_QUEUE_SECONDS=0.2
    ):
        refused, ticks, made = asyncio.run(_spike_on_the_loop(live))
        assert refused.status == 429, refused.body
        assert json.loads(refused.body)["error"]["code"] == "server_busy"
        assert 1 <= int(dict(refused.headers)["Retry-After"]) <= 5
        assert ticks >= 5  # the loop went on turning while the start waited its 0.2 s
        assert made.status == 201, made.body
        assert live.sql("SELECT count(*) FROM attempts")[0][0] == 1


async def _spike_on_the_loop(live) -> tuple[hot.Reply, int, hot.Reply]:
    _, api = live.register()
    hot_path = live.app.extensions["hot_path"]
    shared, settings = live.app.extensions["db"].shared, live.app.extensions["settings"]
    headers = {"authorization": f"Bearer {api.token}", "content-type": "application/json"}
    request = hot.Request("POST", "/api/v1/quizzes/m01/attempts", headers, b"{}", "127.0.0.1")
    ticks = 0

    async def loop_stays_free() -> None:  # counts turns of the loop while the start waits
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    counter = asyncio.get_running_loop().create_task(loop_stays_free())
    async with spike.start_slot_async(shared, settings):  # the test holds the only slot
        refused = await hot_path.handle_async("start", "m01", request)
    counter.cancel()
    return refused, ticks, await hot_path.handle_async("start", "m01", request)
