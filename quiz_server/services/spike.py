"""Start-spike guard: when many learners press "mulai" in the same second, answer every one.

Each process lets a bounded number of attempt starts run at once; a start that cannot get a
slot within ``start_queue_seconds`` gets 429 with a jittered Retry-After instead of queueing until
it times out, so the server keeps answering and clients spread their retries.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from quiz_server.config import Settings
from quiz_server.services.errors import ServerBusy

_rng = random.SystemRandom()
_lock = threading.Lock()


def _slots(shared: dict, settings: Settings) -> threading.BoundedSemaphore:
    if "start_slots" not in shared:
        with _lock:
            shared.setdefault("start_slots", threading.BoundedSemaphore(settings.start_concurrency))
    return shared["start_slots"]


@contextmanager
def start_slot(shared: dict, settings: Settings) -> Iterator[None]:
    """``shared`` is the process's store (``uow.handles.shared``), so each app has its own slots."""
    slots = _slots(shared, settings)
    if not slots.acquire(timeout=settings.start_queue_seconds):
        low, high = settings.start_retry_after
        raise ServerBusy(
            "Banyak peserta memulai kuis bersamaan. Percobaan Anda belum dimulai; coba lagi sebentar lagi.",
            retry_after=_rng.randint(low, high),
        )
    try:
        yield
    finally:
        slots.release()
