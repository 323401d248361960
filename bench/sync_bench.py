"""Gradebook sync: bulk statements vs nbgrader's per-object Gradebook calls, in one run.

Run: .venv/bin/python bench/sync_bench.py [--learners 100000] [--quizzes 8] [--sample 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # nbgrader runs alembic

from nbgrader.api import Gradebook

from bench.common import machine
from grading.sync import QuizResult, sync_per_object, sync_results


def results(learners: int, quizzes: int, offset: int = 0):
    for i in range(offset, offset + learners):
        born = dt.date(1965, 1, 1) + dt.timedelta(days=i // 999)
        nip = f"{born:%Y%m%d}2015031{i % 999 + 1:03d}"
        for q in range(1, quizzes + 1):
            yield QuizResult(nip, f"Peserta {i}", f"p{i}@example.go.id", f"m{q:02d}", float((i * 7 + q * 13) % 101))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=100_000)
    ap.add_argument("--quizzes", type=int, default=8)
    ap.add_argument("--sample", type=int, default=300, help="submissions for the per-object baseline")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        rows = list(results(args.learners, args.quizzes))
        with Gradebook(f"sqlite:///{tmp}/bulk.db", course_id="bench") as gb:
            t0 = time.perf_counter()
            rep = sync_results(gb, rows)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            rep2 = sync_results(gb, rows)
            second = time.perf_counter() - t0
        sample = list(results(args.sample // args.quizzes + 1, args.quizzes, offset=10_000_000))[: args.sample]
        with Gradebook(f"sqlite:///{tmp}/slow.db", course_id="bench") as gb:
            t0 = time.perf_counter()
            sync_per_object(gb, sample)
            slow = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = len(rows)
    bulk_per = first / n
    slow_per = slow / len(sample)
    print(f"learners x quizzes: {args.learners:,} x {args.quizzes} = {n:,} grades")
    print(f"bulk sync, first run : {first:6.1f} s  ({n / first:,.0f} grades/s; {rep.grades_inserted:,} inserted)")
    print(f"bulk sync, re-run    : {second:6.1f} s  ({rep2.grades_updated:,} updated in place)")
    print(f"per-object Gradebook : {slow:6.1f} s for {len(sample)} submissions ({1 / slow_per:,.0f} grades/s)")
    print(f"speed-up per submission: {slow_per / bulk_per:,.0f}x")
    print(f"peak memory: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
