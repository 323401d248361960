"""SQLite: each thread keeps the connection its units read on outside a transaction
(DbHandles.read_connection, issue #18): a unit after it sees every committed write, inherits no
transaction, and the engine's disposal closes the kept connections."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, text

from quiz_server import db
from quiz_server.models import AuditEvent
from quiz_server.services import audit
from quiz_server.uow import UnitOfWork

_COUNT = select(func.count()).select_from(AuditEvent.__table__).where(AuditEvent.action == "kept.test")


def _count(conn) -> int:
    return conn.execute(_COUNT).scalar_one()


def test_one_thread_reuses_its_connection_and_sees_every_commit(app) -> None:
    handles = db.handles(app)
    with UnitOfWork(handles) as first:
        kept = first.conn
        assert _count(kept) == 0
    for n in range(1, 4):
        with UnitOfWork(handles) as writer:  # a write in a unit of its own, committed
            audit.record(writer, "system", "kept.test", target=str(n))
            writer.commit()
        with UnitOfWork(handles) as reader:
            assert reader.conn is kept  # no pool checkout per unit
            assert not reader.conn.in_transaction()  # the earlier unit's read transaction ended with it
            assert _count(reader.conn) == n  # so this one sees every commit


def test_a_transaction_begun_on_the_kept_connection_ends_with_its_unit(app) -> None:
    handles = db.handles(app)
    with UnitOfWork(handles) as uow:
        conn = uow.conn
        conn.execute(text("CREATE TEMP TABLE scratch (x INTEGER)"))
        conn.commit()
        conn.begin()
        conn.execute(text("INSERT INTO scratch VALUES (1)"))
    assert not conn.in_transaction()
    with UnitOfWork(handles) as uow:
        assert uow.conn is conn
        assert uow.conn.execute(text("SELECT count(*) FROM scratch")).scalar_one() == 0  # rolled back


def test_threads_keep_connections_of_their_own(app) -> None:
    handles = db.handles(app)
    seen: dict[str, object] = {}

    def read(name: str) -> None:
        with UnitOfWork(handles) as uow:
            seen[name] = uow.conn
            _count(uow.conn)

    workers = [threading.Thread(target=read, args=(f"t{i}",)) for i in range(3)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    with UnitOfWork(handles) as uow:
        seen["main"] = uow.conn
    assert len({id(c) for c in seen.values()}) == 4


def test_disposing_the_engine_closes_the_kept_connections(app) -> None:
    handles = db.handles(app)
    with UnitOfWork(handles) as uow:
        old = uow.conn
    handles.engine.dispose()
    assert old.closed
    with UnitOfWork(handles) as uow:
        assert uow.conn is not old
        assert _count(uow.conn) == 0
