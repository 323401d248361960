"""Request-body validation over pydantic models that also feed the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest

from netralitas.errors import BadRequest, InvalidInput, UnsupportedMediaType

# route key "METHOD /path" -> documentation used by meta.openapi(); filled by api.endpoint.endpoint
ROUTES: dict[str, dict[str, Any]] = {}


def parse_body(model: type[BaseModel]) -> BaseModel:
    if not request.is_json:
        raise UnsupportedMediaType(
            "Kirim data sebagai JSON (Content-Type: application/json).", code="unsupported_media_type"
        )
    try:
        data = request.get_json(force=True, silent=False)
    except (WerkzeugBadRequest, RecursionError):  # RecursionError: absurdly deep nesting
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
