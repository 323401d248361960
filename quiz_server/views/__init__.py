"""Server-rendered pages by audience."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from quiz_server.views import learner, learner_account, learner_quiz  # noqa: F401  (add their routes to learner.bp)

    app.register_blueprint(learner.bp)
