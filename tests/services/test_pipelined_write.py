"""PostgreSQL: a unit's staged writes and its COMMIT in one round trip (uow.write_pipelined, issue #18).

Real PostgreSQL (TEST_DATABASE_URL), a schema of the test's own. What must hold: the rows are
stored; a statement that fails on the server leaves nothing of its unit and gets the error it gets
on the plain path (a lost race: Retry); a row count asked for inside the pipeline is the real one; a
connection lost mid-pipeline is the database error the web layer answers with 503, and the pool
goes on with a new connection; the unit writes on the connection it read on."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import bindparam, event, func, select
from sqlalchemy.exc import OperationalError

from quiz_server import create_app, db, fastsql
from quiz_server.api import idempotency
from quiz_server.cli import prepare
from quiz_server.models import AuditEvent, IdempotencyRecord
from quiz_server.services import audit
from quiz_server.uow import Retry, UnitOfWork
from tests.conftest import MINI
from tests.server.conftest import PG_URL, _pg_schema_url

pytestmark = pytest.mark.postgres

_A = AuditEvent.__table__
_RENAME = fastsql.Prepared(_A.update().where(_A.c.action == bindparam("old")).values(action=bindparam("new")))


@pytest.fixture
def handles(tmp_path) -> Iterator[db.DbHandles]:
    if not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    for url in _pg_schema_url():
        app = create_app(
            {
                "INSTANCE_PATH": str(tmp_path / "instance"),
                "DATABASE_URL": url,
                "CONTENT_PATH": str(MINI),
                "SECRET_KEY": "unit-test-secret",
            }
        )
        prepare(app)
        yield db.handles(app)
        db.engine(app).dispose()


def _targets(handles: db.DbHandles, action: str) -> list[str]:
    with UnitOfWork(handles) as uow:
        return sorted(uow.session.scalars(select(AuditEvent.target).where(AuditEvent.action == action)))


def _record(uow: UnitOfWork, key: str) -> None:
    idempotency.stage_record(uow, "learner:1", key, "digest", 201, b"{}", encrypt=False, secret_key="unit-test-secret")


def test_staged_writes_commit_through_the_pipeline(handles):
    assert handles.pipelined
    before = handles.pipelined_commits
    with UnitOfWork(handles) as uow:
        for i in range(3):
            audit.record(uow, "test", "pipelined", f"row-{i}")
        uow.commit()
    assert _targets(handles, "pipelined") == ["row-0", "row-1", "row-2"]
    assert handles.pipelined_commits == before + 1
    assert handles.pipeline_fallbacks == 0


def test_a_lost_race_stores_nothing_of_the_unit_and_is_retry(handles):
    with UnitOfWork(handles) as uow:
        _record(uow, "twin-key")
        uow.commit()
    commits, fallbacks = handles.pipelined_commits, handles.pipeline_fallbacks
    with UnitOfWork(handles) as uow:
        audit.record(uow, "test", "lost_race", "before")
        _record(uow, "twin-key")  # the same (principal, key): the unique index refuses it on the server
        audit.record(uow, "test", "lost_race", "after")
        with pytest.raises(Retry):
            uow.commit()
    assert _targets(handles, "lost_race") == []
    assert handles.pipeline_fallbacks == fallbacks + 1  # run again the plain way, which raised Retry
    assert handles.pipelined_commits == commits
    with UnitOfWork(handles) as uow:  # the connection went back clean: the next unit is pipelined
        audit.record(uow, "test", "after_race", "next")
        uow.commit()
    assert _targets(handles, "after_race") == ["next"]
    assert handles.pipelined_commits == commits + 1
    with UnitOfWork(handles) as uow:
        n = uow.session.scalar(
            select(func.count()).select_from(IdempotencyRecord).where(IdempotencyRecord.key == "twin-key")
        )
    assert n == 1


def test_a_row_count_inside_the_pipeline_is_the_real_one(handles):
    with UnitOfWork(handles) as uow:
        audit.record(uow, "test", "count_me", "one")
        uow.commit()
    counts = []
    with UnitOfWork(handles) as uow:
        uow.stage(lambda conn: counts.append(_RENAME.execute(conn, {"old": "count_me", "new": "counted"})))
        uow.stage(lambda conn: counts.append(_RENAME.execute(conn, {"old": "count_me", "new": "counted"})))
        uow.commit()
    assert counts == [1, 0]
    assert _targets(handles, "counted") == ["one"]


def test_a_lost_connection_is_a_database_error_and_the_pool_recovers(handles):
    admin = psycopg.connect(PG_URL, autocommit=True)
    try:
        with UnitOfWork(handles) as uow:
            audit.record(uow, "test", "cut_off", "lost")

            def cut(conn) -> None:  # the database drops this very connection mid-pipeline
                admin.execute("SELECT pg_terminate_backend(%s)", (conn.connection.dbapi_connection.info.backend_pid,))

            uow.stage(cut)
            with pytest.raises(OperationalError):
                uow.commit()
    finally:
        admin.close()
    assert _targets(handles, "cut_off") == []
    with UnitOfWork(handles) as uow:
        audit.record(uow, "test", "reconnected", "ok")
        uow.commit()
    assert _targets(handles, "reconnected") == ["ok"]


def test_a_unit_reads_and_writes_on_one_connection(handles):
    checkouts = []
    listener = lambda *_args: checkouts.append(1)  # noqa: E731
    event.listen(handles.engine, "checkout", listener)
    try:
        with UnitOfWork(handles) as uow:
            uow.conn.exec_driver_sql("SELECT 1")  # a read, as the hot path's token lookup
            audit.record(uow, "test", "one_connection", "x")
            uow.commit()
    finally:
        event.remove(handles.engine, "checkout", listener)
    assert len(checkouts) == 1
    assert _targets(handles, "one_connection") == ["x"]
