"""Learner pages: the blueprint, what every page shares, and the dashboard.

Account pages live in ``learner_account.py`` and quiz pages in ``learner_quiz.py``;
both add their routes to the blueprint defined here. Pages are server-rendered
HTML with no JavaScript, so they work on slow connections and old phones.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from quiz_server import web
from quiz_server.errors import error_response
from quiz_server.models import Attempt, Quiz
from quiz_server.security import Principal, current_principal
from quiz_server.services import attempts

bp = Blueprint("learner", __name__)


def signed_in_learner() -> Principal | None:
    """The calling learner, or None (also for staff sessions, which have their own pages)."""
    who = current_principal()
    return who if who is not None and who.role == "learner" else None


def safe_next(target: str | None) -> str | None:
    """A same-site path that a GET can open, or None; keeps login from becoming an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    path = target.split("?", 1)[0]
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return None  # e.g. the POST-only "start quiz" address the login redirect came from
    return target


@bp.app_context_processor
def _inject_principal() -> dict:
    # Error pages extend base.html too; a database outage must not turn a 503 page into a crash.
    try:
        me = current_principal()
    except SQLAlchemyError:
        me = None
    return {"me": me}


@bp.app_template_filter("persen")
def persen(value: float | None) -> str:
    """66.7 -> '66,7%' (Indonesian decimal comma); None -> an en dash."""
    if value is None:
        return "–"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + "%"


@bp.app_errorhandler(CSRFError)
def _csrf_failed(_exc: CSRFError):
    return error_response(
        400, "csrf_failed", "Formulir kedaluwarsa atau tidak sah. Muat ulang halaman, lalu kirim sekali lagi."
    )


@bp.after_request
def _no_store(resp: Response) -> Response:
    # Pages show personal results; a shared office computer must not serve them from its cache.
    if "sid" in session or request.method == "POST":
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


@bp.get("/")
def index():
    me = signed_in_learner()
    if me is None:
        return render_template("learner/welcome.html")
    uow = web.uow()
    progress = attempts.progress(uow, me.id)
    s = uow.session
    quizzes = {q.id: q for q in s.scalars(select(Quiz))}
    latest: dict[str, str] = {}
    rows = s.execute(
        select(Attempt.quiz_id, Attempt.id)
        .where(Attempt.learner_id == me.id, Attempt.submitted_at.is_not(None))
        .order_by(Attempt.submitted_at)
    )
    for quiz_id, attempt_id in rows:
        latest[quiz_id] = attempt_id  # ordered by time, so the last one wins
    return render_template("learner/dashboard.html", progress=progress, quizzes=quizzes, latest=latest)
