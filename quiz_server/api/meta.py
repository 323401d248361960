"""Health check and the OpenAPI document of every API route."""

from __future__ import annotations

import re

from flask import current_app, jsonify

from netralitas.errors import NotFound
from quiz_server import db, web
from quiz_server.api import bp
from quiz_server.api.endpoint import PUBLIC, Call, endpoint
from quiz_server.api.validation import ROUTES
from quiz_server.services import health as health_service

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def health():
    """``GET /healthz``: the database answers, takes a write now, and (SQLite) has disk left."""
    result = health_service.checks(db.engine(current_app))
    bad = health_service.problems(result)
    if not bad:
        return jsonify({"status": "ok", **_warnings()})
    body = {
        "status": "error",
        "checks": result,
        "error": {"code": f"{bad[0]}_unavailable", "message": " ".join(health_service.MESSAGES[b] for b in bad)},
    }
    return jsonify(body), 503, {"Retry-After": "5"}


def _warnings() -> dict:
    """Serving works, but something an admin must still set: certificate links, QR codes and mailed
    links are refused until the public address is configured (web.public_base)."""
    try:
        web.public_base()
    except web.PublicUrlMissing as exc:
        return {"warnings": [{"code": exc.code, "message": exc.message}]}
    return {}


@endpoint("GET", "/openapi.json", "Dokumen OpenAPI ini.", roles=PUBLIC)
def openapi(_call: Call):
    paths: dict = {}
    for key, info in sorted(ROUTES.items()):
        method, path = key.split(" ", 1)
        op: dict = {
            "summary": info["summary"],
            "operationId": f"{method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
            "responses": {
                str(code): {
                    "description": desc,
                    "content": {"application/json": {"schema": ERROR_SCHEMA if code >= 400 else {"type": "object"}}},
                }
                for code, desc in info["responses"].items()
            },
        }
        op["responses"].setdefault(
            "default", {"description": "Galat", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
        )
        params = re.findall(r"{(\w+)}", path)
        if params:
            op["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params
            ]
        if method == "POST":
            op.setdefault("parameters", []).append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 200},
                }
            )
        if info["body"] is not None:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": info["body"].model_json_schema(ref_template="#/components/schemas/{model}")
                    }
                },
            }
        if info["auth"]:
            op["security"] = [{"bearer": []}]
        paths.setdefault(f"/api/v1{path}", {})[method.lower()] = op
    paths["/healthz"] = {
        "get": {
            "summary": "Cek kesehatan",
            "operationId": "get_healthz",
            "responses": {"200": {"description": "OK"}, "503": {"description": "Basis data tidak tersedia"}},
        }
    }
    return jsonify(
        {
            "openapi": "3.1.0",
            "info": {"title": "Netralitas ASN quiz server", "version": current_app.config.get("API_VERSION", "1.0.0")},
            "paths": paths,
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        }
    )


@bp.route("/<path:_any>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(_any: str):
    raise NotFound("Alamat API tidak ditemukan.", code="not_found")
