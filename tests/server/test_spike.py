"""Start spike: many learners starting in the same second get an answer each, never an error."""

from __future__ import annotations

import threading

import requests

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

    threads = [threading.Thread(target=go, args=(a,)) for a in apis]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {201, 429}, codes
    busy = [r for r in answers if r.status_code == 429]
    assert busy, "the guard never engaged"
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
