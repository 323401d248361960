"""Fixed-window rate limits kept in the database, so they hold across processes and machines."""

from __future__ import annotations

import time

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from quiz_server import db
from quiz_server.errors import ApiError
from quiz_server.models import RateCounter


def _upsert(dialect: str):
    return {"postgresql": pg_insert, "sqlite": sqlite_insert}[dialect]


def hit(key: str, limit: int, window_seconds: int) -> None:
    """Count one event for ``key``; raise 429 with Retry-After once ``limit`` is passed.

    One INSERT ... ON CONFLICT DO UPDATE ... RETURNING, so concurrent first hits of a window
    on several servers count correctly instead of colliding on the primary key.
    """
    now = int(time.time())
    window = now // window_seconds
    with db.write() as s:
        insert = _upsert(s.get_bind().dialect.name)(RateCounter).values(key=key, window=window, count=1)
        count = s.execute(
            insert.on_conflict_do_update(
                index_elements=[RateCounter.key, RateCounter.window], set_={"count": RateCounter.count + 1}
            ).returning(RateCounter.count)
        ).scalar_one()
        if count == 1:  # first hit of a new window: forget this key's older windows
            s.execute(delete(RateCounter).where(RateCounter.key == key, RateCounter.window < window))
    if count > limit:
        retry = (window + 1) * window_seconds - now
        raise ApiError(429, "rate_limited", "Terlalu banyak percobaan. Coba lagi sebentar lagi.", retry_after=max(retry, 1))
