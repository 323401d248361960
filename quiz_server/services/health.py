"""Health checks: can the database be read, can it take a write now, is there disk left for it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

MIN_FREE_BYTES = 5 * 1024 * 1024

MESSAGES = {
    "database": "Basis data tidak dapat dihubungi.",
    "write": "Basis data sedang terkunci; penyimpanan tertunda.",
    "disk": "Ruang disk untuk basis data hampir habis.",
}


def _sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for other databases and in-memory ones)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database)


def checks(engine: Engine) -> dict[str, str]:
    out = {"database": "ok"}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            path = _sqlite_path(engine)
            if path is not None:
                out["write"] = _sqlite_can_write(path)
                out["disk"] = "ok" if shutil.disk_usage(path.parent).free >= MIN_FREE_BYTES else "full"
    except SQLAlchemyError:
        out["database"] = "unavailable"
    return out


def _sqlite_can_write(path: Path) -> str:
    """Take and release the write lock with a short wait: 'locked' when another writer holds it."""
    # One second: long enough that a busy server is not reported as broken (a load balancer would
    # eject it), short enough for a health check.
    probe = sqlite3.connect(path, timeout=1.0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return "ok"
    except sqlite3.OperationalError:
        return "locked"
    finally:
        probe.close()


def problems(result: dict[str, str]) -> list[str]:
    return [name for name, state in result.items() if state != "ok"]
