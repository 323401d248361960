"""JSON API, one module per resource, all under /api/v1."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    from quiz_server.api import (  # noqa: F401  (registers routes)
        attempt_grants,
        attempts,
        auth,
        certificates,
        exercises,
        learners,
        meta,
        quizzes,
        reports,
        roster,
        workshops,
    )
    from quiz_server.security import csrf

    csrf.exempt(bp)  # bearer tokens only; no cookie reaches the API
    app.register_blueprint(bp)

    @app.get("/healthz")
    def healthz():
        return meta.health()
