"""Completion reports at national scale: three sizes of civil service, a 50,000-person instansi in each.

Run: .venv/bin/python bench/report_bench.py [--sizes 500000 1000000 2000000] [--big 50000]
     [--database-url postgresql://HOST/ANY] [--repeat 2] [--json FILE] [--quick] [--only M ...]

For each size (learners nationally; default 0.5 M, 1 M and 2 M) the data goes into a fresh database
migrated with the real schema (quiz_server.migrate.upgrade), by bulk INSERT ... SELECT statements
inside the database, so millions of attempts take minutes, not hours; then the summary tables are
rebuilt with the kit's own function, as an old database would be after migration 0014. Eight
quizzes; one roster entry in ten never registered; 90 % of learners are active, 70 % on all eight
modules; a third of the (learner, quiz) pairs failed once and retried: about 8.5 attempts per learner,
so history grows in proportion to the size. The big instansi has ``--big`` people at every size.

SQLite: a file per size in a temporary folder (``--keep DIR`` keeps them there). PostgreSQL:
``--database-url`` names the server; each size gets its own scratch database ``report_bench_<size>``
(created, and dropped afterwards unless ``--keep``), so the database in the URL is never touched.

Each measurement runs in its own process (so its peak memory is its own) and calls the real report
functions: the JSON summary (with and without a period filter), the CSV export, the XLSX export
(written to a temporary file), the national view (the rollups), and without an aim: the refresh
job after a change to the big instansi (``refresh-big``), a full refresh (``refresh-full``, after a
content change) and the national view with a period (counted live from the summary rows). Prints wall seconds (best of ``--repeat``), that
run's CPU seconds, the database server's CPU seconds on PostgreSQL when the server runs on this
machine (the backend's, plus any parallel workers', read from /proc), and peak RSS; with --heap also
the peak Python heap, from a separate run (tracemalloc slows allocation-heavy code severalfold).
``--quick`` is a smoke run: one size of 20,000 learners, a 2,000-person instansi, one repeat.
"""

# ruff: noqa: S608  (the SQL below is built from constants and integers of this script, never from input)
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quiz_server.db import normalise_url  # noqa: E402
from quiz_server.migrate import upgrade  # noqa: E402

BIG = "bench-besar"
N_QUIZZES = 8
N_INSTANSI = 1000
UNREGISTERED_SHARE = 10  # one roster entry in ten has never registered
SIZES = (500_000, 1_000_000, 2_000_000)
MEASUREMENTS = (
    "summary",
    "summary-period",
    "csv",
    "xlsx",
    "national",
    "refresh-big",
    "refresh-full",
    "national-period",
)
# Aims of issue #19, seconds of wall time on this machine. The refreshes are the background job's
# cost (no request waits for them) and a period national view counts live: shown, without an aim.
AIMS = {"summary": 0.5, "summary-period": 0.5, "csv": 2.0, "xlsx": 4.0, "national": 1.0}
AIM_RSS_MB = 500
NO_AIM = {"refresh-big": "(job; no aim)", "refresh-full": "(job; no aim)", "national-period": "(live count; no aim)"}


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


def generate(url: str, learners: int, big: int) -> dict[str, float]:
    """Fill the empty database at ``url``; returns row counts and seconds (loading, summary rebuild)."""
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
    loaded = time.perf_counter()
    _rebuild_summaries(url)
    rebuilt = time.perf_counter()
    # Statistics, and on PostgreSQL the visibility map that index-only scans need: the state
    # autovacuum keeps a long-running database in.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if pg else "ANALYZE")
    with engine.begin() as conn:
        counts: dict[str, float] = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("learners", "roster", "attempts", "certificates")
        }
    engine.dispose()
    counts["load_seconds"] = round(loaded - t0, 1)
    counts["summary_seconds"] = round(rebuilt - loaded, 1)
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    return counts


def _rebuild_summaries(url: str) -> None:
    """The summary tables of migration 0014 and the national rollups, filled from the base tables by
    the kit's own rebuild (the one `netralitas report rebuild-summary` runs), in its own unit of work."""
    from quiz_server import create_app, db
    from quiz_server.services import national

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": tempfile.mkdtemp(), "SECRET_KEY": "bench"})
    with db.unit_of_work(app) as uow:
        national.rebuild(uow, app.extensions["settings"].zone)
        uow.commit()


def measure(url: str, what: str, heap: bool) -> dict[str, float]:
    """One measurement, in this (fresh) process: seconds and peak RSS; with ``heap``, the peak traced
    Python heap instead of a meaningful time (tracemalloc slows allocation-heavy code severalfold)."""
    from quiz_server import create_app, db
    from quiz_server.services import exports, national, report_people, reports, summary
    from quiz_server.services.reports import Filters

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": tempfile.mkdtemp(), "SECRET_KEY": "bench"})
    zone = app.extensions["settings"].zone
    out: dict[str, float] = {}
    with db.unit_of_work(app) as uow:
        backend = _DbCpu(uow) if url.startswith("postgres") else None
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
        elif what == "national":  # the admin's page: the rollups
            data = national.national(uow, Filters(), zone)
            out["people"] = data["totals"]["roster"]
        elif what == "national-period":  # with a period: counted now from the summary rows
            data = national.national(uow, Filters(None, None, *_period()), zone)
            out["people"] = data["totals"]["roster"]
        elif what == "refresh-big":  # the job after a roster upload of the big instansi (never committed)
            summary.mark_instansi(uow.write().connection(), [BIG])
            out["instansi"] = national.refresh(uow, zone)["instansi"]
        elif what == "refresh-full":  # the job recounting everything (after a content change; never committed)
            out["instansi"] = national.refresh(uow, zone, full=True)["instansi"]
        out["seconds"] = round(time.perf_counter() - t0, 3)
        out["cpu_seconds"] = round(_cpu() - cpu0, 2)
        if backend is not None:
            db_cpu = backend.seconds()
            if db_cpu is not None:
                out["db_cpu_seconds"] = db_cpu
        if heap:
            out["py_heap_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
            tracemalloc.stop()
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


class _DbCpu:
    """CPU seconds the PostgreSQL server spends for this unit of work: its backend process, plus the
    exited children of the postmaster (parallel query workers; on a busy server also other sessions
    that ended meanwhile). None when the server is not on this machine."""

    def __init__(self, uow) -> None:
        self.pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar()
        self.parent = _ppid(self.pid)
        self.start = self._now()

    def _now(self) -> float | None:
        own, children = _proc_cpu(self.pid), _proc_cpu(self.parent, children=True) if self.parent else 0.0
        return None if own is None or children is None else own + children

    def seconds(self) -> float | None:
        end = self._now()
        return None if end is None or self.start is None else round(end - self.start, 2)


def _proc_cpu(pid: int | None, children: bool = False) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    first = 13 if children else 11  # utime, stime at fields 14, 15; cutime, cstime at 16, 17 (1-based)
    return (int(fields[first]) + int(fields[first + 1])) / ticks


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _peak_rss_mb() -> float:
    """This process's own high-water mark. Linux keeps ru_maxrss across exec, so a child started by
    the (large) generating process would report the parent's peak; VmHWM starts afresh at exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _period():
    import datetime as dt

    return dt.date(2025, 9, 1), dt.date(2026, 3, 31)


# -- targets: a fresh database per size ----------------------------------------------------------------


@contextlib.contextmanager
def _sqlite(size: int, keep: str | None) -> Iterator[tuple[str, Path]]:
    """A fresh SQLite file: in ``keep`` (left there), else in a temporary folder (deleted after)."""
    with contextlib.ExitStack() as stack:
        folder = Path(keep) if keep else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"report-bench-{size}.sqlite"
        for leftover in folder.glob(path.name + "*"):
            leftover.unlink()
        yield f"sqlite:///{path}", path


@contextlib.contextmanager
def _postgres(server_url: str, size: int, keep: bool) -> Iterator[tuple[str, None]]:
    """A scratch database on the server of ``server_url``; the URL's own database is only used to
    connect for CREATE and DROP DATABASE."""
    name = f"report_bench_{size}"
    url = make_url(normalise_url(server_url))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False), None
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# -- running and printing ------------------------------------------------------------------------------


def _run(what: str, url: str, heap: bool) -> dict:
    cmd = [sys.executable, __file__, "--measure", what, "--database-url", url, *(["--heap"] if heap else [])]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(f"{what} failed:\n{run.stderr[-4000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def _best(what: str, url: str, repeat: int) -> dict:
    runs = [_run(what, url, heap=False) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    best["walls"] = [r["seconds"] for r in runs]
    return best


def _bench_size(url: str, size: int, args: argparse.Namespace, path: Path | None) -> dict:
    counts = generate(url, size, args.big)
    print(
        f"\n### {size:,} learners ({'PostgreSQL' if url.startswith('postgres') else 'SQLite'})\n\n"
        f"data: {counts['learners']:,} learners, {counts['roster']:,} roster entries, "
        f"{counts['attempts']:,} attempts, {counts['certificates']:,} certificates; loaded in "
        f"{counts['load_seconds']} s, summary tables rebuilt in {counts['summary_seconds']} s, "
        f"{counts['seconds']} s in all",
        flush=True,
    )
    if path is not None:
        counts["file_gib"] = round(sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**30, 2)
        print(f"database file: {counts['file_gib']:.2f} GiB")
    print(
        "\n| measurement | wall s (best) | all walls | CPU s | DB CPU s | peak RSS MB | py heap MB | aim | notes |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    results = {}
    for what in args.only or MEASUREMENTS:
        r = _best(what, url, args.repeat)
        if args.heap:
            r["py_heap_mb"] = _run(what, url, heap=True)["py_heap_mb"]
        met = r["seconds"] < AIMS.get(what, float("inf")) and r["peak_rss_mb"] < AIM_RSS_MB
        aim = f"{'met' if met else 'MISSED'} (< {AIMS[what]} s)" if what in AIMS else NO_AIM[what]
        notes = ", ".join(
            f"{k}={v}"
            for k, v in r.items()
            if k not in ("seconds", "walls", "cpu_seconds", "db_cpu_seconds", "peak_rss_mb", "py_heap_mb")
        )
        print(
            f"| {what} | {r['seconds']} | {' '.join(map(str, r['walls']))} | {r['cpu_seconds']} |"
            f" {r.get('db_cpu_seconds', '-')} | {r['peak_rss_mb']} | {r.get('py_heap_mb', '-')} |"
            f" {aim} | {notes} |",
            flush=True,
        )
        results[what] = r
    return {"size": size, "data": counts, "results": results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="learners nationally, one run each")
    ap.add_argument("--big", type=int, default=50_000, help="people on the big instansi's roster")
    ap.add_argument("--database-url", help="a PostgreSQL server (default: fresh SQLite files)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per measurement; the best wall is shown")
    ap.add_argument("--heap", action="store_true", help="also run each measurement under tracemalloc")
    ap.add_argument("--keep", help="SQLite: keep the files in this folder; PostgreSQL: keep the databases")
    ap.add_argument("--json", help="also write every figure to this file")
    ap.add_argument("--quick", action="store_true", help="smoke run: 20,000 learners, 2,000 in the big instansi")
    ap.add_argument("--only", nargs="+", choices=MEASUREMENTS, help="only these measurements (default: all)")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.database_url, args.measure, args.heap)))
        return
    if args.quick:
        args.sizes, args.big, args.repeat = [20_000], 2_000, 1
    runs = []
    for size in args.sizes:
        target = _postgres(args.database_url, size, bool(args.keep)) if args.database_url else _sqlite(size, args.keep)
        with target as (url, path):
            runs.append(_bench_size(url, size, args, path))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
