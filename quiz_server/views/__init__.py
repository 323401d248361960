"""Server-rendered pages by audience."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from quiz_server.views import learner

    app.register_blueprint(learner.bp)
