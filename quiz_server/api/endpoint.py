"""One decorator per API route: path, OpenAPI summary, who may call, body schema and idempotency.

    @endpoint("POST", "/quizzes/<quiz_id>/attempts", "Mulai percobaan ...",
              roles=("learner",), body=StartAttempt, optional_body=True, idempotent=True,
              responses={201: "Percobaan", 409: "attempt_limit_reached"})
    def start_attempt(call: Call, quiz_id: str): ...

``secret_reply=False`` tells the idempotency record that this route's replies never hold a secret
(a token), so they are stored unencrypted (api/idempotency.py).

The view receives a :class:`Call` (the request's unit of work, the caller, the parsed body and the
settings) and returns a Flask response value. It never commits: :mod:`quiz_server.web` commits the
unit of work once the view answers below 400 (with the idempotency record, when there is one).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request
from pydantic import BaseModel

from netralitas.errors import Forbidden, Unauthenticated
from quiz_server import web
from quiz_server.api import bp, idempotency
from quiz_server.api.validation import ROUTES, parse_body
from quiz_server.config import Settings
from quiz_server.security import current_principal
from quiz_server.services.credentials import Principal
from quiz_server.uow import UnitOfWork

PUBLIC = ()  # roles=PUBLIC: no sign-in needed


@dataclass
class Call:
    uow: UnitOfWork
    who: Principal | None
    body: Any
    settings: Settings

    @property
    def me(self) -> Principal:
        assert self.who is not None  # routes with roles always have a caller
        return self.who


def authorize(roles: tuple[str, ...]) -> Principal | None:
    who = current_principal()
    if not roles:
        return who
    if who is None:
        raise Unauthenticated("Silakan masuk terlebih dahulu (token tidak ada atau kedaluwarsa).")
    if who.role not in roles:
        raise Forbidden()
    return who


def endpoint(
    method: str,
    rule: str,
    summary: str,
    *,
    roles: tuple[str, ...],
    body: type[BaseModel] | None = None,
    optional_body: bool = False,
    idempotent: bool = False,
    secret_reply: bool = True,
    responses: dict[int, str] | None = None,
    documented: bool = True,
) -> Callable:
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)

    def wrap(view: Callable) -> Callable:
        if documented:
            ROUTES[f"{method} {path}"] = {
                "summary": summary,
                "body": body,
                "responses": responses or {200: "OK"},
                "auth": bool(roles),
            }

        @functools.wraps(view)
        def inner(**kwargs: Any):
            who = authorize(roles)
            parsed = None
            if body is not None and not (optional_body and not request.get_data(cache=True)):
                parsed = parse_body(body)
            elif body is not None:
                parsed = body()
            call = Call(web.uow(), who, parsed, web.settings())
            if idempotent:
                return idempotency.guarded(call, lambda: view(call, **kwargs), secret_reply=secret_reply)
            return view(call, **kwargs)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=inner, methods=[method])
        return inner

    return wrap
