"""Quiz server: the system of record for learners, attempts, workshops and certificates."""

from __future__ import annotations

import ipaddress
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


class TrustedProxyFix:
    """Read X-Forwarded-For/-Proto only on requests that come from a trusted proxy's own address.

    A client that reaches the server directly (port 5000 open on the network, say) could otherwise
    send its own X-Forwarded-For and look like a new address on every request, which would reset the
    per-address rate limits. The Host header is never taken from X-Forwarded-Host: nginx passes the
    real one (deploy/nginx.conf), and certificate links must not follow a client's header.
    """

    def __init__(self, app: Any, hops: int, trusted: str) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=0)
        self.trusted = [ipaddress.ip_network(n.strip(), strict=False) for n in trusted.split(",") if n.strip()]

    def _is_trusted(self, addr: str | None) -> bool:
        try:
            ip = ipaddress.ip_address(addr or "")
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if self._is_trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Assemble the app: configuration, database, security, error handling, blueprints."""
    instance = Path((config or {}).get("INSTANCE_PATH") or default_instance_path())
    filemodes.restrict(instance)  # umask 077, instance folder 0700: nothing the server writes is world-readable
    app = Flask(__name__, instance_path=str(instance.resolve()), instance_relative_config=False)
    app.config.from_mapping(build_config(instance, config))

    from quiz_server import api, db, errors, security, views, web
    from quiz_server.services import credentials

    credentials.configure_hasher(
        time_cost=app.config.get("ARGON2_TIME_COST"), memory_kib=app.config.get("ARGON2_MEMORY_KIB")
    )

    from quiz_server import hot

    fast = hot.init_app(app)  # attempt start and submit without Flask's machinery; inside the proxy fix below
    if hops := int(app.config.get("PROXY_HOPS", 0)):  # behind nginx: trust its X-Forwarded-* headers
        trusted = app.config.get("TRUSTED_PROXIES", "127.0.0.1,::1")
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, hops, trusted)
        fast.trust_proxy(lambda inner: TrustedProxyFix(inner, hops, trusted))
    app.url_map.converters["int"] = BoundedInt  # ids beyond a database integer: 404, not an overflow
    db.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    api.init_app(app)
    views.init_app(app)
    from quiz_server.views import oidc

    app.register_blueprint(oidc.bp)  # "Masuk dengan akun instansi": off unless NETRALITAS_OIDC_ISSUER is set
    web.init_app(app)  # last: wraps every view in the request's unit of work
    return app
