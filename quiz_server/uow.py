"""The unit of work: one request's (or one CLI command's) database work, committed once by its owner.

Services receive a :class:`UnitOfWork` and never commit: they read through :attr:`UnitOfWork.session`
and call :meth:`UnitOfWork.write` at the point where they start to change data. The owner (the web
layer for a request, a CLI command for itself) decides: ``commit()`` or, by leaving the ``with`` block
without committing, a rollback::

    with UnitOfWork(db_handles) as uow:
        attempts.start(uow, learner_id, quiz_id)
        uow.commit()

Reads and writes use separate sessions so that slow work (password hashing, scoring) happens before
the write transaction opens: on SQLite a write takes the database's single write lock up front
(``BEGIN IMMEDIATE``), after :class:`WriteLock`: this process's threads queue on a thread lock and
the processes on an ``flock`` of a file beside the database, instead of in SQLite's busy handler,
whose sleeping back-off made the slowest writes wait hundreds of milliseconds (issue #18). Keep
the span between :meth:`write` and the commit short.

The hot path (attempt start and submit, issue #18) goes further: it does every read first and
*stages* its writes (:meth:`stage`), Core statements run only when the write transaction opens, at
the commit (or at an earlier :meth:`write`). The lock then covers those statements and the COMMIT
only. A staged statement that finds the data changed since the reads it came from (a twin request
took the same attempt number, submitted the same attempt, or stored the same idempotency key
first) raises :class:`Retry`: the owner rolls back and runs the work once more, which then sees the
twin's result (``web._in_unit_of_work`` does this for requests).

On SQLite, units whose whole write is staged commit together (:class:`GroupCommit`): the threads
of a process that reach their commit while another unit holds the write lock queue up, and the
next of them to lead runs every queued unit's statements, each in a SAVEPOINT of its own, in one
write transaction with one COMMIT, so one fsync and one turn of the lock serve them all. A unit
whose statement fails (a :class:`Retry` included) is rolled back to its savepoint and gets its
error; the others commit. Nothing is acknowledged before the COMMIT that holds it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker

from netralitas.errors import Conflict
from quiz_server import fastsql


class WriteLock:
    """One SQLite writer at a time: threads queue on a thread lock, processes on an exclusive
    ``flock`` of ``path`` (None: this process only, e.g. an in-memory database).

    The kernel queues ``flock`` waiters and releases a lock whose holder died, so a crashed worker
    never leaves the database locked. Each process opens the file itself: a descriptor inherited
    through ``fork`` would share one lock between parent and child."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._thread = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    def _file(self) -> int:
        if self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        assert self._fd is not None
        return self._fd

    def acquire(self) -> None:
        self._thread.acquire()
        if self.path is None:
            return
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._thread.release()
            raise

    def release(self) -> None:
        try:
            if self.path is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()


class Retry(Conflict):
    """Raised by a staged write that lost a race: roll back and run the unit's work again."""

    code = "concurrent_change"
    message = "Data berubah bersamaan dengan permintaan ini. Silakan coba lagi."


@dataclass
class _Ticket:
    """One unit waiting in a :class:`GroupCommit`: its staged statements, then how it ended."""

    uow: UnitOfWork
    statements: list[Callable[[Connection], None]]
    done: bool = False
    error: BaseException | None = None
    future: Future | None = None  # commit_later: resolved when done; no thread waits on the condition


class GroupCommit:
    """Commit the staged writes of concurrent units of one process in one SQLite transaction.

    ``commit(uow)`` returns once ``uow``'s statements are committed, or raises what failed them.
    One thread at a time leads: it takes the write lock, runs the queued units' statements (each in
    a savepoint: one unit's failure leaves the others' work intact), commits once and wakes the
    others; a unit that arrived meanwhile is in the next batch, led by one of the waiting threads.

    ``commit_later(uow)`` queues the same way without waiting and returns a future (the ASGI
    router's event loop awaits it, quiz_server/hot.py). Batches that only such units wait for are
    led by this process's committer thread, which drains the queue and resolves each future once
    its batch is committed (or failed). ``batches`` and ``units`` count what was committed (bench
    and tests read them)."""

    def __init__(self, handles: DbHandles) -> None:
        self.handles = handles
        self._cond = threading.Condition()
        self._queue: list[_Ticket] = []
        self._leading = False
        self._committer: ThreadPoolExecutor | None = None
        self._committer_pid: int | None = None
        self.batches = 0
        self.units = 0

    @property
    def leading(self) -> bool:
        """A batch is being written now."""
        return self._leading

    @property
    def waiting(self) -> int:
        """Units queued for the next batch."""
        return len(self._queue)

    def commit(self, uow: UnitOfWork, statements: list[Callable[[Connection], None]]) -> None:
        ticket = _Ticket(uow, statements)
        with self._cond:
            self._queue.append(ticket)
            while self._leading and not ticket.done:
                self._cond.wait()
            if not ticket.done:
                self._leading = True
                batch, self._queue = self._queue, []
        if not ticket.done:
            try:
                self._run(batch)
            finally:
                self._hand_over()
        if ticket.error is not None:
            raise ticket.error

    def commit_later(self, uow: UnitOfWork, statements: list[Callable[[Connection], None]]) -> Future:
        """Queue ``uow``'s statements for the next batch; the future ends when they are committed
        (result None) or failed (their error)."""
        future: Future = Future()
        future.set_running_or_notify_cancel()  # a queued commit cannot be called off (asyncio would try)
        ticket = _Ticket(uow, statements, future=future)
        with self._cond:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = self._leading or lead
        if lead:
            self._pool().submit(self._drain)
        return ticket.future

    def _pool(self) -> ThreadPoolExecutor:
        if self._committer_pid != os.getpid():  # a pool made before a fork has no thread in the child
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="commit")
            self._committer_pid = os.getpid()
        assert self._committer is not None
        return self._committer

    def _drain(self) -> None:
        """The committer thread leads until the queue is empty."""
        while True:
            with self._cond:
                batch, self._queue = self._queue, []
                if not batch:
                    self._leading = False
                    self._cond.notify_all()
                    return
            self._run(batch)
            with self._cond:
                self._cond.notify_all()  # threads whose units were in the batch return

    def _hand_over(self) -> None:
        """A thread's batch is done: a waiting thread leads next; if only futures wait, the
        committer thread does."""
        with self._cond:
            self._leading = bool(self._queue) and all(t.future is not None for t in self._queue)
            lead = self._leading
            self._cond.notify_all()
        if lead:
            self._pool().submit(self._drain)

    def _run(self, batch: list[_Ticket]) -> None:
        try:
            self._write(batch)
        except BaseException as exc:  # the lock, BEGIN or COMMIT failed: nothing of the batch is stored
            for t in batch:
                t.error = t.error or exc
        finally:
            for t in batch:
                t.done = True
                if t.future is not None:
                    if t.error is None:
                        t.future.set_result(None)
                    else:
                        t.future.set_exception(t.error)

    def _write(self, batch: list[_Ticket]) -> None:
        lock = self.handles.write_lock
        if lock is not None:
            lock.acquire()
        try:
            write_units(self.handles, batch)
            self.batches += 1
            self.units += sum(t.error is None for t in batch)
        finally:
            if lock is not None:
                lock.release()


def write_pipelined(handles: DbHandles, ticket: _Ticket, conn: Connection | None = None) -> bool:
    """PostgreSQL: one unit's staged statements and its COMMIT in one round trip (psycopg's pipeline
    mode), instead of one per statement, BEGIN and COMMIT included (issue #18: a start's write went
    from five round trips to one). True: committed.

    ``conn``: the unit's read connection (autocommit), kept for the write so that a request checks
    out one connection, not two; else one from the pool. The transaction is explicit (``BEGIN`` ...
    ``COMMIT`` sent on that autocommit connection, so psycopg sends no BEGIN of its own, which would
    be a round trip). Statements run as in :func:`write_units`; one that needs a result (a row
    count, a read, the ORM's flush) gets it, psycopg waiting for that result alone.

    A statement that fails on the server (a constraint, a lost race) stops the pipeline before the
    COMMIT: nothing is stored; the transaction is rolled back and False returned, so the caller runs
    the same statements the plain way (:func:`write_units`), where each sees its own error as it
    always did (a :class:`Retry` included). A lost connection is raised: the COMMIT's fate is then
    unknown, as on the plain path, and the client's retry with its Idempotency-Key settles it."""
    conn = conn if conn is not None else handles.read_engine.connect()
    dbapi = conn.connection.dbapi_connection
    try:
        try:
            with dbapi.pipeline() as pipe:
                conn.info[fastsql.PIPELINE] = pipe
                fastsql.run(conn, "BEGIN")
                ticket.uow._group_conn = conn
                for statement in ticket.statements:
                    statement(conn)
                ticket.uow._end_joined(flush=True)
                fastsql.run(conn, "COMMIT")
        finally:
            conn.info.pop(fastsql.PIPELINE, None)
            ticket.uow._group_conn = None
    except BaseException as exc:
        ticket.uow._end_joined(flush=False)
        if dbapi.closed or dbapi.broken or not isinstance(exc, Exception):
            conn.invalidate()
            if isinstance(exc, conn.dialect.loaded_dbapi.Error):
                raise fastsql.driver_error(conn, "COMMIT", (), exc) from exc
            raise
        dbapi.rollback()  # ROLLBACK: the failed transaction block ends (psycopg sends it only if one is open)
        conn.rollback()  # SQLAlchemy's own state
        conn.close()
        handles.pipeline_fallbacks += 1
        return False
    conn.commit()  # SQLAlchemy's own state (its begin() at the first write): nothing left to send
    conn.close()
    handles.pipelined_commits += 1
    return True


def write_units(handles: DbHandles, batch: list[_Ticket]) -> None:
    """Run the staged statements of ``batch`` in one write transaction on a plain connection (no
    ORM session: on the hot path its bookkeeping cost more than the statements) and commit once.

    Each unit of a batch of several runs in a savepoint, so one unit's failure (its error is kept
    on its ticket) leaves the others' work intact; a batch of one needs none. A statement that
    needs the ORM (a certificate issued by a submit) gets a session joined to this transaction
    (:attr:`UnitOfWork.session`), flushed when its unit ends."""
    conn = handles.write_engine.connect()
    try:
        conn.begin()
        alone = len(batch) == 1  # no savepoint needed: a failure rolls the transaction back
        for t in batch:
            # Plain SAVEPOINT statements: SQLAlchemy's begin_nested() cost more than the unit's own
            # statements (issue #18); nothing else touches this connection's savepoints.
            if not alone:
                fastsql.run(conn, "SAVEPOINT unit")
            t.uow._group_conn = conn  # a statement may read or write through its unit (certification)
            try:
                for statement in t.statements:
                    statement(conn)
                t.uow._end_joined(flush=True)
                if not alone:
                    fastsql.run(conn, "RELEASE SAVEPOINT unit")
            except BaseException as exc:  # this unit only: Retry, a constraint, a bug
                t.uow._end_joined(flush=False)
                if not alone:
                    fastsql.run(conn, "ROLLBACK TO SAVEPOINT unit")
                    fastsql.run(conn, "RELEASE SAVEPOINT unit")
                t.error = exc
            finally:
                t.uow._group_conn = None
        if alone and batch[0].error is not None:
            conn.rollback()
        else:
            conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


@dataclass
class DbHandles:
    """What one app (or CLI process) shares between its units of work."""

    engine: Engine
    reader: sessionmaker
    writer: sessionmaker
    write_lock: WriteLock | None  # SQLite only: one writer at a time, across processes
    shared: dict[str, Any] = field(default_factory=dict)  # per-process caches (content snapshot)
    group: GroupCommit | None = None  # SQLite: staged-only units commit together

    def __post_init__(self) -> None:
        if self.write_lock is not None and self.group is None:
            self.group = GroupCommit(self)
        self.write_engine = self.engine.execution_options(write=True)  # BEGIN IMMEDIATE on SQLite
        # SQLite: each thread keeps the connection it reads on outside a transaction (the hot path's
        # Core reads), instead of a pool checkout and return per request (issue #18: about a tenth of
        # a start's Python time). It holds no transaction between units: pysqlite runs each such
        # read as a statement of its own, and a unit that began one ends it (give_back).
        self._kept = threading.local()
        self._kept_all: list[tuple[int, Connection]] = []  # (process id, connection), closed at dispose
        self._kept_lock = threading.Lock()
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "engine_disposed", self._forget_kept)
        # PostgreSQL: those reads in autocommit, each statement its own transaction, as it is under
        # READ COMMITTED inside one anyway: no BEGIN before the first read, no ROLLBACK when the
        # connection goes back to the pool (two round trips per request, issue #18). Writes never run
        # on it: they are staged and run on the write transaction's connection.
        self.read_engine = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        # PostgreSQL with psycopg: staged writes go in one round trip (write_pipelined).
        self.pipelined = self.group is None and fastsql.pipeline_supported(self.engine)
        self.pipelined_commits = self.pipeline_fallbacks = 0  # the tests read them

    def read_connection(self) -> Connection:
        """A connection for reads outside a transaction: on SQLite this thread's kept one, on
        PostgreSQL one from the pool (each thread keeping one would hold the pool's connections)."""
        if self.engine.dialect.name != "sqlite":
            return self.read_engine.connect()
        conn = getattr(self._kept, "conn", None)
        pid = os.getpid()
        if conn is None or self._kept.pid != pid or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            self._kept.conn, self._kept.pid = conn, pid
            with self._kept_lock:
                self._kept_all.append((pid, conn))
        return conn

    def give_back(self, conn: Connection) -> None:
        """The end of a unit's reads on ``conn`` (from :meth:`read_connection`)."""
        if conn is getattr(self._kept, "conn", None):
            if conn.in_transaction():
                conn.rollback()  # as the pool's return would
        else:
            conn.close()  # rolls back what it read and returns it to the pool

    def _forget_kept(self, _engine: Engine) -> None:
        # The pool is disposed (a test's end, the server's stop) or recreated after a fork (gunicorn's
        # post_fork): close this process's kept connections; a parent's are only forgotten, never
        # closed from the child (SQLite connections must not cross a fork).
        with self._kept_lock:
            kept, self._kept_all = self._kept_all, []
        self._kept = threading.local()
        pid = os.getpid()
        for owner, conn in kept:
            if owner == pid and not conn.closed:
                conn.close()


class UnitOfWork:
    def __init__(self, handles: DbHandles, *, origin_ip: str | None = None) -> None:
        self.handles = handles
        self.origin_ip = origin_ip  # recorded with audit events; set by the web layer
        self.memo: dict[str, Any] = {}  # per-unit caches (the content snapshot seen by this request)
        self._reader: Session | None = None
        self._read_conn: Connection | None = None  # reads without a session (the hot path's Core statements)
        self._writer: Session | None = None
        self._group_conn: Connection | None = None  # set while write_units runs this unit's statements
        self._joined: Session | None = None  # the ORM session over _group_conn, when a statement asked for one
        self._locked = False
        self._staged: list[Callable[[Connection], None]] = []

    # -- sessions ---------------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        """The session to read with: the write session once writing has begun."""
        if self._writer is not None:
            return self._writer
        if self._group_conn is not None:  # a staged statement running in a group's transaction
            if self._joined is None:
                self._joined = Session(
                    self._group_conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
                )
            return self._joined
        if self._reader is None:
            # Reads that began on a plain connection end there (its connection goes back to the pool:
            # one pooled connection per unit at a time); the session reads in a transaction of its own.
            self._close_read_conn()
            self._reader = self.handles.reader()
        return self._reader

    @property
    def conn(self) -> Connection:
        """The connection for Core statements (the hot path, issue #18): the session's when one is
        open, else a plain pooled connection without one (:attr:`session` closes it when asked)."""
        if self._writer is not None:
            return self._writer.connection()
        if self._group_conn is not None:
            return self._group_conn
        if self._reader is not None:
            return self._reader.connection()
        if self._read_conn is None:
            self._read_conn = self.handles.read_connection()
        return self._read_conn

    def _end_joined(self, *, flush: bool) -> None:
        joined, self._joined = self._joined, None
        if joined is not None:
            if flush:
                joined.commit()  # flushes, then releases its savepoint: the rows stay in the transaction
            else:
                joined.close()  # rolls its savepoint back

    def end_reads(self) -> None:
        """End the read transaction and give its connection back to the pool, before a wait (the
        start-spike guard): a queue of waiting requests must not hold the pool's connections."""
        self._end_read()

    def _end_read(self) -> None:
        """End the read transaction: its connection goes back to the pool before the write takes one."""
        if self._reader is not None:
            self._reader.commit()
        self._close_read_conn()

    def _close_read_conn(self) -> None:
        conn, self._read_conn = self._read_conn, None
        if conn is not None:
            self.handles.give_back(conn)

    @property
    def dialect(self) -> str:
        return self.handles.engine.dialect.name

    @property
    def writing(self) -> bool:
        return self._writer is not None

    def stage(self, statement: Callable[[Connection], None]) -> None:
        """Run ``statement(connection)`` in the write transaction: when it opens (at the commit or
        the next :meth:`write`), or now if it is open. It may raise :class:`Retry`."""
        if self._writer is not None:
            statement(self._writer.connection())
        elif self._group_conn is not None:  # staged from inside a staged statement (a certificate's audit row)
            statement(self._group_conn)
        else:
            self._staged.append(statement)

    def write(self) -> Session:
        """Begin the write transaction (once) and return its session; staged statements run first."""
        if self._writer is not None:
            return self._writer
        if self._group_conn is not None:  # inside a staged statement: the group's transaction is open
            return self.session
        self._end_read()
        lock = self.handles.write_lock
        if lock is not None:
            lock.acquire()
            self._locked = True
        try:
            s = self.handles.writer()
            s.begin()
        except BaseException:
            self._release()
            raise
        self._writer = s
        staged, self._staged = self._staged, []
        for statement in staged:
            statement(s.connection())
        return s

    # -- ending -----------------------------------------------------------------------------------

    def commit(self) -> None:
        """Commit what was written (if anything); the unit can go on reading and writing afterwards."""
        if self._staged and self._writer is None:
            # Only staged statements: written on a plain connection, with the other units committing
            # now where there is a group (SQLite), else alone.
            staged, self._staged = self._staged, []
            if self.handles.pipelined:
                # The unit's autocommit read connection (if any) carries its write: one checkout per unit.
                kept, self._read_conn = self._read_conn, None
                self._end_read()
                if write_pipelined(self.handles, _Ticket(self, staged), kept):
                    if self._reader is not None:
                        self._reader.expire_all()
                    return
            self._end_read()
            if self.handles.group is not None:
                self.handles.group.commit(self, staged)
            else:
                ticket = _Ticket(self, staged)
                write_units(self.handles, [ticket])
                if ticket.error is not None:
                    raise ticket.error
            if self._reader is not None:
                self._reader.expire_all()
            return
        s = self._writer
        if s is None:
            return
        try:
            s.commit()
        finally:
            self._end_write()
        if self._reader is not None:
            self._reader.expire_all()  # rows read before the write may have changed: read them afresh

    def commit_later(self) -> Future | None:
        """For a unit whose whole write is staged, on SQLite (a :class:`GroupCommit`): queue it for
        the next batch and return the future that ends with its commit, instead of waiting here
        (the ASGI router's event loop awaits it). Any other unit commits now and returns None.
        Nothing may use the unit until the future has ended."""
        if not (self._staged and self._writer is None and self.handles.group is not None):
            self.commit()
            return None
        staged, self._staged = self._staged, []
        self._end_read()
        return self.handles.group.commit_later(self, staged)

    def rollback(self) -> None:
        self._staged.clear()
        if self._writer is not None:
            try:
                self._writer.rollback()
            finally:
                self._end_write()
        if self._reader is not None:
            self._reader.rollback()
        if self._read_conn is not None:
            self._read_conn.rollback()  # kept: the unit may read on

    def close(self) -> None:
        self.rollback()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._close_read_conn()

    def _end_write(self) -> None:
        s, self._writer = self._writer, None
        if s is not None:
            s.close()
        self._release()

    def _release(self) -> None:
        if self._locked:
            self._locked = False
            self.handles.write_lock.release()

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()  # anything not committed is rolled back
