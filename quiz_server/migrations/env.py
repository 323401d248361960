"""Alembic environment; the URL comes from the caller (quiz_server.migrate)."""

from alembic import context
from sqlalchemy import create_engine

from quiz_server.db import normalise_url
from quiz_server.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run() -> None:
    connectable = config.attributes.get("connection") or create_engine(normalise_url(url))
    if hasattr(connectable, "connect"):
        with connectable.connect() as conn:
            _migrate(conn)
    else:
        _migrate(connectable)


def _migrate(conn) -> None:
    context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
