"""Core statements of the hot path, compiled once per dialect and run on the DB-API cursor (issue #18).

``Connection.execute`` costs 20-30 µs of Python per statement before the database does anything
(execution context, compiled-cache lookup, parameter and result processing through several layers),
and an attempt submit runs about ten statements. :class:`Prepared` keeps what SQLAlchemy compiles
for a statement (its SQL text, parameter order, the bind and result processors of its types, the
Python-side column defaults an INSERT needs) and runs it on the connection's DB-API cursor with
those, inside the SQLAlchemy connection's own transaction::

    _FIND = Prepared(select(T.c.status, T.c.body).where(T.c.key == bindparam("key")))
    row = _FIND.first(conn, {"key": key})  # a named tuple, or None

The results are what ``conn.execute`` gives: the same SQL, the same type conversions (dates, JSON,
booleans), a driver error raised as SQLAlchemy's exception (``IntegrityError`` and
``OperationalError`` included, so callers and error handlers see no difference). Only what the hot
path needs is supported: plain and upsert INSERTs, UPDATEs and SELECTs without expanding (IN-list)
parameters. Listeners of ``before_cursor_execute`` and ``after_cursor_execute`` are called as for
any statement, with no execution context (``None``).
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, Select


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]  # parameter names in the order the SQL takes them
    positional: bool
    binds: tuple[Callable[[Any], Any] | None, ...]  # per name: the type's bind processor
    fixed: dict[str, Any]  # names whose value the statement holds (``values(started=1)``)
    defaults: dict[str, Callable[[], Any]]  # names filled by a Python-side column default
    row: type | None  # SELECT: the named tuple of a result row
    types: tuple[Any, ...]  # SELECT: per column, its type for this dialect


class Prepared:
    """One Core statement; ``keys``: for an INSERT without ``values()``, the columns it is given."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._plans: dict[str, _Plan] = {}
        # Result processors, per dialect: some depend on the type the driver reports for a column
        # (cursor.description), so they are made at the first fetch.
        self._results: dict[str, tuple[Callable[[Any], Any] | None, ...]] = {}
        self._lock = threading.Lock()

    def _plan(self, conn: Connection) -> _Plan:
        dialect = conn.dialect
        plan = self._plans.get(dialect.name)
        if plan is not None:
            return plan
        with self._lock:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.keys)
            positional = bool(compiled.positional)
            names = tuple(compiled.positiontup) if positional else tuple(compiled.binds)
            binds = tuple(compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names)
            fixed = {n: compiled.binds[n].effective_value for n in names if compiled.binds[n].value is not None}
            defaults = {}
            for col in [*compiled.insert_prefetch, *compiled.update_prefetch]:
                default = col.default if col in compiled.insert_prefetch else col.onupdate
                if default.is_callable:
                    defaults[col.key] = lambda fn=default.arg: fn(None)
                else:
                    defaults[col.key] = lambda value=default.arg: value
            row, types = None, ()
            if isinstance(self.statement, Select):
                cols = list(self.statement.selected_columns)
                row = namedtuple("Row", [c.key for c in cols], rename=True)
                types = tuple(c.type.dialect_impl(dialect) for c in cols)
            plan = _Plan(compiled.string, names, positional, binds, fixed, defaults, row, types)
            self._plans[dialect.name] = plan
        return plan

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> tuple[_Plan, Any]:
        plan = self._plan(conn)
        if plan.row is None and not conn.in_transaction():
            conn.begin()  # a write: as conn.execute would (autobegin), so the engine's begin hook runs
        # A read outside a transaction needs no BEGIN of its own: SQLite runs the statement as one
        # (autocommit) and psycopg begins one that the connection's return to the pool rolls back.
        values = []
        for name, proc in zip(plan.names, plan.binds, strict=True):
            if name in params:
                value = params[name]
            elif name in plan.fixed:
                value = plan.fixed[name]
            elif name in plan.defaults:
                value = plan.defaults[name]()
            else:
                value = None
            values.append(proc(value) if proc is not None else value)
        args: Any = values if plan.positional else dict(zip(plan.names, values, strict=True))
        cursor = conn.connection.cursor()
        sql = plan.sql
        before = after = ()
        if conn._has_events or conn.engine._has_events:  # any engine listener (on SQLite its "begin" hook is one)
            dispatch = conn.dispatch
            before, after = dispatch.before_cursor_execute, dispatch.after_cursor_execute
        try:
            if before:  # statement listeners see these statements too (without an execution context)
                for fn in before:
                    sql, args = fn(conn, cursor, sql, args, None, False)
            cursor.execute(sql, args)
            if after:
                for fn in after:
                    fn(conn, cursor, sql, args, None, False)
        except conn.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            raise driver_error(conn, plan.sql, args, exc) from exc
        return plan, cursor

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run an INSERT or UPDATE; the number of rows it changed."""
        _plan, cursor = self._run(conn, params)
        try:
            pipe = conn.info.get(PIPELINE)
            if pipe is not None:  # psycopg's pipeline mode: the count is known once its result is in
                _synced(conn, pipe)
            return cursor.rowcount
        finally:
            cursor.close()

    def send(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """Run an INSERT or UPDATE whose row count the caller does not need. Outside a pipeline it is
        :meth:`execute`; in one (uow.write_pipelined) it is only queued: its result, and its error if
        it fails, come with the pipeline's next wait for results (a later :meth:`execute` or
        :meth:`all`, or the COMMIT at the pipeline's end)."""
        _plan, cursor = self._run(conn, params)
        cursor.close()

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        plan, cursor = self._run(conn, params)
        try:
            raw = cursor.fetchall()
            procs = self._results.get(conn.dialect.name)
            if procs is None:
                described = [d[1] for d in cursor.description]
                procs = tuple(
                    t.result_processor(conn.dialect, code) for t, code in zip(plan.types, described, strict=True)
                )
                self._results[conn.dialect.name] = procs
        finally:
            cursor.close()
        make = plan.row
        assert make is not None, "not a SELECT"
        return [make(*(p(v) if p is not None else v for p, v in zip(procs, r, strict=True))) for r in raw]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        rows = self.all(conn, params)
        return rows[0] if rows else None

    def one(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        rows = self.all(conn, params)
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}")
        return rows[0]


def driver_error(conn: Connection, sql: str, args: Any, exc: Exception) -> DBAPIError:
    """The driver's error ``exc`` as SQLAlchemy's exception (``IntegrityError``, ``OperationalError``
    ...), as ``conn.execute`` would raise it; parameters hidden (they may hold NIPs or names)."""
    error = conn.dialect.loaded_dbapi.Error
    return DBAPIError.instance(sql, args, exc, error, hide_parameters=True, dialect=conn.dialect)


# ``conn.info`` key of the psycopg pipeline a connection's statements are queued in (uow.write_pipelined).
PIPELINE = "netralitas_pipeline"


def pipeline_supported(engine: Any) -> bool:
    """The engine's driver is psycopg 3 and its libpq has pipeline mode (libpq 14 and newer)."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return False
    import psycopg

    return psycopg.Pipeline.is_supported()


def _synced(conn: Connection, pipe: Any) -> None:
    """Wait for the results queued so far; a failed statement's error raised as SQLAlchemy's."""
    try:
        pipe.sync()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise driver_error(conn, "", (), exc) from exc


def run(conn: Connection, sql: str) -> None:
    """Run a statement without parameters (SAVEPOINT, RELEASE SAVEPOINT) on the DB-API cursor, inside
    the connection's transaction, with driver errors raised as SQLAlchemy's."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise driver_error(conn, sql, (), exc) from exc
    finally:
        cursor.close()
