"""Start-spike guard: when many learners press "mulai" in the same second, answer every one.

Each process lets a bounded number of attempt starts run at once; a start that cannot get a
slot within ``START_QUEUE_SECONDS`` gets 429 with a jittered Retry-After instead of queueing until
it times out, so the server keeps answering and clients spread their retries.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from quiz_server.errors import ApiError

_rng = random.SystemRandom()
_lock = threading.Lock()


def _slots() -> threading.BoundedSemaphore:
    ext = current_app.extensions
    if "start_slots" not in ext:
        with _lock:
            ext.setdefault("start_slots", threading.BoundedSemaphore(current_app.config["START_CONCURRENCY"]))
    return ext["start_slots"]


@contextmanager
def start_slot() -> Iterator[None]:
    slots = _slots()
    if not slots.acquire(timeout=current_app.config["START_QUEUE_SECONDS"]):
        low, high = current_app.config["START_RETRY_AFTER"]
        raise ApiError(
            429,
            "server_busy",
            "Banyak peserta memulai kuis bersamaan. Percobaan Anda belum dimulai; coba lagi sebentar lagi.",
            retry_after=_rng.randint(low, high),
        )
    try:
        yield
    finally:
        slots.release()
