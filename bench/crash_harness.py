"""Crash safety: SIGKILL the server at random moments under start+submit load, restart, retry.

Every logical operation (start an attempt, then submit it) carries its own Idempotency-Keys and is
retried with the same keys until acknowledged. Afterwards: every acknowledged submit is in the
database with the acknowledged score, there is exactly one attempt per operation (no duplicates
from retries), and SQLite passes PRAGMA integrity_check.

Run: .venv/bin/python bench/crash_harness.py [--rounds 100] [--ops-per-round 15]
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import BIN, free_port, register_learners  # noqa: E402

MINI = ROOT / "tests" / "fixtures" / "mini"


@dataclass
class Op:
    token: str
    quiz: str
    start_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    submit_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempt_id: str | None = None
    answers: dict | None = None
    acknowledged: float | None = None  # acknowledged percent
    last_error: str = ""


@dataclass
class Report:
    rounds: int = 0
    operations: int = 0
    acknowledged: int = 0
    lost: int = 0
    wrong_score: int = 0
    duplicates: int = 0
    integrity: str = ""
    kills: int = 0
    retries: int = 0
    stuck: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"rounds={self.rounds} kills={self.kills} operations={self.operations} acknowledged={self.acknowledged} "
            f"lost={self.lost} wrong_score={self.wrong_score} duplicates={self.duplicates} retries={self.retries} "
            f"integrity={self.integrity}" + (f" unacknowledged_last_errors={self.stuck[:3]}" if self.stuck else "")
        )


class Server:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = tmp / "crash.sqlite"
        self.outbox = tmp / "outbox"  # registration codes: no NETRALITAS_MAIL_URL, so mail goes to files
        self.env = {
            **os.environ,
            "NETRALITAS_INSTANCE": str(tmp),
            "DATABASE_URL": f"sqlite:///{self.db}",
            "NETRALITAS_CONTENT": str(MINI),
            "NETRALITAS_RATE_LIMIT_REGISTER": "100000/60",
            "NETRALITAS_PUBLIC_URL": self.url,  # registration mails a link (web.public_base)
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "netralitas"), "serve", "--demo", "--port", str(self.port), "--workers", "2"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not come up")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


def _register(url: str, n: int, outbox: Path) -> list[str]:
    def post(address: str, **kw) -> requests.Response:
        r = requests.post(address, timeout=30, **kw)
        r.raise_for_status()
        return r

    bodies = [
        {
            "nip": f"1985{i // 28 % 12 + 1:02d}{i % 28 + 1:02d}2010011{i // 336 % 999 + 1:03d}",
            "name": f"Uji {i}",
            "email": f"u{i}@example.go.id",
            "instansi_id": "bkn",
            "unit": "Uji",
            "password": "kata-sandi-uji-1",
        }
        for i in range(n)
    ]
    return register_learners(url, bodies, outbox, post)


def _step(url: str, op: Op, s: requests.Session) -> bool:
    """Advance one operation by one request; True once it is fully acknowledged."""
    h = {"Authorization": f"Bearer {op.token}"}
    if op.attempt_id is None:
        r = s.post(
            f"{url}/api/v1/quizzes/{op.quiz}/attempts",
            json={},
            headers={**h, "Idempotency-Key": op.start_key},
            timeout=10,
        )
        if r.status_code != 201:
            op.last_error = f"start {r.status_code} {r.text[:200]}"
            raise requests.ConnectionError(op.last_error)
        att = r.json()["attempt"]
        op.attempt_id = att["id"]
        op.answers = {q["id"]: [random.choice(q["choices"])["id"]] for q in att["questions"]}
    r = s.post(
        f"{url}/api/v1/attempts/{op.attempt_id}/submit",
        json={"answers": op.answers},
        headers={**h, "Idempotency-Key": op.submit_key},
        timeout=10,
    )
    if r.status_code != 200:
        op.last_error = f"submit {r.status_code} {r.text[:200]}"
        raise requests.ConnectionError(op.last_error)
    op.acknowledged = r.json()["result"]["percent"]
    return True


def run(rounds: int = 100, ops_per_round: int = 15, clients: int = 6, seed: int | None = None) -> Report:
    rng = random.Random(seed)
    report = Report(rounds=rounds)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        server.start()
        total = rounds * ops_per_round
        tokens = _register(server.url, total // 3 + 1, server.outbox)  # mini course: one quiz, three attempts each
        ops = [Op(tokens[i // 3], "m01") for i in range(total)]
        pending: queue.Queue[Op] = queue.Queue()
        try:
            for rnd in range(rounds + 1):
                for op in ops[rnd * ops_per_round : (rnd + 1) * ops_per_round]:
                    pending.put(op)
                stop = threading.Event()

                def worker(stop: threading.Event = stop) -> None:
                    s = requests.Session()
                    while not stop.is_set():
                        try:
                            op = pending.get(timeout=0.05)
                        except queue.Empty:
                            continue
                        try:
                            _step(server.url, op, s)
                        except requests.RequestException:
                            report.retries += 1
                            pending.put(op)  # retried later with the same keys
                            time.sleep(0.02)

                threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
                for t in threads:
                    t.start()
                if rnd < rounds:
                    time.sleep(rng.uniform(0.05, 0.6))
                    server.kill()
                    report.kills += 1
                    stop.set()
                    for t in threads:
                        t.join()
                    server.start()
                else:
                    deadline = time.monotonic() + 300
                    while pending.unfinished_tasks and time.monotonic() < deadline:
                        if pending.empty() and all(op.acknowledged is not None for op in ops):
                            break
                        time.sleep(0.05)
                    stop.set()
                    for t in threads:
                        t.join()
        finally:
            server.stop()
        report.operations = len(ops)
        report.stuck = [op.last_error for op in ops if op.acknowledged is None]
        done = [op for op in ops if op.acknowledged is not None]
        report.acknowledged = len(done)
        conn = sqlite3.connect(server.db)
        rows = dict(conn.execute("SELECT id, percent FROM attempts WHERE submitted_at IS NOT NULL"))
        attempts = conn.execute("SELECT count(*) FROM attempts").fetchone()[0]
        report.integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        conn.close()
        report.lost = sum(1 for op in done if op.attempt_id not in rows)
        report.wrong_score = sum(1 for op in done if op.attempt_id in rows and rows[op.attempt_id] != op.acknowledged)
        report.duplicates = attempts - len({op.attempt_id for op in ops if op.attempt_id})
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--ops-per-round", type=int, default=15)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rep = run(args.rounds, args.ops_per_round)
    print(rep.line())
    print(f"seconds={time.perf_counter() - t0:.0f}")


if __name__ == "__main__":
    main()
