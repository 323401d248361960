"""2,000 attempt starts fired at the same moment; clients honour 429 Retry-After and try again.

Run: .venv/bin/python bench/spike_bench.py [--learners 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import machine, server
from bench.seed import learners_with_tokens


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=2000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    threading.stack_size(256 * 1024)
    with server(args.database_url, args.workers) as (url, db_url):
        tokens = learners_with_tokens(db_url, args.learners)
        barrier = threading.Barrier(len(tokens) + 1)
        done: list[float] = []
        errors: list[int] = []
        busy = [0]
        lock = threading.Lock()

        def go(token: str) -> None:
            s = requests.Session()
            barrier.wait()
            t0 = time.perf_counter()
            while True:
                try:
                    r = s.post(
                        f"{url}/api/v1/quizzes/m01/attempts",
                        json={},
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=60,
                    )
                except requests.RequestException:
                    with lock:
                        errors.append(0)
                    return
                if r.status_code == 429:
                    with lock:
                        busy[0] += 1
                    time.sleep(int(r.headers.get("Retry-After", "1")))
                    continue
                with lock:
                    (done if r.status_code == 201 else errors).append(
                        time.perf_counter() - t0 if r.status_code == 201 else r.status_code
                    )
                return

        threads = [threading.Thread(target=go, args=(t,)) for t in tokens]
        for t in threads:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    xs = sorted(done)

    def pct(p: float) -> float:
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")

    print(f"database: {'sqlite' if db_url.startswith('sqlite') else 'postgresql'}, workers: {args.workers}")
    print(
        f"starts fired: {len(tokens)}, started: {len(done)}, errors: {len(errors)} {sorted(set(errors))}, "
        f"429 answers (retried): {busy[0]}"
    )
    print(
        f"time to a started attempt: p50 {pct(50):.2f} s, p95 {pct(95):.2f} s, max {pct(100):.2f} s; "
        f"all done in {wall:.1f} s"
    )


if __name__ == "__main__":
    main()
