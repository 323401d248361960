"""Quiz server: the system of record for learners, attempts, workshops and certificates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from quiz_server import filemodes
from quiz_server.config import build_config, default_instance_path


class BoundedInt(IntegerConverter):
    def __init__(self, url_map, **kwargs) -> None:
        super().__init__(url_map, **{"max": 2**31 - 1, **kwargs})


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Assemble the app: configuration, database, security, error handling, blueprints."""
    instance = Path((config or {}).get("INSTANCE_PATH") or default_instance_path())
    filemodes.restrict(instance)  # umask 077, instance folder 0700: nothing the server writes is world-readable
    app = Flask(__name__, instance_path=str(instance.resolve()), instance_relative_config=False)
    app.config.from_mapping(build_config(instance, config))

    from quiz_server import api, db, errors, security, views, web

    if hops := int(app.config.get("PROXY_HOPS", 0)):  # behind nginx: trust its X-Forwarded-* headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["int"] = BoundedInt  # ids beyond a database integer: 404, not an overflow
    db.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    api.init_app(app)
    views.init_app(app)
    web.init_app(app)  # last: wraps every view in the request's unit of work
    return app
