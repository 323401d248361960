"""Server-rendered pages by audience."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from quiz_server.views import (  # noqa: F401  (add their routes to learner.bp)
        learner,
        learner_account,
        learner_certificate,
        learner_quiz,
    )

    app.register_blueprint(learner.bp)

    from quiz_server.views import lessons

    app.register_blueprint(lessons.bp)

    from quiz_server.views import account_password, admin_reports, hr, item_stats, staff

    app.register_blueprint(account_password.bp)  # password change and reset, HR attempt grants
    app.register_blueprint(staff.bp)
    app.register_blueprint(item_stats.bp)
    app.register_blueprint(hr.bp)
    app.register_blueprint(admin_reports.bp)

    from quiz_server.views import (  # noqa: F401  (trainer_board adds to trainer.bp)
        trainer,
        trainer_board,
        trainer_notes,
        workshop,
    )

    app.register_blueprint(trainer.bp)
    app.register_blueprint(trainer_notes.bp)
    app.register_blueprint(workshop.bp)
