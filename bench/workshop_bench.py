"""A live room under load: N participants answer the same question within a few seconds.

Run: .venv/bin/python bench/workshop_bench.py [--participants 500] [--spread 8] [--workers 4] [--database-url URL]

A real gunicorn server with several workers is started (bench/common.py). Participants register,
join by code, the trainer opens the first question, and every participant answers it at a moment
spread evenly over ``--spread`` seconds. Meanwhile the board is watched two ways: the trainer's
server-sent event stream and polling of the board API. Printed: answers sent, acknowledged,
recorded in the database, answer latency, and how long after the last acknowledged answer the
board showed the right count. Finally the room is closed and the live-session records it wrote are counted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import OUTBOXES, machine, register_learners, server
from quiz_server.db import normalise_url

PASSWORD = "bench-password-123"
TRAINER_PASSWORD = "bench-pelatih-123"


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def make_trainer(db_url: str) -> None:
    """A trainer account, created with the library the CLI uses, straight in the server's database."""
    from quiz_server import create_app, db
    from quiz_server.services import accounts

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"INSTANCE_PATH": tmp, "DATABASE_URL": db_url, "SECRET_KEY": "bench"})
        with db.unit_of_work(app) as uow:
            accounts.create_staff(
                uow, username="pelatih-bench", role="trainer", password=TRAINER_PASSWORD, instansi_id=None
            )
            uow.commit()
        app.extensions["db"].engine.dispose()


RETRIED: list[int] = []


def _post(s: requests.Session, url: str, **kw) -> requests.Response:
    """POST, retrying a 503 (database busy, with Retry-After) or a 500; every retry is counted and printed."""
    for _ in range(10):
        r = s.post(url, timeout=60, **kw)
        if r.status_code not in (500, 503):
            r.raise_for_status()
            return r
        RETRIED.append(r.status_code)
        time.sleep(float(r.headers.get("Retry-After", 1)))
    r.raise_for_status()
    return r


def register_and_join(url: str, n: int, code: str, threads: int = 8) -> list[str]:
    def post(address: str, **kw) -> requests.Response:
        return _post(requests, address, **kw)  # requests' own functions: no session shared by threads

    bodies = [
        {
            "nip": f"1990{i // 28 % 12 + 1:02d}{i % 28 + 1:02d}2015031{i // 336 % 999 + 1:03d}",
            "name": f"Peserta {i}",
            "email": f"p{i}@example.go.id",
            "instansi_id": "bkn",
            "unit": "Bench",
            "password": PASSWORD,
        }
        for i in range(n)
    ]
    tokens = register_learners(url, bodies, OUTBOXES[url], post, threads)
    with ThreadPoolExecutor(threads) as pool:
        join = {"join_code": code}
        list(pool.map(lambda t: post(f"{url}/api/v1/workshops/join", json=join, headers=auth(t)), tokens))
    return tokens


class BoardWatch:
    """Follows the board by SSE and by polling, keeping every (time, answered) each of them saw."""

    def __init__(self, url: str, workshop_id: int, token: str) -> None:
        self.url, self.wid, self.token = url, workshop_id, token
        self.seen: dict[str, list[tuple[float, int]]] = {"sse": [], "poll": []}
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._sse, daemon=True),
            threading.Thread(target=self._poll, daemon=True),
        ]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def first_at(self, how: str, target: int) -> float | None:
        return next((when for when, n in list(self.seen[how]) if n >= target), None)

    def _sse(self) -> None:
        while not self.stop.is_set():  # each stream has a bounded lifetime; reconnect like a browser
            try:
                with requests.get(
                    f"{self.url}/pelatih/lokakarya/{self.wid}/aliran", headers=auth(self.token), stream=True, timeout=60
                ) as r:
                    for line in r.iter_lines(decode_unicode=True):
                        if line and line.startswith("data: "):
                            self.seen["sse"].append((time.monotonic(), json.loads(line[6:])["answered"]))
                        if self.stop.is_set():
                            return
            except requests.RequestException:
                time.sleep(0.2)

    def _poll(self) -> None:
        s = requests.Session()
        while not self.stop.is_set():
            try:
                r = s.get(f"{self.url}/api/v1/workshops/{self.wid}/board", headers=auth(self.token), timeout=30)
                self.seen["poll"].append((time.monotonic(), r.json()["answered"]))
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.25)


def fire(url: str, wid: int, tokens: list[str], choices: list[str], spread: float, threads: int):
    """Each participant answers at its own moment in [0, spread); returns (acks, errors, latencies, last_ack)."""
    order = list(range(len(tokens)))
    random.shuffle(order)
    when = {p: spread * k / len(tokens) for k, p in enumerate(order)}
    acks, errors, latencies, last = [0], [0], [], [0.0]
    lock = threading.Lock()
    t0 = time.monotonic() + 0.5

    def worker(mine: list[int]) -> None:
        s = requests.Session()
        for p in sorted(mine, key=when.get):
            delay = t0 + when[p] - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            start = time.monotonic()
            try:
                r = s.post(
                    f"{url}/api/v1/workshops/{wid}/answer",
                    headers=auth(tokens[p]),
                    timeout=60,
                    json={"question_index": 0, "choices": [random.choice(choices)]},
                )
                ok = r.status_code == 200
            except requests.RequestException:
                ok = False
            end = time.monotonic()
            with lock:
                latencies.append(end - start)
                if ok:
                    acks[0] += 1
                    last[0] = max(last[0], end)
                else:
                    errors[0] += 1

    slices = [order[i::threads] for i in range(threads)]
    pool = [threading.Thread(target=worker, args=(s,)) for s in slices]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return acks[0], errors[0], latencies, last[0], t0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000 if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=500)
    ap.add_argument("--spread", type=float, default=8.0, help="seconds over which the answers arrive (< 10)")
    ap.add_argument("--threads", type=int, default=100, help="client threads sending answers")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    # One bench machine registers the whole room from one address; lift the per-address budget for it.
    os.environ.setdefault("NETRALITAS_RATE_LIMIT_REGISTER", f"{args.participants * 4}/300")
    print(f"machine: {machine()}")
    with server(args.database_url, args.workers) as (url, db_url):
        print(
            f"database: {(args.database_url or 'sqlite').split('@')[-1].split('?')[0]}, workers: {args.workers}, "
            f"threads per worker: {os.environ.get('BENCH_THREADS', '4')}"
        )
        make_trainer(db_url)
        trainer = requests.post(
            f"{url}/api/v1/auth/token", timeout=30, json={"username": "pelatih-bench", "password": TRAINER_PASSWORD}
        ).json()["token"]
        ws = requests.post(
            f"{url}/api/v1/workshops",
            headers=auth(trainer),
            timeout=30,
            json={
                "title": "Bench",
                "date": "2026-03-02",
                "place": "Aula",
                "quiz_id": "m01",
                "question_count": 1,
            },
        ).json()["workshop"]
        t = time.monotonic()
        tokens = register_and_join(url, args.participants, ws["join_code"])
        print(
            f"registered and joined: {len(tokens)} participants in {time.monotonic() - t:.1f} s "
            f"(retried: {RETRIED.count(503)} x 503, {RETRIED.count(500)} x 500)"
        )
        requests.post(f"{url}/api/v1/workshops/{ws['id']}/next", headers=auth(trainer), timeout=30).raise_for_status()
        current = requests.get(f"{url}/api/v1/workshops/{ws['id']}/current", headers=auth(tokens[0]), timeout=30).json()
        choices = [c["id"] for c in current["question"]["choices"]]

        watch = BoardWatch(url, ws["id"], trainer)
        watch.start()
        acks, errors, latencies, last_ack, t0 = fire(url, ws["id"], tokens, choices, args.spread, args.threads)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(watch.first_at(h, acks) for h in ("sse", "poll")):
            time.sleep(0.1)
        watch.stop.set()

        eng = create_engine(normalise_url(db_url))
        with eng.connect() as conn:
            recorded = conn.execute(
                text("SELECT count(*) FROM live_answers WHERE workshop_id = :w"), {"w": ws["id"]}
            ).scalar()
        print(
            f"answers sent: {len(tokens)} over {last_ack - t0:.1f} s; acknowledged: {acks}; errors: {errors}; "
            f"recorded in database: {recorded}"
        )
        print(
            f"answer latency: p50 {pct(latencies, 50):.0f} ms, p99 {pct(latencies, 99):.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms"
        )
        for how, name in (("sse", "server-sent events"), ("poll", "polling /board (4 per second)")):
            seen = watch.first_at(how, acks)
            shown = f"{max(0.0, seen - last_ack):.2f} s" if seen else "not within 30 s"
            print(f"board showed {acks} answers, after the last acknowledged answer, via {name}: {shown}")

        t = time.monotonic()
        requests.post(f"{url}/api/v1/workshops/{ws['id']}/close", headers=auth(trainer), timeout=120).raise_for_status()
        closed = time.monotonic() - t
        with eng.connect() as conn:
            recorded = conn.execute(
                text("SELECT count(*) FROM workshop_participants WHERE workshop_id = :w AND recorded_at IS NOT NULL"),
                {"w": ws["id"]},
            ).scalar()
        eng.dispose()
        print(f"close: {closed:.2f} s; live-session records written for the room: {recorded}")


if __name__ == "__main__":
    main()
