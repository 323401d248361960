"""Fixed-window rate limits kept in the database, so they hold across processes and machines."""

from __future__ import annotations

import time

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from quiz_server.models import RateCounter
from quiz_server.services.errors import RateLimited
from quiz_server.uow import UnitOfWork


def _upsert(dialect: str):
    return {"postgresql": pg_insert, "sqlite": sqlite_insert}[dialect]


def hit(uow: UnitOfWork, key: str, limit: int, window_seconds: int) -> None:
    """Count one event for ``key``; raise :class:`RateLimited` (with ``retry_after``) once ``limit`` is passed.

    The count must survive the refusal it causes, so the caller runs this in a unit of work of its
    own and commits it whatever happens next (``web.throttle`` does).
    One INSERT ... ON CONFLICT DO UPDATE ... RETURNING, so concurrent first hits of a window
    on several servers count correctly instead of colliding on the primary key.
    """
    now = int(time.time())
    window = now // window_seconds
    s = uow.write()
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
        raise RateLimited("Terlalu banyak percobaan. Coba lagi sebentar lagi.", retry_after=max(retry, 1))
