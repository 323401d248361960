"""Graded submissions per second and p50/p99, next to the cheapest endpoint, at several concurrencies.

Run: .venv/bin/python bench/submit_bench.py [--clients 16 64] [--per-client 40] [--database-url URL]

Attempts are started before the timed phase; the timed phase is submits only. Afterwards every
acknowledged submit is looked up in the database.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import OUTBOXES, drive, header, machine, register_learners, server
from quiz_server.db import normalise_url

ATTEMPTS_PER_LEARNER = 3 * 8  # 3 attempts x 8 quizzes


def register(url: str, n: int) -> list[str]:
    s = requests.Session()

    def post(address: str, **kw) -> requests.Response:
        r = s.post(address, timeout=30, **kw)
        r.raise_for_status()
        return r

    bodies = [
        {
            "nip": f"1990{i // 28 % 12 + 1:02d}{i % 28 + 1:02d}2015031{i // 336 % 999 + 1:03d}",
            "name": f"Peserta {i}",
            "email": f"p{i}@example.go.id",
            "instansi_id": "bkn",
            "unit": "Bench",
            "password": "bench-password-123",
        }
        for i in range(n)
    ]
    return register_learners(url, bodies, OUTBOXES[url], post)


def prepare_attempts(url: str, tokens: list[str], needed: int) -> list[tuple[str, str, dict]]:
    """Start ``needed`` attempts spread over learners and quizzes; return (token, attempt_id, answers)."""
    out = []
    s = requests.Session()
    quizzes = [f"m0{i}" for i in range(1, 9)]
    for tok in tokens:
        for q in quizzes:
            for _ in range(3):
                if len(out) == needed:
                    return out
                r = s.post(
                    f"{url}/api/v1/quizzes/{q}/attempts",
                    json={},
                    headers={"Authorization": f"Bearer {tok}"},
                    timeout=30,
                )
                r.raise_for_status()
                att = r.json()["attempt"]
                answers = {qq["id"]: [qq["choices"][0]["id"]] for qq in att["questions"]}
                out.append((tok, att["id"], answers))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--per-client", type=int, default=40)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with server(args.database_url, args.workers) as (url, db_url):
        total = sum(c * args.per_client for c in args.clients)
        tokens = register(url, total // ATTEMPTS_PER_LEARNER + 1)
        pool = prepare_attempts(url, tokens, total)
        print(f"database: {(args.database_url or 'sqlite').split('@')[-1].split('?')[0]}, workers: {args.workers}")
        print(header())
        acknowledged: list[str] = []
        for clients in args.clients:
            # The cheapest endpoint that reads the database: the instansi list for the registration form.
            cheap = [
                [lambda s: s.get(f"{url}/api/v1/instansi", timeout=30).ok] * args.per_client for _ in range(clients)
            ]
            base = drive("GET /api/v1/instansi", clients, cheap)
            mine, pool = pool[: clients * args.per_client], pool[clients * args.per_client :]

            def submit_job(tok, aid, answers):
                def job(s):
                    r = s.post(
                        f"{url}/api/v1/attempts/{aid}/submit",
                        json={"answers": answers},
                        headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": str(uuid.uuid4())},
                        timeout=30,
                    )
                    if r.status_code == 200 and "result" in r.json():
                        acknowledged.append(aid)
                        return True
                    return False

                return job

            jobs = [
                [submit_job(*mine[c * args.per_client + i]) for i in range(args.per_client)] for c in range(clients)
            ]
            sub = drive("POST submit", clients, jobs)
            print(base.row())
            print(sub.row())
            print(f"| ratio submit/instansi at {clients} clients | | | | {sub.rate / base.rate:.2f} | | |")
        eng = create_engine(normalise_url(db_url))
        with eng.connect() as conn:
            stored = {r[0] for r in conn.execute(text("SELECT id FROM attempts WHERE submitted_at IS NOT NULL"))}
        eng.dispose()
        found = len(set(acknowledged) & stored)
        print(
            f"acknowledged submits: {len(acknowledged)}, found in database: {found}, lost: {len(acknowledged) - found}"
        )


if __name__ == "__main__":
    main()
