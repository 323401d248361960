"""The hot path under wrk: bare Flask apps, then the kit's cheapest routes, attempt start and submit.

Run: .venv/bin/python bench/wrk_bench.py [--quick] [--seconds 10] [--rounds 3] [--clients 16 64]
     [--capacity 2500] [--database sqlite|postgresql] [--targets noop insert healthz ...]

Needs wrk (Debian's package: `apt-get install -y wrk`; `make bench` installs it when missing).
Every target is started fresh, one at a time, in interleaved rounds, all served as
`netralitas serve` serves the kit (gunicorn's asgi worker, 2 workers, Flask on a2wsgi's pool of
BENCH_THREADS threads, 4 by default):

- bare Flask returning small JSON (bench/bare_noop.py),
- bare Flask doing one durable SQLite insert, WAL, synchronous=FULL, one writer per process as in
  the kit (bench/bare_insert.py),
- the kit (`netralitas serve`, SQLite) on GET /healthz, GET /api/v1/instansi (the cheapest
  database read), attempt start and graded submit, and graded submit again with 200 live-board
  event streams held open (a trainer's workshop board; the stream lifetime raised so they stay
  open), to show streams hold no request thread.

Start and submit walk lists written here (bench/wrk/walk.lua): each start is a learner/quiz pair
with attempts left, each submit a fresh pre-started attempt with its own bearer token and
Idempotency-Key. The learners and attempts are made once, in a template instance that every kit
target copies, so each kit target starts from the same state. ``--capacity`` (requests per second
the pools are sized for) must exceed the rate reached: a pool that runs out shows as "exhausted".
After each submit target the harness checks that every acknowledged submit (2xx) is in its database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import BIN, OUTBOXES, ROOT, free_port, machine, register_learners

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk"
WORKERS = 2
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
QUIZZES = [f"m0{i}" for i in range(1, 9)]
ATTEMPTS_PER_QUIZ = 3
ATTEMPT_MINUTES = 30  # content/course.yaml time_limit_minutes: pre-started attempts expire after this

TARGETS = [
    ("bare no-op JSON", "noop"),
    ("bare durable insert", "insert"),
    ("kit GET /healthz", "healthz"),
    ("kit GET /api/v1/instansi", "instansi"),
    ("kit attempt start", "start"),
    ("kit graded submit", "submit"),
    ("kit graded submit, 200 board streams open", "submit-streams"),
]
STREAMS = 200  # live-board event streams held open during the "submit-streams" target
# --database postgresql: the template and every kit target get a database of their own on this server
# (each target's a copy of the template: CREATE DATABASE ... TEMPLATE).
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://127.0.0.1")
PG_TEMPLATE = "wrk_bench_template"
PG_TARGET = "wrk_bench_target"
BACKEND = {"name": "sqlite"}


def database_url(instance: Path) -> str:
    """The kit's DATABASE_URL for ``instance`` (the template or a target's copy)."""
    if BACKEND["name"] == "sqlite":
        return f"sqlite:///{instance}/bench.sqlite"
    return f"{PG_SERVER}/{PG_TEMPLATE if instance.name == 'template' else PG_TARGET}"


def pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def stored_submits(instance: Path) -> set[str]:
    query = "SELECT id FROM attempts WHERE submitted_at IS NOT NULL"
    if BACKEND["name"] == "sqlite":
        conn = sqlite3.connect(instance / "bench.sqlite")
        try:
            return {r[0] for r in conn.execute(query)}
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(database_url(instance)) as conn:
        return {r[0] for r in conn.execute(query)}


def wrk_or_exit() -> str:
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is not installed. Install it with: apt-get install -y wrk  (or run `make bench`)")
    return found


def gunicorn_flags() -> list[str]:
    return ["--workers", str(WORKERS), "--threads", str(THREADS)]


@contextmanager
def process(cmd: list[str], env: dict[str, str], url: str, probe: str) -> Iterator[subprocess.Popen]:
    """Start ``cmd``; wait until ``url + probe`` answers (any status) and every worker listens; stop
    it with SIGTERM afterwards.

    gunicorn forks its workers one after another, with a random pause of up to 0.1 s between them,
    and a worker then loads the app before it accepts: the probe can be answered while the second
    worker is not listening yet, and wrk's connections, all opened at its start, then land on the
    first worker only. Each worker logs "ASGI server listening" when it accepts; wait for all."""
    log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                requests.get(url + probe, timeout=1)
                if Path(log.name).read_bytes().count(b"ASGI server listening") >= WORKERS:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or too busy starting to answer
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} did not start")
            time.sleep(0.1)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


@contextmanager
def bare(module: str, folder: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--worker-class", "asgi", "--asgi-lifespan", "off"]
    cmd += ["--graceful-timeout", "10", "--no-control-socket", "--bind", f"127.0.0.1:{port}", f"bench.{module}:asgi"]
    env = {**os.environ, "BENCH_INSERT_DB": str(folder / "bare_insert.sqlite")}
    with process(cmd, env, url, "/"):
        yield url


PROFILE: dict[str, Path | None] = {"dir": None}  # --profile: py-spy records the workers during start/submit
SERVERS: dict[str, int] = {}  # url -> the server's process id (the gunicorn arbiter)

# Where a sampled frame's time goes, by the file of the innermost frame (first match wins).
CATEGORIES = [
    ("SQLAlchemy and the database driver", ("sqlalchemy", "sqlite3", "psycopg", "psycopg_pool")),
    ("Flask and Werkzeug", ("flask", "werkzeug", "flask_wtf", "itsdangerous", "jinja2")),
    ("server: gunicorn, a2wsgi, asyncio, threads", ("gunicorn", "a2wsgi", "asyncio", "uvloop", "selectors.py",
                                                    "concurrent", "threading.py", "queue.py", "socket.py")),
    ("pydantic", ("pydantic", "pydantic_core")),
    ("JSON", ("json",)),
    ("the kit's own code", ("quiz_server", "netralitas")),
]  # fmt: skip


def _place(frame: str) -> str:
    """The file of a py-spy frame, ``name (path/file.py:line)``: ``path/file.py``."""
    return frame[frame.rfind("(") + 1 :].rsplit(":", 1)[0]


def categorize(collapsed: Path) -> dict[str, int]:
    """Samples per category of a py-spy ``--format raw`` file (``frame;frame;... count`` lines)."""
    out: dict[str, int] = {}
    for row in collapsed.read_text().splitlines():
        stack, _, count = row.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        name = "other (standard library)"
        for frame in reversed(frames):  # the innermost frame that names a known place decides
            place = _place(frame)
            top = place.split("/")[0]
            found = next((cat for cat, marks in CATEGORIES if top in marks or place.endswith(marks)), None)
            if found:
                name = found
                break
        out[name] = out.get(name, 0) + int(count)
    return out


def workers_of(url: str) -> list[int]:
    """The worker processes of the server at ``url`` (all of them: process() waited until each listens)."""
    arbiter = SERVERS[url]
    return [int(x) for x in Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()]


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes used so far (all their threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


@contextmanager
def profiled(url: str, label: str, seconds: int) -> Iterator[None]:
    """With --profile: py-spy (GIL-holding samples: CPU time in Python) on every worker of ``url``."""
    folder = PROFILE["dir"]
    if folder is None:
        yield
        return
    workers = workers_of(url)
    spies = []
    for pid in workers:
        out = folder / f"{label}-{pid}.txt"
        cmd = [str(BIN / "py-spy"), "record", "--pid", str(pid), "--gil", "--rate", "250", "--format", "raw",
               "--duration", str(seconds), "--nonblocking", "--output", str(out)]  # fmt: skip
        spies.append((subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out))
    try:
        yield
    finally:
        total: dict[str, int] = {}
        for spy, out in spies:
            spy.wait(timeout=seconds + 60)
            for name, n in categorize(out).items() if out.exists() else ():
                total[name] = total.get(name, 0) + n
        all_samples = sum(total.values()) or 1
        parts = ", ".join(
            f"{name} {100 * n / all_samples:.0f} %" for name, n in sorted(total.items(), key=lambda x: -x[1])
        )
        print(f"profile {label} (py-spy --gil, {all_samples} samples): {parts}", flush=True)


@contextmanager
def kit(instance: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`netralitas serve` on ``instance`` (SQLite: instance/bench.sqlite; PostgreSQL: database_url)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NETRALITAS_INSTANCE": str(instance),
        "DATABASE_URL": database_url(instance),
        "NETRALITAS_CONTENT": str(ROOT / "content"),
        "NETRALITAS_PUBLIC_URL": url,
        **(extra_env or {}),
    }
    cmd = [str(BIN / "netralitas"), "serve", "--demo", "--port", str(port), *gunicorn_flags()]
    OUTBOXES[url] = instance / "outbox"
    with process(cmd, env, url, "/healthz") as proc:
        SERVERS[url] = proc.pid
        yield url


def learner_bodies(first: int, n: int) -> list[dict]:
    return [
        {
            "nip": f"1990{i // 28 % 12 + 1:02d}{i % 28 + 1:02d}2015031{i // 336 % 999 + 1:03d}",
            "name": f"Peserta {i}",
            "email": f"p{i}@example.go.id",
            "instansi_id": "bkn",
            "unit": "Bench",
            "password": "bench-password-123",
        }
        for i in range(first, first + n)
    ]


def post_ok(s: requests.Session, url: str, **kw) -> requests.Response:
    """POST, waiting out the start-spike guard's 429; raise on any other failure."""
    deadline = time.monotonic() + 120
    while True:
        r = s.post(url, timeout=60, **kw)
        if r.status_code == 429 and time.monotonic() < deadline:
            time.sleep(float(r.headers.get("Retry-After", "1")))
            continue
        r.raise_for_status()
        return r


def line(path: str, token: str, body: dict) -> str:
    return "\t".join([path, token, str(uuid.uuid4()), json.dumps(body, separators=(",", ":"))])


def make_template(folder: Path, per_level: int, levels: int) -> tuple[Path, list[list[str]], list[list[str]]]:
    """Register learners and pre-start the submit attempts in one instance; return it and the lists.

    Returns (instance, start lists, submit lists), one list per client level, each ``per_level``
    lines; the start learners and the submit learners are different people."""
    instance = folder / "template"
    instance.mkdir()
    if BACKEND["name"] == "postgresql":
        pg_admin(f"DROP DATABASE IF EXISTS {PG_TEMPLATE}", f"CREATE DATABASE {PG_TEMPLATE}")
    per_learner = len(QUIZZES) * ATTEMPTS_PER_QUIZ
    n = -(-per_level // per_learner)  # learners per level and kind
    # Only for making the data: cheap password hashes, no registration rate limit. The measured
    # servers run with the kit's defaults.
    env = {
        "NETRALITAS_RATE_LIMIT_REGISTER": "1000000/1",
        "NETRALITAS_ARGON2_TIME_COST": "1",
        "NETRALITAS_ARGON2_MEMORY_KIB": "1024",
    }
    with kit(instance, env) as url:
        s = requests.Session()
        board = _make_board(url, instance, env)
        tokens = register_learners(
            url, learner_bodies(0, 2 * n * levels), OUTBOXES[url], lambda a, **kw: post_ok(s, a, **kw), threads=4
        )
        start_tokens, submit_tokens = tokens[: n * levels], tokens[n * levels :]

        def pairs(toks: list[str]) -> list[tuple[str, str]]:
            # Every learner/quiz pair once, then again, then a third time: the repeats are far apart.
            return [(t, q) for _ in range(ATTEMPTS_PER_QUIZ) for q in QUIZZES for t in toks]

        starts = [
            [line(f"/api/v1/quizzes/{q}/attempts", t, {}) for t, q in pairs(start_tokens[k * n : (k + 1) * n])][
                :per_level
            ]
            for k in range(levels)
        ]

        def prestart(pair: tuple[str, str]) -> str:
            tok, q = pair
            r = post_ok(
                s,
                f"{url}/api/v1/quizzes/{q}/attempts",
                json={},
                headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": str(uuid.uuid4())},
            )
            att = r.json()["attempt"]
            answers = {qq["id"]: [qq["choices"][0]["id"]] for qq in att["questions"]}
            return line(f"/api/v1/attempts/{att['id']}/submit", tok, {"answers": answers})

        with ThreadPoolExecutor(8) as pool:
            submits = [
                list(pool.map(prestart, pairs(submit_tokens[k * n : (k + 1) * n])[:per_level])) for k in range(levels)
            ]
    (instance / "board.json").write_text(json.dumps(board))
    return instance, starts, submits


def _make_board(url: str, instance: Path, env: dict[str, str]) -> dict:
    """A trainer account and a live workshop whose board the "submit-streams" target watches."""
    password = "sandi-papan-lokakarya-7"
    cli_env = {**os.environ, **env, "NETRALITAS_INSTANCE": str(instance),
               "DATABASE_URL": database_url(instance), "NETRALITAS_CONTENT": str(ROOT / "content")}  # fmt: skip
    subprocess.run(
        [str(BIN / "netralitas"), "users", "add", "pelatih-bench", "--role", "trainer", "--password-stdin"],
        input=password + "\n", env=cli_env, check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    s = requests.Session()
    token = post_ok(s, f"{url}/api/v1/auth/token", json={"username": "pelatih-bench", "password": password})
    token = token.json()["token"]
    body = {"title": "Bench", "date": "2026-12-02", "place": "Aula", "quiz_id": "m01", "mode": "live",
            "question_count": 3}  # fmt: skip
    ws = post_ok(s, f"{url}/api/v1/workshops", json=body, headers={"Authorization": f"Bearer {token}"}).json()
    return {"token": token, "workshop_id": ws["workshop"]["id"]}


@contextmanager
def board_streams(url: str, board: dict, n: int) -> Iterator[None]:
    """``n`` open live-board event streams (raw sockets, drained by one thread) for the block."""
    host, port = url.removeprefix("http://").split(":")
    request = (
        f"GET /pelatih/lokakarya/{board['workshop_id']}/aliran HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {board['token']}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    socks, stop = [], threading.Event()
    for _ in range(n):
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(request)
        socks.append(sock)
    for sock in socks:  # each stream answered (its first bytes), so all are open before measuring
        assert sock.recv(65536).startswith(b"HTTP/1.1 200"), "a board stream was refused"
        sock.setblocking(False)
    sel = selectors.DefaultSelector()
    for sock in socks:
        sel.register(sock, selectors.EVENT_READ)

    def drain() -> None:
        while not stop.is_set():
            for key, _ in sel.select(timeout=0.2):
                with contextlib.suppress(BlockingIOError):
                    key.fileobj.recv(65536)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        yield
    finally:
        stop.set()
        reader.join(timeout=5)
        for sock in socks:
            sock.close()


def run_wrk(wrk: str, url: str, clients: int, seconds: int, script: str, args: list[str]) -> dict:
    cmd = [wrk, "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "30s", "-s", script, url, "--", *args]
    out = subprocess.run(cmd, cwd=LUA, capture_output=True, text=True, check=True).stdout
    return json.loads([x for x in out.splitlines() if x.startswith("{")][-1])


def acked_ids(prefix: Path) -> list[str]:
    ids = []
    for path in prefix.parent.glob(prefix.name + "*"):
        ids += path.read_text().split()
    return ids


def measure(wrk: str, kind: str, folder: Path, template: Path, lists: dict, clients: list[int], seconds: int) -> list:
    """One fresh target, measured at every client level; returns [(clients, wrk figures, lost or None)]."""
    out = []
    if kind in ("noop", "insert"):
        with bare("bare_noop" if kind == "noop" else "bare_insert", folder) as url:
            for c in clients:
                out.append(
                    (c, run_wrk(wrk, url + "/", c, seconds, "plain.lua", [] if kind == "noop" else ["POST"]), None)
                )
        return out
    instance = folder / "kit"
    shutil.copytree(template, instance)
    if BACKEND["name"] == "postgresql":
        pg_admin(f"DROP DATABASE IF EXISTS {PG_TARGET}", f"CREATE DATABASE {PG_TARGET} TEMPLATE {PG_TEMPLATE}")
    logs = []
    streams = kind == "submit-streams"
    lists = {**lists, "submit-streams": lists["submit"]}
    # Streams end after their lifetime (30 s by default) and a browser reconnects; here they must
    # stay open for the whole target.
    with (
        kit(instance, {"NETRALITAS_WORKSHOP_STREAM_SECONDS": "3600"} if streams else None) as url,
        (
            board_streams(url, json.loads((instance / "board.json").read_text()), STREAMS)
            if streams
            else contextlib.nullcontext()
        ),
    ):
        for k, c in enumerate(clients):
            if kind in ("healthz", "instansi"):
                path = "/healthz" if kind == "healthz" else "/api/v1/instansi"
                out.append((c, run_wrk(wrk, url + path, c, seconds, "plain.lua", []), None))
                continue
            listing = folder / f"{kind}-{c}.tsv"
            listing.write_text("\n".join(lists[kind][k]) + "\n")
            log = folder / f"{kind}-{c}-ack-"
            workers = workers_of(url)
            used = cpu_seconds(workers)
            with profiled(url, f"{kind}-c{c}", seconds):
                fig = run_wrk(wrk, url, c, seconds, "walk.lua", ["2", str(listing), str(log)])
            fig["cpu_s"] = cpu_seconds(workers) - used
            # The two threads walk the list from both ends: using more than it holds means they met.
            fig["exhausted"] += max(0, fig["sent"] - len(lists[kind][k]))
            out.append((c, fig, None))
            logs.append(log)
    if kind in ("submit", "submit-streams"):  # after the server stopped: is every acknowledged submit in the database?
        stored = stored_submits(instance)
        for i, log in enumerate(logs):
            acked = acked_ids(log)
            c, fig, _ = out[i]
            if len(acked) != fig["ok"]:
                print(f"warning: {fig['ok']} 2xx submits but {len(acked)} logged attempt ids", flush=True)
            out[i] = (c, fig, (len(acked), len(set(acked) - stored)))
    shutil.rmtree(instance)
    return out


def fmt_ms(us: float) -> str:
    return f"{us / 1000:,.1f}"


def table(results: dict[tuple[str, int], list[tuple[dict, tuple | None]]], targets: list, clients: list[int],
          rounds: int) -> str:  # fmt: skip
    def rate(fig: dict) -> float:
        return fig["ok"] / (fig["duration_us"] / 1e6)

    rows = [
        f"| target | clients | 2xx req/s (median of {rounds}; range) | p50 ms | p99 ms | non-2xx | "
        "req/s / insert | p99 / insert |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = {c: results[("insert", c)] for c in clients}
    for name, kind in targets:
        for c in clients:
            runs = results[(kind, c)]
            rates = [rate(f) for f, _ in runs]
            p50 = statistics.median(f["p50_us"] for f, _ in runs)
            p99 = statistics.median(f["p99_us"] for f, _ in runs)
            bad = sum(f["non2xx"] + f["connect"] + f["read"] + f["write"] + f["timeout"] for f, _ in runs)
            exhausted = sum(f["exhausted"] for f, _ in runs)
            brate = statistics.median(rate(f) for f, _ in base[c])
            bp99 = statistics.median(f["p99_us"] for f, _ in base[c])
            note = f" ({exhausted} pool exhausted)" if exhausted else ""
            rows.append(
                f"| {name} | {c} | {statistics.median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) | "
                f"{fmt_ms(p50)} | {fmt_ms(p99)} | {bad}{note} | {statistics.median(rates) / brate:.2f} | "
                f"{p99 / bp99:.2f} |"
            )
    rows.append("")
    both = {"submit", "submit-streams"} <= {kind for _, kind in targets}
    for c in clients if both else ():  # issue #18: open board streams must leave submits within 20 % of none
        plain = statistics.median(rate(f) for f, _ in results[("submit", c)])
        streamed = statistics.median(rate(f) for f, _ in results[("submit-streams", c)])
        rows.append(
            f"With {STREAMS} board streams open, submits at {c} clients: {streamed / plain:.2f} of the rate without."
        )
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 s per target, one round")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--capacity", type=int, default=2500, help="req/s the start and submit pools are sized for")
    kinds = [k for _, k in TARGETS]
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite",
                    help=f"the kit's database; postgresql: databases on {PG_SERVER} (BENCH_PG_SERVER)")  # fmt: skip
    ap.add_argument("--targets", nargs="+", choices=kinds, default=kinds, help="a subset, for a quick look")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="record the workers with py-spy during start and submit; raw profiles go to DIR")  # fmt: skip
    args = ap.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        PROFILE["dir"] = args.profile.resolve()
    if args.quick:
        args.seconds, args.rounds = 3, 1
    wrk = wrk_or_exit()
    BACKEND["name"] = args.database
    print(f"machine: {machine()}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    print(f"gunicorn {WORKERS} workers x {THREADS} threads; wrk -t 2, {args.seconds} s per level; "
          f"kit on {args.database}", flush=True)  # fmt: skip
    per_level = args.capacity * args.seconds
    with tempfile.TemporaryDirectory(prefix="wrk-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.monotonic()
        template, starts, submits = make_template(folder, per_level, len(args.clients))
        made = time.monotonic()
        print(f"template: {per_level} starts and {per_level} attempts per level, {made - t0:.0f} s", flush=True)
        lists = {"start": starts, "submit": submits}
        chosen = [(name, kind) for name, kind in TARGETS if kind in args.targets or kind == "insert"]
        results: dict[tuple[str, int], list] = {(kind, c): [] for _, kind in chosen for c in args.clients}
        lost = acknowledged = 0
        for r in range(args.rounds):
            for name, kind in chosen:
                if kind == "submit" and time.monotonic() - made > (ATTEMPT_MINUTES - 3) * 60:
                    print("warning: the pre-started attempts are close to expiring; use fewer rounds", flush=True)
                work = folder / f"round{r}-{kind}"
                work.mkdir()
                for c, fig, check in measure(wrk, kind, work, template, lists, args.clients, args.seconds):
                    results[(kind, c)].append((fig, check))
                    rate = fig["ok"] / (fig["duration_us"] / 1e6)
                    extra = f", pool items used {fig['sent']}" if fig["sent"] else ""
                    if fig.get("cpu_s") and fig["ok"]:
                        extra += f", server CPU {1000 * fig['cpu_s'] / fig['sent']:.2f} ms per request"
                    if check:
                        acknowledged += check[0]
                        lost += check[1]
                        extra += f", acknowledged {check[0]}, lost {check[1]}"
                    print(
                        f"round {r + 1} {name} c={c}: {rate:,.0f} 2xx/s, p50 {fmt_ms(fig['p50_us'])} ms, "
                        f"p99 {fmt_ms(fig['p99_us'])} ms, non-2xx {fig['non2xx']}, exhausted {fig['exhausted']}{extra}",
                        flush=True,
                    )
                shutil.rmtree(work)
        print()
        print(table(results, chosen, args.clients, args.rounds))
        print(f"\nacknowledged submits: {acknowledged}, found in the database: {acknowledged - lost}, lost: {lost}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if BACKEND["name"] == "postgresql":
            pg_admin(f"DROP DATABASE IF EXISTS {PG_TARGET}", f"DROP DATABASE IF EXISTS {PG_TEMPLATE}")
        if any(f["exhausted"] for runs in results.values() for f, _ in runs):
            print("warning: a start or submit pool ran out; the rows marked 'pool exhausted' are not valid.")
            print("Run again with a larger --capacity (more than the req/s reached).")
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
