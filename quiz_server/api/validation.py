"""Request-body validation over pydantic models that also feed the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest

from netralitas.errors import BadRequest, InvalidInput, UnsupportedMediaType

# route key "METHOD /path" -> documentation used by meta.openapi(); filled by api.endpoint.endpoint
ROUTES: dict[str, dict[str, Any]] = {}


def parse_body(model: type[BaseModel]) -> BaseModel:
    try:
        raw = request.get_data(cache=True)
    except WerkzeugBadRequest:
        raise BadRequest("Data JSON tidak dapat dibaca.", code="invalid_json") from None
    return parse_json(model, request.mimetype, raw)


def is_json(mimetype: str) -> bool:
    """Werkzeug's rule: ``application/json`` or ``application/*+json``."""
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def parse_json(model: type[BaseModel], mimetype: str, raw: bytes) -> BaseModel:
    """Validate a JSON request body (``mimetype`` without parameters) against ``model``; no Flask,
    so the hot path (quiz_server/hot.py) parses bodies exactly as the Flask routes do."""
    if not is_json(mimetype):
        raise UnsupportedMediaType(
            "Kirim data sebagai JSON (Content-Type: application/json).", code="unsupported_media_type"
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # ValueError: not JSON, or not UTF-8; RecursionError: absurdly deep nesting
        raise BadRequest("Data JSON tidak dapat dibaca.", code="invalid_json") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(badan permintaan)"
        raise InvalidInput(
            f"Isian '{field}' tidak valid: {first['msg']}.",
            code="validation_error",
            fields=[{"field": ".".join(str(p) for p in e["loc"]), "type": e["type"]} for e in exc.errors()[:20]],
        ) from None
