"""Rate limits kept in the database, so they hold across processes and machines.

Each key is a bucket of the generic cell rate algorithm (GCRA, the algorithm behind ATM traffic
shaping and most modern rate limiters): ``limit`` events may come at once, and the budget refills
smoothly at ``limit / window_seconds`` per second. Unlike a fixed window there is no boundary at
which the whole budget comes back: ten failed logins just before a minute turns do not buy ten more
just after it. One row per key holds the bucket's *theoretical arrival time* (``tat``), the moment
the bucket would be empty again; a row whose ``tat`` has passed is the same as no row, so
``purge_expired`` may delete it at any time.
"""

from __future__ import annotations

import math
import time

from sqlalchemy import case, delete, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from quiz_server.models import RateBucket
from quiz_server.services.errors import RateLimited
from quiz_server.uow import UnitOfWork


def _upsert(dialect: str):
    return {"postgresql": pg_insert, "sqlite": sqlite_insert}[dialect]


def hit(uow: UnitOfWork, key: str, limit: int, window_seconds: int, now: float | None = None) -> None:
    """Count one event for ``key``; raise :class:`RateLimited` (with ``retry_after``) once the budget of
    ``limit`` events per ``window_seconds`` is spent.

    A refused event costs nothing (the bucket is left as it was), so a client that honours
    ``Retry-After`` gets through exactly when the budget allows. The caller commits the write in a
    unit of work of its own whatever happens next (``web.throttle`` does), so a request that fails
    later still counts. One INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING: concurrent hits
    on several servers serialise on the row instead of colliding on the primary key.
    """
    now = time.time() if now is None else now
    interval = window_seconds / limit  # the budget refills one event per interval
    s = uow.write()
    table = RateBucket.__table__
    # max(tat, now) in SQL both databases understand (SQLite's max() is not PostgreSQL's greatest()).
    start = case((table.c.tat > now, table.c.tat), else_=literal(now))
    upsert = _upsert(s.get_bind().dialect.name)(table).values(key=key, tat=now + interval)
    accepted = s.execute(
        upsert.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"tat": start + interval},
            where=start + interval - now <= window_seconds,
        ).returning(table.c.tat)
    ).first()
    if accepted is None:
        tat = s.scalar(select(table.c.tat).where(table.c.key == key))
        retry = tat + interval - window_seconds - now  # the first moment the WHERE above holds again
        raise RateLimited("Terlalu banyak percobaan. Coba lagi sebentar lagi.", retry_after=max(math.ceil(retry), 1))


def purge_expired(uow: UnitOfWork, now: float | None = None) -> int:
    """Delete buckets that have refilled completely (they hold nothing a missing row does not)."""
    now = time.time() if now is None else now
    return uow.write().execute(delete(RateBucket).where(RateBucket.tat < now)).rowcount or 0
