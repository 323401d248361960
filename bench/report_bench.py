"""Completion reports at national scale: one instansi of 50,000 people and 1,000,000 learners nationally.

Run: .venv/bin/python bench/report_bench.py [--learners 1000000] [--big 50000] [--database-url URL]

The data goes into a fresh database migrated with the real schema (quiz_server.migrate.upgrade), by
bulk INSERT ... SELECT statements inside the database, so generating millions of attempts takes
minutes, not hours. Eight quizzes; one roster entry in ten never registered; 90 % of learners are
active, 70 % on all eight modules; a third of the (learner, quiz) pairs failed once and retried.
Each measurement then runs in its own process (so its peak memory is its own) and calls the real
report functions: the JSON summary, the XLSX export (written to a
temporary file) and the national aggregate. Prints wall seconds, this process's CPU seconds (the
database server's own CPU is not in it on PostgreSQL) and peak RSS; with --heap also the peak
Python heap, from a second run (tracemalloc slows allocation-heavy code severalfold).
"""

# ruff: noqa: S608  (the SQL below is built from constants and integers of this script, never from input)
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quiz_server.db import normalise_url  # noqa: E402
from quiz_server.migrate import upgrade  # noqa: E402

BIG = "bench-besar"
N_QUIZZES = 8
N_INSTANSI = 1000
UNREGISTERED_SHARE = 10  # one roster entry in ten has never registered


class _Dialect:
    """The few SQL spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, pg: bool) -> None:
        self.pg = pg
        self.true, self.false = ("true", "false") if pg else ("1", "0")
        self.now = "now()" if pg else "datetime('now')"

    def numbers(self, n: int) -> str:
        """A row source of i = 1..n."""
        if self.pg:
            return f"generate_series(1, {n}) AS s(i)"
        return f"(WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n}) SELECT i FROM c) AS s"

    def digits(self, expr: str, width: int) -> str:
        return f"lpad(({expr})::text, {width}, '0')" if self.pg else f"printf('%0{width}d', {expr})"

    def json(self, literal: str) -> str:
        return f"'{literal}'::json" if self.pg else f"'{literal}'"

    def date(self, iso: str) -> str:
        return f"DATE '{iso}'" if self.pg else f"'{iso}'"

    def day(self, days: str) -> str:
        if self.pg:
            return f"(TIMESTAMP '2025-06-01' + ({days}) * INTERVAL '1 day')"
        return f"datetime('2025-06-01', '+' || ({days}) || ' days')"


def _statements(learners: int, big: int, pg: bool) -> list[str]:
    """SQL that fills an empty, migrated database; one instansi has ``big`` people on its roster."""
    d = _Dialect(pg)
    others = f"'bench-' || ((i % {N_INSTANSI - 1}) + 1)"
    unregistered = learners // UNREGISTERED_SHARE
    big_unregistered = big // UNREGISTERED_SHARE
    big_registered = big - big_unregistered
    days = "(l.id * 7 + q.position * 13) % 500"
    retried = "(l.id + q.position) % 3 = 0"
    return [
        f"INSERT INTO instansi (id, name) VALUES ('{BIG}', 'Instansi besar (uji)')",
        f"INSERT INTO instansi (id, name) SELECT 'bench-' || i, 'Instansi uji ' || {d.digits('i', 4)}"
        f" FROM {d.numbers(N_INSTANSI - 1)}",
        "INSERT INTO quizzes (id, module_id, position, title, pass_percent, attempts_allowed,"
        " questions_per_attempt, time_limit_minutes)"
        f" SELECT 'm0' || i, 'm0' || i, i, 'Kuis ' || i, 80, 3, 10, 30 FROM {d.numbers(N_QUIZZES)}",
        "INSERT INTO learners (id, nip, nip_kind, name, email, instansi_id, unit, password_hash, created_at)"
        f" SELECT i, {d.digits('100000000000000000 + i', 18)}, 'pns', 'Peserta ' || i, 'p' || i || '@example.go.id',"
        f" CASE WHEN i <= {big_registered} THEN '{BIG}' ELSE {others} END, 'Unit ' || (i % 40), 'x', {d.now}"
        f" FROM {d.numbers(learners)}",
        # Everyone registered is on their instansi's roster, plus one in ten who never registered.
        "INSERT INTO roster (instansi_id, nip, name, unit, position, uploaded_at, uploaded_by)"
        f" SELECT instansi_id, nip, name, unit, 'Pelaksana', {d.now}, 'bench' FROM learners",
        "INSERT INTO roster (instansi_id, nip, name, unit, position, uploaded_at, uploaded_by)"
        f" SELECT CASE WHEN i <= {big_unregistered} THEN '{BIG}' ELSE {others} END,"
        f" {d.digits('900000000000000000 + i', 18)}, 'Belum daftar ' || i, 'Unit ' || (i % 40), 'Pelaksana',"
        f" {d.now}, 'bench' FROM {d.numbers(unregistered)}",
        # Learner id decides activity: 1 in 10 never starts, 2 do the first few modules, 7 do all
        # eight. Every third (learner, quiz) fails once, then passes on the second try.
        "INSERT INTO attempts (id, learner_id, quiz_id, number, started_at, expires_at, draw, submitted_at,"
        " score, max_score, percent, passed)"
        f" SELECT {d.digits('l.id * 32 + q.position * 2 + k.n', 32)}, l.id, q.id, k.n,"
        f" {d.day(days)}, {d.day(days + ' + 1')}, {d.json('[]')}, {d.day(days + ' + k.n')}, 9, 10,"
        f" CASE WHEN k.n = 1 AND {retried} THEN 50 ELSE 90 END,"
        f" CASE WHEN k.n = 1 AND {retried} THEN {d.false} ELSE {d.true} END"
        " FROM learners l CROSS JOIN quizzes q CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2) k"
        " WHERE l.id % 10 >= 1 AND (l.id % 10 >= 3 OR q.position <= (l.id % 7) + 1)"
        f" AND (k.n = 1 OR {retried})"
        " ORDER BY l.id, q.id, k.n",
        # Half of those who did all eight hold a valid certificate (schema of migration 0004).
        "INSERT INTO certificates (code, learner_id, name, nip_masked, instansi, course_title, jp_credit,"
        " content_version, legal_state_date, issued_on, valid_until, status, signature, payload, created_at)"
        f" SELECT 'B' || {d.digits('id', 14)}, id, name, 'x', instansi_id, 'Netralitas ASN', 2, '1.0.0',"
        f" '2025-12-31', {d.date('2026-01-15')}, {d.date('2099-12-31')}, 'valid', 's', '{{}}', {d.now}"
        " FROM learners WHERE id % 10 >= 3 AND id % 2 = 0",
    ]


def generate(url: str, learners: int, big: int) -> dict[str, int]:
    upgrade(url)
    pg = url.startswith("postgres")
    engine = create_engine(normalise_url(url))
    t0 = time.perf_counter()
    with engine.begin() as conn:
        if not pg:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MB while loading only
        for sql in _statements(learners, big, pg):
            conn.execute(text(sql))
    # Statistics, and on PostgreSQL the visibility map that index-only scans need: the state
    # autovacuum keeps a long-running database in.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE attempts, learners, roster, certificates" if pg else "ANALYZE")
    with engine.begin() as conn:
        counts = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("learners", "roster", "attempts", "certificates")
        }
    engine.dispose()
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    return counts


def measure(url: str, what: str, heap: bool) -> dict[str, float]:
    """One measurement, in this (fresh) process: seconds and peak RSS; with ``heap``, the peak traced
    Python heap instead of a meaningful time (tracemalloc slows allocation-heavy code severalfold)."""
    from quiz_server import create_app, db
    from quiz_server.services import exports, national, report_people, reports
    from quiz_server.services.reports import Filters

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": tempfile.mkdtemp(), "SECRET_KEY": "bench"})
    zone = app.extensions["settings"].zone
    out: dict[str, float] = {}
    with db.unit_of_work(app) as uow:
        if heap:
            tracemalloc.start()
        t0 = time.perf_counter()
        cpu0 = _cpu()
        if what == "summary":
            report = reports.completion(uow, Filters(BIG), zone)
            out["people"] = report["totals"]["roster"]
        elif what == "summary-period":
            report = reports.completion(uow, Filters(BIG, None, *_period()), zone)
            out["people"] = report["totals"]["roster"]
        elif what == "xlsx":
            report = reports.completion(uow, Filters(BIG), zone)
            with tempfile.TemporaryFile() as fh:
                exports.write_xlsx(report, report_people.people(uow, Filters(BIG), zone), fh, zone)
                out["xlsx_mb"] = round(fh.tell() / 2**20, 1)
            out["people"] = report["totals"]["roster"]
        elif what == "csv":
            report = reports.completion(uow, Filters(BIG), zone)
            people = report_people.people(uow, Filters(BIG), zone)
            size = sum(len(c) for c in exports.csv_chunks(report, people, zone))
            out["csv_mb"] = round(size / 2**20, 1)
        elif what == "national":
            data = national.national(uow, Filters(), zone)
            out["people"] = data["totals"]["roster"]
        out["seconds"] = round(time.perf_counter() - t0, 2)
        if heap:
            out["py_heap_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
            tracemalloc.stop()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_mb"] = _peak_rss_mb(usage)
    out["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime - cpu0, 2)
    return out


def _peak_rss_mb(usage: resource.struct_rusage) -> float:
    """This process's own high-water mark. Linux keeps ru_maxrss across exec, so a child started by
    the (large) generating process would report the parent's peak; VmHWM starts afresh at exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(usage.ru_maxrss / 1024, 1)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _period():
    import datetime as dt

    return dt.date(2025, 9, 1), dt.date(2026, 3, 31)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--learners", type=int, default=1_000_000)
    ap.add_argument("--big", type=int, default=50_000, help="people on the big instansi's roster")
    ap.add_argument("--database-url", help="an EMPTY PostgreSQL database (default: a fresh SQLite file)")
    ap.add_argument("--heap", action="store_true", help="also run each measurement under tracemalloc")
    ap.add_argument("--keep", help="write the SQLite file here and keep it (default: a temporary folder)")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.database_url, args.measure, args.heap)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep or f"{tmp}/report-bench.sqlite")
        path.unlink(missing_ok=True)
        url = args.database_url or f"sqlite:///{path}"
        counts = generate(url, args.learners, args.big)
        print(
            f"data: {counts['learners']:,} learners, {counts['roster']:,} roster entries, "
            f"{counts['attempts']:,} attempts, {counts['certificates']:,} certificates, "
            f"generated in {counts['seconds']} s"
        )
        if not args.database_url:
            print(f"database file: {path.stat().st_size / 2**30:.2f} GiB")
        print("| measurement | wall s | CPU s | peak RSS MB | peak Python heap MB | notes |")
        print("|---|---|---|---|---|---|")
        for what in ("summary", "summary-period", "csv", "xlsx", "national"):
            r = _run(what, url, heap=False)
            heap = _run(what, url, heap=True)["py_heap_mb"] if args.heap else "-"
            notes = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("seconds", "cpu_seconds", "peak_rss_mb"))
            print(
                f"| {what} | {r['seconds']} | {r['cpu_seconds']} | {r['peak_rss_mb']} | {heap} | {notes} |", flush=True
            )


def _run(what: str, url: str, heap: bool) -> dict:
    cmd = [sys.executable, __file__, "--measure", what, "--database-url", url, *(["--heap"] if heap else [])]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
