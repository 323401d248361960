"""Where one graded submit and one attempt start spend their time: cProfile over the real app.

Run: .venv/bin/python bench/profile_submit.py [--n 1000] [--top 25]

In one process, one thread: the real Flask app (Flask's test client, no network) on a fresh SQLite
file (WAL, synchronous=FULL) with the real course; N learners with bearer tokens; N attempt starts,
then N graded submits of those attempts, each with its own Idempotency-Key. Prints milliseconds
per request and the functions with the most time of their own and in total (cProfile, the standard
library's deterministic profiler; its overhead inflates every figure alike, so compare the shares).
The figures before and after the #18 changes are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quiz_server import create_app, db  # noqa: E402
from quiz_server.cli import prepare  # noqa: E402
from quiz_server.models import Attempt, Learner  # noqa: E402
from quiz_server.services.credentials import hash_password, issue_token  # noqa: E402


def _answers(app, attempt: dict) -> dict[str, list[str]]:
    """The right shown choices of each question, read from the database as a grader would."""
    from quiz_server.services import catalog

    with db.unit_of_work(app) as uow:
        row = uow.session.get(Attempt, attempt["id"])
        questions = catalog.snapshot(uow).questions
        out = {}
        for entry in row.draw:
            right = {c["id"] for c in questions[entry["q"]].choices if c["correct"]}
            out[entry.get("id", entry["q"])] = [shown for shown, cid in entry["choices"] if cid in right]
        return out


def _profile(label: str, calls, top: int, callers: str | None = None) -> None:
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for call in calls:
        call()
    prof.disable()
    ms = (time.perf_counter() - t0) * 1000 / len(calls)
    # Python function calls per request: a count, so unlike the time it does not move with the machine.
    per = pstats.Stats(prof).total_calls / len(calls)
    print(
        f"\n## {label}: {ms:.2f} ms per request under the profiler ({len(calls)} requests), {per:,.0f} function calls each\n"
    )
    views = (
        ("own time, every function", "tottime", None),
        ("total time, the kit's own functions", "cumulative", r"/(quiz_server|netralitas)/"),
    )
    for title, order, where in views:
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).sort_stats(order)
        stats.print_stats(*([where] if where else []), top)
        lines = [ln.replace(str(ROOT) + "/", "") for ln in out.getvalue().splitlines() if ln.strip()]
        start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
        lines = [_short(ln) for ln in lines[start : start + top + 1]]
        print(f"### {title}\n\n```")
        print("\n".join(lines))
        print("```\n")
    if callers:  # --callers: who calls the functions matching the pattern, and how often
        out = io.StringIO()
        pstats.Stats(prof, stream=out).print_callers(callers)
        print(f"### callers of {callers}\n\n```\n{_short(out.getvalue().strip())}\n```\n")


def _short(line: str) -> str:
    """Library paths shortened to their package (.../site-packages/sqlalchemy/orm/x.py -> sqlalchemy/orm/x.py)."""
    return re.sub(r"\S*/(site-packages|lib/python3\.\d+)/", "", line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--callers", help="also print the callers of the functions matching this pattern")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp}/profile.sqlite",
                "INSTANCE_PATH": tmp,
                "CONTENT_PATH": str(ROOT / "content"),
                "SECRET_KEY": "profile",
                "START_SPIKE_LIMIT": 10_000,
            }
        )
        prepare(app, demo=True)
        tokens = []
        with db.unit_of_work(app) as uow:
            s = uow.write()
            pw = hash_password("profil-rahasia-123")
            learners = [
                Learner(
                    nip=f"1990{i // 28 % 12 + 1:02d}{i % 28 + 1:02d}2015031{i // 336 % 999 + 1:03d}",
                    nip_kind="pns",
                    name=f"Peserta {i}",
                    email=f"p{i}@example.go.id",
                    instansi_id="bkn",
                    unit="Profil",
                    password_hash=pw,
                )
                for i in range(args.n)
            ]
            s.add_all(learners)
            s.flush()
            tokens = [issue_token(s, kind="api", learner_id=learner.id) for learner in learners]
            uow.commit()
        client = app.test_client()
        started: list[dict] = []

        def start(i: int):
            def go() -> None:
                r = client.post(
                    "/api/v1/quizzes/m01/attempts",
                    json={},
                    headers={"Authorization": f"Bearer {tokens[i]}", "Idempotency-Key": f"s{i}"},
                )
                assert r.status_code == 201, r.text
                started.append(r.get_json()["attempt"])

            return go

        _profile("attempt start", [start(i) for i in range(args.n)], args.top, args.callers)
        bodies = [{"answers": _answers(app, a)} for a in started]

        def submit(i: int):
            def go() -> None:
                r = client.post(
                    f"/api/v1/attempts/{started[i]['id']}/submit",
                    json=bodies[i],
                    headers={"Authorization": f"Bearer {tokens[i]}", "Idempotency-Key": f"k{i}"},
                )
                assert r.status_code == 200, r.text

            return go

        _profile("graded submit", [submit(i) for i in range(args.n)], args.top, args.callers)
        app.extensions["db"].engine.dispose()


if __name__ == "__main__":
    main()
