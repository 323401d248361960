"""Request-body validation over pydantic models that also feed the OpenAPI document."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest

from quiz_server.errors import ApiError

# route key "METHOD /path" -> documentation used by meta.openapi()
ROUTES: dict[str, dict[str, Any]] = {}


def document(
    method: str,
    path: str,
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    responses: dict[int, str] | None = None,
    auth: bool = True,
) -> Callable:
    def wrap(view: Callable) -> Callable:
        ROUTES[f"{method} {path}"] = {
            "summary": summary,
            "body": body,
            "responses": responses or {200: "OK"},
            "auth": auth,
        }
        return view

    return wrap


def parse_body(model: type[BaseModel]) -> BaseModel:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Kirim data sebagai JSON (Content-Type: application/json).")
    try:
        data = request.get_json(force=True, silent=False)
    except (BadRequest, RecursionError):  # RecursionError: absurdly deep nesting
        raise ApiError(400, "invalid_json", "Data JSON tidak dapat dibaca.") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(badan permintaan)"
        raise ApiError(
            422,
            "validation_error",
            f"Isian '{field}' tidak valid: {first['msg']}.",
            fields=[{"field": ".".join(str(p) for p in e["loc"]), "type": e["type"]} for e in exc.errors()[:20]],
        ) from None


def with_body(model: type[BaseModel]) -> Callable:
    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            return view(parse_body(model), *args, **kwargs)

        return inner

    return wrap
