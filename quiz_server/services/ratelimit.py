"""Fixed-window rate limits kept in the database, so they hold across processes and machines."""

from __future__ import annotations

import time

from sqlalchemy import delete, select, update

from quiz_server import db
from quiz_server.errors import ApiError
from quiz_server.models import RateCounter


def hit(key: str, limit: int, window_seconds: int) -> None:
    """Count one event for ``key``; raise 429 with Retry-After once ``limit`` is passed."""
    now = int(time.time())
    window = now // window_seconds
    with db.write() as s:
        updated = s.execute(
            update(RateCounter)
            .where(RateCounter.key == key, RateCounter.window == window)
            .values(count=RateCounter.count + 1)
        ).rowcount
        if not updated:
            s.execute(delete(RateCounter).where(RateCounter.key == key, RateCounter.window < window))
            s.add(RateCounter(key=key, window=window, count=1))
            count = 1
        else:
            count = s.scalar(select(RateCounter.count).where(RateCounter.key == key, RateCounter.window == window))
    if count > limit:
        retry = (window + 1) * window_seconds - now
        raise ApiError(
            429, "rate_limited", "Terlalu banyak percobaan. Coba lagi sebentar lagi.", retry_after=max(retry, 1)
        )
