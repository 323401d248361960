"""How `netralitas serve` runs the Flask app: gunicorn's ASGI worker, with live-board streams as tasks.

Every request but one goes to the Flask app through a2wsgi's WSGI bridge, which runs it on a small
thread pool (``threads``). The exception is the projector board's event stream
(``GET /pelatih/lokakarya/<id>/aliran``): held open for its whole lifetime, it would take a pool
thread each, and a few boards would stall every other request (issue #18 measured eight boards
delaying healthy requests by 28 s). Here a stream is an asyncio task instead:

1. The request first goes to Flask like any other, with a header only this process knows
   (``STREAM_HEADER``). The view checks the session or token and the workshop's owner exactly as for
   any page, then, seeing the header, answers ``200`` with the stream's lifetime and interval instead
   of the stream itself. Any other answer (login redirect, 403, 404) goes back to the client as it is.
2. The stream is then served here. One :class:`Room` per workshop and process reads the board's small
   state (``workshop_state.tick``) once per interval, on a thread of its own, however many boards
   show that workshop; each stream sends an event when the state changes, a heartbeat comment when
   quiet, and ends at its lifetime (the page reconnects) or when the client goes away.

Nothing is kept between requests but the rooms, and a room ends with its last stream, so a board on
one worker still sees answers stored through any other worker (they meet in the database).
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi import WSGIMiddleware
from flask import Flask
from gunicorn.workers.gasgi import ASGIWorker

from quiz_server import db, hot
from quiz_server.services import workshop_state

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

STREAM_PATH = re.compile(r"^/pelatih/lokakarya/(\d+)/aliran$")
STREAM_HEADER = "x-netralitas-stream-check"
READY_HEADER = b"x-netralitas-stream-ready"
HEARTBEAT_SECONDS = 10.0


def tick_json(tick: tuple) -> dict[str, int]:
    version, answered, participants, _closes = tick
    return {"version": version, "answered": answered, "participants": participants}


class Room:
    """One workshop's board state in this process, read once per interval while anyone watches."""

    def __init__(self, hub: Hub, workshop_id: int, interval: float) -> None:
        self.hub, self.workshop_id, self.interval = hub, workshop_id, interval
        self.tick: tuple | None = None
        self.ended = False  # the workshop is gone
        self.watchers = 0
        self.changed = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.watchers > 0:
                tick = await loop.run_in_executor(self.hub.readers, self.hub.read, self.workshop_id)
                if tick is None:
                    self.ended = True
                if tick != self.tick or self.ended:
                    self.tick = tick
                    self.changed.set()
                    self.changed = asyncio.Event()
                if self.ended:
                    return
                await asyncio.sleep(self.interval)
        finally:
            self.hub.rooms.pop(self.workshop_id, None)


class Hub:
    """The rooms of this process and the thread that reads their state."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.rooms: dict[int, Room] = {}
        # Board reads are tiny and paced; one thread keeps them off the request pool.
        self.readers = ThreadPoolExecutor(1, thread_name_prefix="papan")

    def read(self, workshop_id: int) -> tuple | None:
        with db.handles(self.app).reader() as s:
            return workshop_state.tick(s, workshop_id)

    def join(self, workshop_id: int, interval: float) -> Room:
        room = self.rooms.get(workshop_id)
        if room is None or room.task.done():
            room = self.rooms[workshop_id] = Room(self, workshop_id, interval)
        room.watchers += 1
        return room


class Worker(ASGIWorker):
    """gunicorn's ASGI worker, listening with gunicorn's ``backlog`` (2048 by default).

    Its ``create_server`` passes no backlog, so asyncio (and uvloop) called ``listen(100)`` on the
    shared socket again: with more than about a hundred learners connecting in the same instant
    (an exam's "mulai"), the rest waited for the kernel to retry their connection, a second or
    more (the bug uvicorn fixed in its worker, encode/uvicorn#544)."""

    def _setup_event_loop(self) -> None:
        super()._setup_event_loop()
        loop, backlog = self.loop, self.cfg.backlog
        create = loop.create_server

        async def create_server(*args: Any, **kwargs: Any) -> asyncio.AbstractServer:
            kwargs.setdefault("backlog", backlog)
            return await create(*args, **kwargs)

        loop.create_server = create_server


class Router:
    """The ASGI application gunicorn's ``asgi`` worker runs."""

    def __init__(self, app: Flask, threads: int) -> None:
        self.app = app
        self.secret = secrets.token_hex(16)
        app.extensions["stream_secret"] = self.secret  # the views compare it (views/trainer_board.py)
        self.wsgi = WSGIMiddleware(app, workers=threads)
        self.hot: hot.HotPath = app.extensions["hot_path"]
        # SQLite: the hot path runs on the event loop itself (HotPath.handle_async): its reads are
        # local and short, and its one wait, the commit, is the process's group commit, awaited.
        # No thread per request: no hand-off to a pool and back, no threads contending for the GIL
        # with the loop (issue #18, docs/benchmarks.md).
        self.inline = db.handles(app).group is not None
        # PostgreSQL: every read is a round trip to the server, so the hot path has a pool of its
        # own (its requests never queue behind slow pages on the bridge's pool), twice the
        # bridge's threads: a unit spends part of its time waiting for the database.
        self.hot_pool = None if self.inline else ThreadPoolExecutor(2 * threads, thread_name_prefix="cepat")
        self.hot.warm()  # in this worker, before its first request
        # Everything loaded so far (the app, its modules, the content snapshot) lives as long as the
        # worker: move it out of the collector's reach. Otherwise every full collection walks that
        # whole heap on the event loop, and those pauses were most of the hot path's p99 (issue #18:
        # submit p99 123-180 ms without, 54-74 ms with, docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        self._hub: Hub | None = None

    @property
    def hub(self) -> Hub:
        if self._hub is None:  # made in the worker's event loop, after the fork
            self._hub = Hub(self.app)
        return self._hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] == "http" and scope["method"] == "GET" and STREAM_PATH.match(scope["path"]):
            await self._stream(scope, receive, send)
            return
        if scope["type"] == "http" and (found := hot.route(scope["method"], scope["path"])):
            await self._hot(found, scope, receive, send)
            return
        await self.wsgi(_without_check(scope), receive, send)

    async def _hot(self, found: tuple[str, str], scope: Scope, receive: Receive, send: Send) -> None:
        """Attempt start and submit, natively: no WSGI bridge, no Flask (quiz_server/hot.py)."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = self.hot.max_body + 1  # one byte past the limit is enough to refuse
        chunks, size, more = [], 0, True
        while more and size < limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        remote = scope["client"][0] if scope.get("client") else None
        req = hot.Request(
            scope["method"],
            scope["path"],
            headers,
            b"".join(chunks),
            self.hot.client(remote, headers),
        )
        if self.inline:
            reply = await self.hot.handle_async(*found, req)
        else:
            reply = await asyncio.get_running_loop().run_in_executor(self.hot_pool, self.hot.handle, *found, req)
        out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
        out.append((b"content-length", str(len(reply.body)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": out})
        await send({"type": "http.response.body", "body": reply.body})

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        check = _without_check(scope)
        check["headers"] = [*check["headers"], (STREAM_HEADER.encode(), self.secret.encode())]
        answer: list[dict[str, Any]] = []

        async def keep(message: dict[str, Any]) -> None:
            answer.append(message)

        await self.wsgi(check, _no_body, keep)
        start = answer[0] if answer else None
        if not start or start.get("status") != 200 or (READY_HEADER, b"1") not in start.get("headers", []):
            for message in answer:  # the login redirect, 403 or 404 the view gave
                await send(message)
            return
        body = b"".join(m.get("body", b"") for m in answer[1:])
        plan = json.loads(body)
        await self._events(int(plan["workshop_id"]), float(plan["lifetime"]), float(plan["interval"]), receive, send)

    async def _events(self, workshop_id: int, lifetime: float, interval: float, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                    (b"x-accel-buffering", b"no"),  # nginx would otherwise hold events back
                ],
            }
        )
        gone = asyncio.get_running_loop().create_task(_disconnected(receive))
        room = self.hub.join(workshop_id, interval)
        try:
            await send({"type": "http.response.body", "body": b"retry: 1000\n\n", "more_body": True})
            deadline = time.monotonic() + lifetime
            last, quiet_since = None, time.monotonic()
            while not gone.done():
                now = time.monotonic()
                if now >= deadline:
                    break
                if room.tick is not None and room.tick != last:
                    last, quiet_since = room.tick, now
                    event = f"data: {json.dumps(tick_json(last))}\n\n".encode()
                    await send({"type": "http.response.body", "body": event, "more_body": True})
                elif room.ended:
                    break
                elif now - quiet_since > HEARTBEAT_SECONDS:
                    quiet_since = now
                    await send({"type": "http.response.body", "body": b": tetap tersambung\n\n", "more_body": True})
                wait = min(deadline - now, HEARTBEAT_SECONDS - (now - quiet_since) + 0.01)
                changed = asyncio.ensure_future(room.changed.wait())
                await asyncio.wait({changed, gone}, timeout=max(wait, 0.01), return_when=asyncio.FIRST_COMPLETED)
                changed.cancel()
            if not gone.done():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client went away mid-send
            pass
        finally:
            gone.cancel()
            room.watchers -= 1


def _without_check(scope: Scope) -> Scope:
    """The scope without any check header a client sent (only this process may set it)."""
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != STREAM_HEADER.encode()]
    return {**scope, "headers": headers}


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
