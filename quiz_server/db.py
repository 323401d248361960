"""Engine and session per app. SQLite runs in WAL mode with durable commits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, busy_timeout_ms: int = 5000, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # Connections to a local file are cheap; never make a request wait for one.
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
            pool_size=8,
            max_overflow=-1,
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
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=10, pool_pre_ping=True)


def init_app(app: Flask) -> None:
    eng = make_engine(
        app.config["DATABASE_URL"],
        app.config["SQLITE_BUSY_TIMEOUT_MS"],
        app.config["DB_POOL_SIZE"],
        app.config["DB_MAX_OVERFLOW"],
    )
    app.extensions["db_engine"] = eng
    app.extensions["db_reader"] = sessionmaker(eng, expire_on_commit=False)
    app.extensions["db_writer"] = sessionmaker(eng.execution_options(write=True), expire_on_commit=False)
    app.extensions["db_thread_lock"] = threading.Lock() if eng.dialect.name == "sqlite" else None
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def session() -> Session:
    """The request's read session, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_reader"]()
    return g.db_session


@contextmanager
def write() -> Iterator[Session]:
    """One write transaction, committed on success and rolled back on error.

    On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so concurrent
    writers queue on the busy timeout instead of failing when a read tries to
    upgrade. Keep the block short: do reads and computation before it.

    Nested calls join the open transaction. Inside :func:`held_write` the
    transaction stays open after the block, so the caller can add a row (the
    idempotency record) and commit both together.
    """
    outer = g.get("write_session") if has_app_context() else None
    if outer is not None:
        yield outer
        return
    reader = g.get("db_session")
    if reader is not None:
        reader.commit()  # end the read transaction: one pooled connection per request at a time
    lock = current_app.extensions.get("db_thread_lock")
    if lock is not None:
        lock.acquire()  # SQLite: this process's threads queue here, not in SQLite's sleeping busy handler
        g.write_lock = lock
    s = current_app.extensions["db_writer"]()
    s.begin()
    g.write_session = s
    try:
        yield s
        if not g.get("hold_write"):
            s.commit()
    except BaseException:
        _discard_write()
        raise
    if not g.get("hold_write"):
        _discard_write()


@contextmanager
def held_write() -> Iterator[None]:
    """Keep the first write transaction opened inside this block open until the block ends;
    :func:`finish_held` commits it (with whatever the caller adds), errors roll it back."""
    g.hold_write = True
    try:
        yield
    except BaseException:
        _discard_write()
        raise
    finally:
        g.hold_write = False


def finish_held(add: object | None = None) -> None:
    """Commit the held transaction, adding ``add`` to it; opens one if the block wrote nothing."""
    s = g.get("write_session")
    if s is None:
        with write() as s2:
            if add is not None:
                s2.add(add)
        return
    try:
        if add is not None:
            s.add(add)
        s.commit()
    finally:
        _discard_write()


def _discard_write() -> None:
    s = g.pop("write_session", None)
    if s is not None:
        s.rollback()
        s.close()
    lock = g.pop("write_lock", None)
    if lock is not None:
        lock.release()



def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()
