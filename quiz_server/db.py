"""Engine and session factories per app. SQLite runs in WAL mode with durable commits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from flask import Flask
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import sessionmaker

from quiz_server import fastsql, filemodes
from quiz_server.uow import DbHandles, UnitOfWork, WriteLock


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _json_dumps(value: object) -> str:
    # orjson for the JSON columns (issue #18: stdlib json showed in the submit's profile). Keys that
    # are not strings are written as strings, as the standard library does.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# A pooled PostgreSQL connection unused for this long is pinged before it is handed out.
PING_IDLE_SECONDS = 2.0


def make_engine(
    url: str,
    busy_timeout_ms: int = 5000,
    pool_size: int = 10,
    max_overflow: int = 20,
    ping_idle_seconds: float = PING_IDLE_SECONDS,
) -> Engine:
    url = normalise_url(url)
    json_options = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if url.startswith("sqlite"):
        # Connections to a local file are cheap; never make a request wait for one.
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
            pool_size=8,
            max_overflow=-1,
            hide_parameters=True,  # a database fault's log line must not carry NIPs, names or hashes
            **json_options,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit acknowledged to a client survives power loss, not just a crash.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        # Let SQLAlchemy own transactions so writes can take the lock up front.
        @event.listens_for(engine, "connect")
        def _no_pysqlite_tx(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            # On the DB-API cursor (fastsql.run): every write of the hot path opens with it (issue #18).
            fastsql.run(conn, "BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        return engine
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=10,
        hide_parameters=True,
        **json_options,
    )
    _ping_when_idle(engine, ping_idle_seconds)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout only when it sat unused for ``idle_seconds``.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip before each request's read
    and another before its write (issue #18). A connection used a moment ago is as good as the
    ping would say; one left idle may have been dropped by a database restart or a firewall and is
    pinged, and replaced (with every connection of the pool older than it) when the ping finds it
    dead, before any request uses it. A connection the database drops within ``idle_seconds`` of
    its last use fails its next statement instead: that request gets 503 with Retry-After
    (errors.py), and the disconnect empties the pool, so the next request connects afresh."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # just connected, or in use a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_conn, None):
                record.info.pop("idle_since", None)
                raise InvalidatePoolError() from exc  # the pool connects again and retries
            raise


def sqlite_files(url: str) -> list[Path]:
    """The database file of a SQLite URL and its -wal and -shm companions (none for :memory:)."""
    url = normalise_url(url)
    if not url.startswith("sqlite:///") or url.startswith("sqlite:///:memory:"):
        return []
    main = Path(url.removeprefix("sqlite:///").split("?")[0])
    return [main, main.with_name(main.name + "-wal"), main.with_name(main.name + "-shm")]


def init_app(app: Flask) -> None:
    # New files are 0600 through the umask (SQLite gives -wal/-shm the database's mode); a database
    # created before that rule is narrowed here.
    for path in sqlite_files(app.config["DATABASE_URL"]):
        filemodes.private(path)
    eng = make_engine(
        app.config["DATABASE_URL"],
        app.config["SQLITE_BUSY_TIMEOUT_MS"],
        app.config["DB_POOL_SIZE"],
        app.config["DB_MAX_OVERFLOW"],
    )
    app.extensions["db"] = handles_for(eng)


def _lock_file(eng: Engine) -> Path | None:
    """The file whose ``flock`` orders SQLite writers across processes: beside the database."""
    files = sqlite_files(eng.url.render_as_string(hide_password=False))
    return files[0].with_name(files[0].name + "-writelock") if files else None


def handles_for(eng: Engine) -> DbHandles:
    return DbHandles(
        engine=eng,
        reader=sessionmaker(eng, expire_on_commit=False),
        writer=sessionmaker(eng.execution_options(write=True), expire_on_commit=False),
        write_lock=WriteLock(_lock_file(eng)) if eng.dialect.name == "sqlite" else None,
    )


def handles(app: Flask) -> DbHandles:
    return app.extensions["db"]


def engine(app: Flask) -> Engine:
    return app.extensions["db"].engine


@contextmanager
def unit_of_work(app: Flask) -> Iterator[UnitOfWork]:
    """A unit of work outside a request (CLI commands, jobs); the caller commits."""
    with UnitOfWork(handles(app)) as uow:
        yield uow
