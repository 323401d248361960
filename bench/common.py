"""Shared benchmark helpers: start a real server, drive it with threads, summarise latencies."""

from __future__ import annotations

import email
import email.policy
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Server URL -> its file outbox, where registration codes land (read by register_learners).
OUTBOXES: dict[str, Path] = {}


def codes_in_outbox(outbox: Path) -> dict[str, str]:
    """Recipient -> the newest 6-digit code mailed to them (files are named by time)."""
    codes = {}
    for path in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found = re.search(r"\b(\d{6})\b", msg.get_body(preferencelist=("plain",)).get_content())
        if found:
            codes[str(msg["To"]).lower()] = found.group(1)
    return codes


def register_learners(
    url: str, bodies: list[dict], outbox: Path, post: Callable[..., requests.Response], threads: int = 1
) -> list[str]:
    """Register every body in the two steps (request, then the code from ``outbox``); return the tokens.

    ``post(url, json=...)`` sends one request and raises on failure. All requests go first, then the
    outbox is read once, then every code is confirmed: no per-learner polling of the folder."""
    with ThreadPoolExecutor(threads) as pool:
        pending = list(pool.map(lambda b: post(f"{url}/api/v1/learners", json=b).json()["registration_id"], bodies))
        codes = codes_in_outbox(outbox)

        def confirm(pair: tuple[dict, str]) -> str:
            body, rid = pair
            code = codes[body["email"].lower()]
            return post(f"{url}/api/v1/learners/verify", json={"registration_id": rid, "code": code}).json()["token"]

        return list(pool.map(confirm, zip(bodies, pending, strict=True)))


@contextmanager
def server(database_url: str | None = None, workers: int = 4, content: Path | None = None) -> Iterator[tuple[str, str]]:
    """Run `netralitas serve` (gunicorn) in a fresh instance folder; yield (base URL, database URL)."""
    with tempfile.TemporaryDirectory() as tmp:
        database_url = database_url or f"sqlite:///{tmp}/bench.sqlite"
        env = {
            **os.environ,
            "NETRALITAS_INSTANCE": tmp,
            "DATABASE_URL": database_url,
            "NETRALITAS_CONTENT": str(content or ROOT / "content"),
        }
        port = free_port()
        env["NETRALITAS_PUBLIC_URL"] = f"http://127.0.0.1:{port}"  # join and mail links need it (web.public_base)
        proc = subprocess.Popen(
            [
                str(BIN / "netralitas"),
                "serve",
                "--demo",  # the benchmarks register learners at the sample agencies
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--threads",
                os.environ.get("BENCH_THREADS", "4"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        OUTBOXES[url] = Path(tmp) / "outbox"  # no NETRALITAS_MAIL_URL: mail goes to files (services/mail.py)
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(url + "/healthz", timeout=1).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or too busy starting to answer
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        try:
            yield url, database_url
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


@dataclass
class Run:
    name: str
    clients: int
    ok: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000

    def row(self) -> str:
        return (
            f"| {self.name} | {self.clients} | {self.ok} | {self.errors} | {self.rate:,.0f} | "
            f"{self.pct(50):.1f} | {self.pct(99):.1f} |"
        )


def drive(name: str, clients: int, jobs: list[list[Callable[[requests.Session], bool]]]) -> Run:
    """Each client thread runs its own list of jobs back to back; all start together."""
    barrier = threading.Barrier(clients + 1)
    lat: list[float] = []
    counts = {"ok": 0, "err": 0}
    lock = threading.Lock()

    def worker(my_jobs):
        s = requests.Session()
        barrier.wait()
        for job in my_jobs:
            t0 = time.perf_counter()
            try:
                ok = job(s)
            except requests.RequestException:
                ok = False
            dt = time.perf_counter() - t0
            with lock:
                lat.append(dt)
                counts["ok" if ok else "err"] += 1

    threads = [threading.Thread(target=worker, args=(jobs[i],)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return Run(name, clients, counts["ok"], counts["err"], time.perf_counter() - t0, lat)


def header() -> str:
    return "| endpoint | clients | ok | errors | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|"
