"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from quiz_server import migrate
from quiz_server.db import make_engine
from quiz_server.models import Base

URLS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.mark.parametrize("kind", URLS)
def test_migrations_match_the_models(kind, tmp_path):
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'schema.sqlite'}"
    else:
        url = os.environ["TEST_DATABASE_URL"]
        schema = f"schema_{os.getpid()}"
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
        admin.dispose()
        url = f"{url}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
        if kind == "postgresql":
            admin = make_engine(os.environ["TEST_DATABASE_URL"])
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    assert diff == []


@pytest.mark.parametrize("kind", URLS)
def test_a_database_fault_does_not_carry_the_statement_parameters(kind, tmp_path):
    """Unhandled errors are logged with their message: it must not hold a NIP, a name or a hash."""
    url = f"sqlite:///{tmp_path / 'faults.sqlite'}" if kind == "sqlite" else os.environ["TEST_DATABASE_URL"]
    engine = make_engine(url)
    secret = "199001012015031001-Siti-Aminah-$argon2id$"
    try:
        with engine.connect() as conn, pytest.raises(Exception) as exc:
            conn.execute(text("SELECT CAST(:v AS INTEGER) FROM no_such_table"), {"v": secret})
    finally:
        engine.dispose()
    assert secret not in str(exc.value)
    assert "parameters hidden" in str(exc.value)
