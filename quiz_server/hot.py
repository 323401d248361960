"""The hot path: attempt start and graded submit served without Flask's request machinery (issue #18).

At an exam hour every learner starts and submits within minutes, and these two routes are most of
the server's work. They go through Flask like any other route for their documentation and for the
OpenAPI document (api/attempts.py), but a request for them never reaches Flask's routing, request
context, session or response objects: :class:`HotPath` answers it from the method, path, headers,
body and client address, with the same services, the same unit of work and the same promises:

- the caller's bearer token checked (``credentials.principal_for``, its one-second cache included),
  learners only;
- the body parsed by the same pydantic models and the same rules (api/validation.parse_json);
- the Idempotency-Key honoured through the same records (api/idempotency.py);
- the start-spike guard (services/spike.py);
- the unit of work committed once when the answer is below 400, rolled back otherwise, and run
  again when a staged write lost a race (:class:`~quiz_server.uow.Retry`), as web._in_unit_of_work
  does for Flask views;
- errors answered with the same codes, messages and headers (errors.json_error), security headers
  as security._security_headers sets them on API answers.

It is mounted twice, on the same :class:`HotPath`: as WSGI middleware inside the Flask app
(:class:`HotWsgi`, so every server that runs the Flask app, the tests' included, serves these routes
here, after the trusted-proxy fix has set the client address), and natively in the ASGI router of
``netralitas serve`` (quiz_server/asgi.py), which skips the WSGI bridge as well.

The work itself is one generator (:meth:`HotPath._work`) that yields the unit of work to commit;
:meth:`HotPath.handle` commits it on the calling thread, :meth:`HotPath.handle_async` (the router,
on SQLite) queues it to the group commit and awaits it on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Generator, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Flask
from pydantic import BaseModel

from netralitas.errors import Forbidden, PayloadTooLarge, Unauthenticated
from quiz_server import db, errors
from quiz_server.api import idempotency
from quiz_server.api.validation import parse_json
from quiz_server.schemas import StartAttempt, SubmitAttempt
from quiz_server.services import attempts, credentials, review, spike
from quiz_server.services.errors import ServerBusy
from quiz_server.uow import Retry, UnitOfWork
from quiz_server.web import RETRIES  # the Flask views run again as often

log = logging.getLogger(__name__)

# Flask's routes for the same two views (api/attempts.py): ``<quiz_id>`` and ``<attempt_id>``
# match any run of characters but "/".
START = re.compile(r"^/api/v1/quizzes/([^/]+)/attempts$")
SUBMIT = re.compile(r"^/api/v1/attempts/([^/]+)/submit$")


# What security._security_headers puts on every API answer.
_HEADERS = [
    ("Content-Type", "application/json"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    client: str | None  # the client's address, as the trusted-proxy fix leaves it


@dataclass
class Reply:
    status: int
    body: bytes
    headers: list[tuple[str, str]]


def route(method: str, path: str) -> tuple[str, str] | None:
    """``("start", quiz_id)`` or ``("submit", attempt_id)`` when the hot path serves this request."""
    if method != "POST":
        return None
    if m := SUBMIT.match(path):
        return "submit", m.group(1)
    if m := START.match(path):
        return "start", m.group(1)
    return None


class HotPath:
    """Serves the two routes for one Flask app (its settings, database handles and secret)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.max_body = int(app.config.get("MAX_CONTENT_LENGTH") or 64 * 1024)
        self._proxy: Callable | None = None  # the app's trusted-proxy fix, over a probe (client())

    def warm(self) -> None:
        """Load the content snapshot now (a worker starting), not in the first learner's request."""
        from quiz_server.services import catalog

        try:
            with UnitOfWork(db.handles(self.app)) as uow:
                catalog.snapshot(uow)
        except Exception:  # the first request tries again and answers the error
            log.warning("content snapshot not loaded at start", exc_info=True)

    def trust_proxy(self, make_fix: Callable[[Callable], Callable]) -> None:
        """Read client addresses as ``make_fix`` (create_app's TrustedProxyFix) reads them."""
        self._proxy = make_fix(_remote_addr)

    def client(self, remote: str | None, headers: dict[str, str]) -> str | None:
        """The client's address for a request served outside the WSGI stack (the ASGI router): the
        peer's, or behind a trusted proxy the one its X-Forwarded-For names, exactly as the app's
        proxy fix decides for every other request."""
        if self._proxy is None:
            return remote
        environ = {"REMOTE_ADDR": remote, "wsgi.url_scheme": "http", "HTTP_HOST": headers.get("host", "")}
        for name in ("x-forwarded-for", "x-forwarded-proto"):
            if name in headers:
                environ["HTTP_" + name.upper().replace("-", "_")] = headers[name]
        return next(iter(self._proxy(environ, None)))

    def _dumps(self, obj: Any) -> bytes:
        # Sorted keys and compact, as Flask's jsonify; UTF-8 rather than ASCII escapes (the same JSON);
        # orjson: the standard library's encoder showed in the profile (issue #18).
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE, default=str)

    def _reply(self, status: int, obj: Any, extra: Iterable[tuple[str, str]] = ()) -> Reply:
        return Reply(status, self._dumps(obj), [*_HEADERS, *extra])

    def handle(self, kind: str, arg: str, req: Request) -> Reply:
        """Answer one request (``kind``, ``arg``: from :func:`route`) on this thread; never raises."""
        work = self._work(kind, arg, req)
        try:
            uow = next(work)
            while True:
                try:
                    uow.commit()
                except Exception as exc:  # the unit's error, for the work to answer (or run again)
                    uow = work.throw(exc)
                else:
                    uow = work.send(None)
        except StopIteration as end:
            return end.value

    async def handle_async(self, kind: str, arg: str, req: Request) -> Reply:
        """Answer one request on an event loop (the ASGI router, SQLite): the reads, scoring and
        staging run here, between other requests; the commit goes to the process's group commit
        (:meth:`UnitOfWork.commit_later`) and is awaited, so no thread waits per request and the
        loop goes on with the next request meanwhile. Never raises but for cancellation."""
        if kind != "start":
            return await self._drive(self._work(kind, arg, req))
        try:
            async with spike.start_slot_async(db.handles(self.app).shared, self.app.extensions["settings"]):
                return await self._drive(self._work(kind, arg, req, guarded=True))
        except ServerBusy as exc:
            return self._error(exc)

    async def _drive(self, work: Generator[UnitOfWork, None, Reply]) -> Reply:
        try:
            uow = next(work)
            while True:
                done = uow.commit_later()
                try:
                    if done is not None:
                        await asyncio.wrap_future(done)
                except asyncio.CancelledError:
                    # The unit is still in its batch: end the work (its rollback) only after that.
                    done.add_done_callback(lambda _f: work.close())
                    raise
                except Exception as exc:
                    uow = work.throw(exc)
                else:
                    uow = work.send(None)
        except StopIteration as end:
            return end.value

    def _work(self, kind: str, arg: str, req: Request, guarded: bool = False) -> Generator[UnitOfWork, None, Reply]:
        """The request's work, run by :meth:`handle` or :meth:`handle_async`: it yields each unit of
        work that is to be committed (the driver commits it and throws back what failed the commit)
        and returns the reply; every failure becomes the one error shape. ``guarded``: a start that
        holds a slot of the start-spike guard already."""
        try:
            if len(req.body) > self.max_body:
                raise PayloadTooLarge("Data yang dikirim terlalu besar.", code="payload_too_large")
            handles = db.handles(self.app)
            for tries_left in range(RETRIES, -1, -1):
                uow = UnitOfWork(handles, origin_ip=req.client)
                try:
                    reply = self._once(uow, kind, arg, req, guarded)
                    if reply.status < 400:
                        yield uow
                    return reply
                except Retry:
                    # A staged write lost a race with a twin request: run once more; it then sees
                    # the twin's result (a replay, "already submitted", the next attempt number).
                    if not tries_left:
                        raise
                finally:
                    uow.close()  # anything not committed is rolled back
            raise AssertionError("unreachable")
        except Exception as exc:
            return self._error(exc)

    def _error(self, exc: Exception) -> Reply:
        status, body, headers = errors.json_error(exc)
        return self._reply(status, body, headers.items())

    def _once(self, uow: UnitOfWork, kind: str, arg: str, req: Request, guarded: bool) -> Reply:
        who = self._learner(uow, req)
        model: type[BaseModel] = SubmitAttempt if kind == "submit" else StartAttempt
        mimetype = req.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind == "start" and not req.body:
            body = StartAttempt()  # the body is optional: no workshop
        else:
            body = parse_json(model, mimetype, req.body)
        settings = self.app.extensions["settings"]

        def produce() -> tuple[int, Any]:
            if kind == "start":
                slot: AbstractContextManager = nullcontext()  # guarded: handle_async holds one of the loop's
                if not guarded:  # no slot free: wait for one without holding a connection
                    slot = spike.start_slot(uow.handles.shared, settings, before_wait=uow.end_reads)
                with slot:
                    return 201, {"attempt": attempts.start(uow, who.id, arg, body.workshop_id)}
            policy = review.course_policy(self.app.config["CONTENT_PATH"])
            return 200, {"result": attempts.submit(uow, who.id, arg, body.answers, settings=settings, policy=policy)}

        key = req.headers.get("idempotency-key")
        if not key:
            status, obj = produce()
            return self._reply(status, obj)
        idempotency.check_key(key)
        secret_key = self.app.config["SECRET_KEY"]
        digest = idempotency.request_digest(secret_key, req.method, req.path, req.body)
        rec = idempotency.find(uow.conn, who.key, key)
        if rec is not None:
            status, data = idempotency.replayed(rec, digest, secret_key)
            return Reply(status, data, [*_HEADERS, ("Idempotent-Replayed", "true")])
        status, obj = produce()
        reply = self._reply(status, obj)
        # The replies of both routes hold no token: the record is stored plain (secret_reply=False).
        idempotency.stage_record(uow, who.key, key, digest, status, reply.body, encrypt=False, secret_key=secret_key)
        return reply

    def _learner(self, uow: UnitOfWork, req: Request) -> credentials.Principal:
        header = req.headers.get("authorization", "")
        who = None
        if header.startswith("Bearer "):
            who = credentials.principal_for(uow.conn, header[7:].strip(), "api")
        if who is None:
            raise Unauthenticated("Silakan masuk terlebih dahulu (token tidak ada atau kedaluwarsa).")
        if who.role != "learner":
            raise Forbidden()
        return who


class HotWsgi:
    """WSGI middleware in front of the Flask app's own ``wsgi_app``: the two routes are answered by
    :class:`HotPath`, everything else goes on to Flask."""

    def __init__(self, wsgi_app: Callable, hot: HotPath) -> None:
        self.wsgi_app, self.hot = wsgi_app, hot

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        found = route(environ.get("REQUEST_METHOD", ""), path)
        if found is None:
            return self.wsgi_app(environ, start_response)
        reply = self.hot.handle(*found, self._request(environ, path))
        start_response(
            f"{reply.status} {_reason(reply.status)}", [*reply.headers, ("Content-Length", str(len(reply.body)))]
        )
        return [reply.body]

    def _request(self, environ: dict[str, Any], path: str) -> Request:
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        stream = environ["wsgi.input"]
        # One byte past the limit is enough to refuse: the rest is never read.
        if length > 0:
            body = stream.read(min(length, self.hot.max_body + 1))
        elif environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream
            body = stream.read(self.hot.max_body + 1)
        else:
            body = b""
        return Request(environ["REQUEST_METHOD"], path, headers, body, environ.get("REMOTE_ADDR"))


def _remote_addr(environ: dict[str, Any], _start_response: Any) -> list[str | None]:
    return [environ.get("REMOTE_ADDR")]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def init_app(app: Flask) -> HotPath:
    """Put the hot path in front of the app's own WSGI callable (inside the trusted-proxy fix)."""
    hot = HotPath(app)
    app.extensions["hot_path"] = hot
    app.wsgi_app = HotWsgi(app.wsgi_app, hot)
    return hot
