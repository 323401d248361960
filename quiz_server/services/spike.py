"""Start-spike guard: when many learners press "mulai" in the same second, answer every one.

Each process lets a bounded number of attempt starts run at once; a start that cannot get a
slot within ``start_queue_seconds`` gets 429 with a jittered Retry-After instead of queueing until
it times out, so the server keeps answering and clients spread their retries.
"""

from __future__ import annotations

import asyncio
import random
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from quiz_server.config import Settings
from quiz_server.services.errors import ServerBusy

_rng = random.SystemRandom()
_lock = threading.Lock()


def _slots(shared: dict, settings: Settings) -> threading.BoundedSemaphore:
    if "start_slots" not in shared:
        with _lock:
            shared.setdefault("start_slots", threading.BoundedSemaphore(settings.start_concurrency))
    return shared["start_slots"]


def _busy(settings: Settings) -> ServerBusy:
    low, high = settings.start_retry_after
    return ServerBusy(
        "Banyak peserta memulai kuis bersamaan. Percobaan Anda belum dimulai; coba lagi sebentar lagi.",
        retry_after=_rng.randint(low, high),
    )


@contextmanager
def start_slot(shared: dict, settings: Settings, before_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """``shared`` is the process's store (``uow.handles.shared``), so each app has its own slots.
    ``before_wait``: called only when no slot is free, before waiting for one (the hot path gives its
    database connection back then: a queue of waiting starts must not hold the pool's connections,
    while a start that finds a slot goes on with the connection it read the token with)."""
    slots = _slots(shared, settings)
    if not slots.acquire(blocking=False):
        if before_wait is not None:
            before_wait()
        if not slots.acquire(timeout=settings.start_queue_seconds):
            raise _busy(settings)
    try:
        yield
    finally:
        slots.release()


@asynccontextmanager
async def start_slot_async(shared: dict, settings: Settings) -> AsyncIterator[None]:
    """The same guard for starts answered on an event loop (quiz_server/hot.py ``handle_async``):
    the event loop's own slots (an asyncio semaphore; waiting blocks no thread), held until the
    start is committed, since on the loop the queue forms at the commit, not at the start's reads."""
    loop = asyncio.get_running_loop()
    by_loop = shared.setdefault("start_slots_async", weakref.WeakKeyDictionary())
    slots = by_loop.get(loop)
    if slots is None:
        slots = by_loop[loop] = asyncio.Semaphore(settings.start_concurrency)
    try:
        async with asyncio.timeout(settings.start_queue_seconds):
            await slots.acquire()
    except TimeoutError:
        raise _busy(settings) from None
    try:
        yield
    finally:
        slots.release()
