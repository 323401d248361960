"""Run every benchmark once on SQLite (and PostgreSQL when BENCH_DATABASE_URL is set); print figures.

Each benchmark is also runnable alone; docs/benchmarks.md lists them with their options.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PG = os.environ.get("BENCH_DATABASE_URL")

RUNS = [
    ["wrk_bench.py"],
    ["submit_bench.py", "--clients", "16", "64", "256", "--per-client", "10"],
    ["spike_bench.py"],
    ["sync_bench.py"],
    ["report_bench.py"],
    ["workshop_bench.py"],
    ["voila_bench.py"],
]


def main() -> int:
    failed = 0
    for args in RUNS:
        for db in [None, PG] if args[0] in {"wrk_bench.py", "submit_bench.py", "spike_bench.py"} else [None]:
            extra = ["--database-url", db] if db else []
            env = dict(os.environ)
            if db and args[0] == "wrk_bench.py":  # its own databases on that server (template, target)
                extra = ["--database", "postgresql"]
                env["BENCH_PG_SERVER"] = db.rsplit("/", 1)[0]
            print(f"\n### {args[0]} {'postgresql' if db else 'sqlite'}", flush=True)
            run = subprocess.run([sys.executable, str(HERE / args[0]), *args[1:], *extra], env=env)
            failed += run.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
