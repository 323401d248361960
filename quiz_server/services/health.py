"""Health checks: can the database be read, can it take a write now, is there disk left for it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from quiz_server import db
from quiz_server.db import normalise_url

MIN_FREE_BYTES = 5 * 1024 * 1024

MESSAGES = {
    "database": "Basis data tidak dapat dihubungi.",
    "write": "Basis data sedang terkunci; penyimpanan tertunda.",
    "disk": "Ruang disk untuk basis data hampir habis.",
}


def _sqlite_path() -> Path | None:
    url = normalise_url(current_app.config["DATABASE_URL"])
    return Path(url.removeprefix("sqlite:///").split("?")[0]) if url.startswith("sqlite:///") else None


def checks() -> dict[str, str]:
    out = {"database": "ok"}
    try:
        with db.engine().connect() as conn:
            conn.execute(text("SELECT 1"))
            path = _sqlite_path()
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
