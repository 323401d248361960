"""2,000 attempt starts fired at the same moment; clients honour 429 Retry-After and try again.

Run: .venv/bin/python bench/spike_bench.py [--learners 2000] [--database-url URL] [--workers 2]

The clients are one asyncio process with a keep-alive connection each (plain HTTP/1.1 over
asyncio streams): every connection is open and idle before the moment, then all 2,000 requests are
written at once. (Before 2026-12-03 the clients were 2,000 Python threads with `requests`, whose
own CPU on the same two cores was a large part of what the figures measured.) The time of a start
runs from that moment to its 201, through any 429 and the Retry-After wait it asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import machine, server
from bench.seed import learners_with_tokens

PATH = "/api/v1/quizzes/m01/attempts"


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """Read one HTTP/1.1 answer (status and headers; the body read and dropped)."""
    status = int((await reader.readline()).split()[1])
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers


async def spike(url: str, tokens: list[str]) -> tuple[list[float], list[int], int, float]:
    host, port = urlsplit(url).hostname, urlsplit(url).port
    conns = []
    for i in range(0, len(tokens), 200):  # open every connection first, a few hundred at a time
        conns += await asyncio.gather(*(asyncio.open_connection(host, port) for _ in tokens[i : i + 200]))
    fire = asyncio.Event()
    done: list[float] = []
    errors: list[int] = []
    busy = [0]

    async def one(token: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = (f"POST {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                   "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}").encode()  # fmt: skip
        await fire.wait()
        try:
            while True:
                writer.write(request)
                status, headers = await _answer(reader)
                if status != 429:
                    break
                busy[0] += 1
                await asyncio.sleep(int(headers.get("retry-after", "1")))
                # As a browser would: the server may have closed the idle keep-alive connection
                # during a wait longer than its keep-alive time (2 s), so ask again on a new one.
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            errors.append(0)
            return
        finally:
            writer.close()
        if status == 201:
            done.append(time.perf_counter() - t0)
        else:
            errors.append(status)

    tasks = [asyncio.create_task(one(t, r, w)) for t, (r, w) in zip(tokens, conns, strict=True)]
    await asyncio.sleep(0.5)  # every task waiting on the moment
    t0 = time.perf_counter()
    fire.set()
    await asyncio.gather(*tasks)
    return done, errors, busy[0], time.perf_counter() - t0


@contextlib.contextmanager
def own_database(url: str | None) -> Iterator[str | None]:
    """PostgreSQL: a database of this run's own on the server ``url`` names, dropped afterwards (the
    run registers its learners: a second run on the same database would find them there)."""
    if not url or not url.startswith("postgres"):
        yield url
        return
    import psycopg

    parts = urlsplit(url)
    name = f"spike_{uuid.uuid4().hex[:12]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=2000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with own_database(args.database_url) as database_url, server(database_url, args.workers) as (url, db_url):
        tokens = learners_with_tokens(db_url, args.learners)
        # The seeding's writes reach the disk now, not as the kernel's writeback during the spike
        # (seen taking up to a second of CPU beside the server's ~2.5 s, 2026-12-07).
        os.sync()
        done, errors, busy, wall = asyncio.run(spike(url, tokens))
    xs = sorted(done)

    def pct(p: float) -> float:
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")

    print(f"database: {'sqlite' if db_url.startswith('sqlite') else 'postgresql'}, workers: {args.workers}")
    print(
        f"starts fired: {len(tokens)}, started: {len(done)}, errors: {len(errors)} {sorted(set(errors))}, "
        f"429 answers (retried): {busy}"
    )
    print(
        f"time to a started attempt: p50 {pct(50):.2f} s, p95 {pct(95):.2f} s, max {pct(100):.2f} s; "
        f"all done in {wall:.1f} s"
    )


if __name__ == "__main__":
    main()
