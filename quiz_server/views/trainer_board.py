"""The projector board and how it updates itself: server-sent events with a polling fallback.

The stream reads the room's state from the database twice a second and sends a small
event when something changed (a trainer action, an answer, someone joining); the page
then fetches the re-rendered board. Nothing is kept in process memory, so a board on
one worker sees answers stored by any other worker. A stream ends after a bounded
lifetime and the browser reconnects, so no worker thread is held forever.

Under `netralitas serve` the stream itself is not served here: this view authorises it, and
``quiz_server/asgi.py`` serves it as an asyncio task that holds no thread (issue #18). The generator
below serves it under a plain WSGI server (tests, `flask run`).
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Iterator

from flask import Response, current_app, jsonify, render_template, request

from quiz_server import asgi, db, web
from quiz_server.services import workshop_state
from quiz_server.views.staff import staff_page
from quiz_server.views.trainer import TRAINERS, bp, links, owned_workshop

HEARTBEAT_SECONDS = asgi.HEARTBEAT_SECONDS
_tick_json = asgi.tick_json


@bp.get("/lokakarya/<int:workshop_id>/papan")
@staff_page(*TRAINERS)
def board(workshop_id: int):
    ws = owned_workshop(workshop_id)
    return render_template("trainer/board.html", **_board_context(ws))


@bp.get("/lokakarya/<int:workshop_id>/papan/isi")
@staff_page(*TRAINERS)
def board_fragment(workshop_id: int):
    ws = owned_workshop(workshop_id)
    return render_template("trainer/_board.html", **_board_context(ws))


def _board_context(ws) -> dict:
    return {"ws": ws, "board": workshop_state.board(web.uow(), ws), "join_address": links(ws).join_address}


@bp.get("/lokakarya/<int:workshop_id>/status.json")
@staff_page(*TRAINERS)
def status(workshop_id: int):
    """The polling fallback: the same small state the stream sends."""
    owned_workshop(workshop_id)
    return jsonify(_tick_json(workshop_state.tick(web.uow().session, workshop_id)))


@bp.get("/lokakarya/<int:workshop_id>/aliran")
@staff_page(*TRAINERS)
def stream(workshop_id: int):
    owned_workshop(workshop_id)
    cfg = current_app.config
    lifetime = float(cfg.get("WORKSHOP_STREAM_SECONDS", 30))
    interval = float(cfg.get("WORKSHOP_STREAM_INTERVAL", 0.5))
    secret = current_app.extensions.get("stream_secret")
    check = request.headers.get(asgi.STREAM_HEADER)
    if secret and check and hmac.compare_digest(check, secret):
        # Authorised: the ASGI router (quiz_server/asgi.py) serves the stream as a task.
        ready = jsonify({"workshop_id": workshop_id, "lifetime": lifetime, "interval": interval})
        ready.headers[asgi.READY_HEADER.decode()] = "1"
        return ready
    # A plain session factory: the request's unit of work ends (committed, closed) before the body
    # streams, so each read of the stream opens a short session of its own.
    sessions = db.handles(current_app).reader
    resp = Response(_events(sessions, workshop_id, lifetime, interval), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Accel-Buffering"] = "no"  # nginx would otherwise hold events back
    return resp


def _events(sessions, workshop_id: int, lifetime: float, interval: float) -> Iterator[str]:
    yield "retry: 1000\n\n"  # reconnect quickly after the stream's lifetime ends
    deadline = time.monotonic() + lifetime
    last = None
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        with sessions() as s:
            tick = workshop_state.tick(s, workshop_id)
        if tick is None:
            return
        if tick != last:
            last, quiet_since = tick, time.monotonic()
            yield f"data: {json.dumps(_tick_json(tick))}\n\n"
        elif time.monotonic() - quiet_since > HEARTBEAT_SECONDS:
            quiet_since = time.monotonic()
            yield ": tetap tersambung\n\n"  # keeps proxies from closing an idle stream
        time.sleep(interval)  # pacing the database reads
