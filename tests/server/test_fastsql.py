"""quiz_server.fastsql.Prepared gives what Connection.execute gives, on SQLite and PostgreSQL.

The hot path runs its statements on the DB-API cursor with what SQLAlchemy compiled (issue #18);
these tests run the same statements both ways on a real database and compare: the rows with their
types (aware datetimes, JSON, booleans, floats), Python-side column defaults, row counts, and driver
errors raised as SQLAlchemy's own exceptions.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError

from quiz_server.db import normalise_url
from quiz_server.fastsql import Prepared
from quiz_server.models.base import UTCDateTime

meta = MetaData()
T = Table(
    "fastsql_probe",
    meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(40), nullable=False, unique=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("doc", JSON),
    Column("ok", Boolean),
    Column("score", Float),
    Column("kind", String(10), nullable=False, default="plain"),
    Column("made_at", UTCDateTime(), nullable=False, default=lambda: dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
)

INSERT = Prepared(T.insert(), keys=("key", "at", "doc", "ok", "score"))
BY_KEY = select(T).where(T.c.key == bindparam("key"))
COUNTED = select(
    T.c.key.label("name"),
    select(func.count()).select_from(T).where(T.c.ok.is_(True)).scalar_subquery().label("passed"),
).where(T.c.key == bindparam("key"))
MARK = T.update().where(T.c.key == bindparam("key"), T.c.ok.is_(False)).values(ok=True, score=bindparam("score"))


@pytest.fixture
def engine(db_url):
    eng = create_engine(normalise_url(db_url))
    meta.create_all(eng)
    yield eng
    meta.drop_all(eng)
    eng.dispose()


def test_rows_defaults_and_types_are_what_sqlalchemy_gives(engine):
    at = dt.datetime(2026, 12, 3, 8, 30, 15, 250000, tzinfo=dt.UTC)
    with engine.begin() as conn:
        INSERT.execute(conn, {"key": "a", "at": at, "doc": {"x": [1, "dua"], "y": None}, "ok": False, "score": 7.5})
        INSERT.execute(conn, {"key": "b", "at": at, "doc": None, "ok": True, "score": None})
    with engine.connect() as conn:
        for key in ("a", "b"):
            fast = Prepared(BY_KEY).first(conn, {"key": key})
            slow = conn.execute(BY_KEY, {"key": key}).first()
            assert tuple(fast) == tuple(slow)
            assert fast._fields == tuple(slow._fields)
        row = Prepared(BY_KEY).first(conn, {"key": "a"})
        assert row.at == at and row.at.tzinfo is not None
        assert row.doc == {"x": [1, "dua"], "y": None} and row.ok is False and row.score == 7.5
        assert row.kind == "plain" and row.made_at == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        assert Prepared(BY_KEY).first(conn, {"key": "c"}) is None
        counted = Prepared(COUNTED).one(conn, {"key": "a"})
        assert (counted.name, counted.passed) == ("a", 1) == tuple(conn.execute(COUNTED, {"key": "a"}).one())


def test_row_counts_and_driver_errors(engine):
    at = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    mark = Prepared(MARK)
    with engine.begin() as conn:
        INSERT.execute(conn, {"key": "a", "at": at, "doc": None, "ok": False, "score": None})
        assert mark.execute(conn, {"key": "a", "score": 9.0}) == 1
        assert mark.execute(conn, {"key": "a", "score": 1.0}) == 0  # already marked: nothing changes
    with engine.connect() as conn:
        with pytest.raises(IntegrityError):
            INSERT.execute(conn, {"key": "a", "at": at, "doc": None, "ok": True, "score": None})
        conn.rollback()
        assert conn.execute(select(func.count()).select_from(T)).scalar() == 1
        assert conn.execute(select(T.c.score).where(T.c.key == "a")).scalar() == 9.0
