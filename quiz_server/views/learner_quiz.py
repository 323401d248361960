"""Taking a quiz on the web: start or resume, answer, submit, read the feedback.

Drawing, shuffling, scoring and ownership checks all live in ``services.attempts``;
these views only translate between HTML forms and that service.
"""

from __future__ import annotations

import datetime as dt
import math

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from netralitas.errors import NetralitasError
from netralitas.scoring import question_type
from quiz_server import web
from quiz_server.models import Attempt, Rule
from quiz_server.models.base import utcnow
from quiz_server.security import current_principal, require
from quiz_server.services import attempts, lifecycle, review
from quiz_server.services.errors import AttemptAlreadySubmitted, AttemptExpired, AttemptLimitReached
from quiz_server.views import lessons
from quiz_server.views.learner import bp

FIELD_PREFIX = "q-"  # form field per question: "q-<the attempt's opaque question id>", values: shown choice ids


def _review_args() -> dict:
    policy = review.course_policy(current_app.config["CONTENT_PATH"])
    return {"policy": policy, "grace_seconds": web.settings().attempt_grace_seconds}


def _open_attempt_id(learner_id: int, quiz_id: str) -> str | None:
    return web.uow().session.scalar(
        select(Attempt.id)
        .where(
            Attempt.learner_id == learner_id,
            Attempt.quiz_id == quiz_id,
            Attempt.submitted_at.is_(None),
            Attempt.expires_at > utcnow(),
        )
        .limit(1)
    )


@bp.post("/kuis/<quiz_id>/mulai")
@require("learner")
def start_quiz(quiz_id: str):
    me = current_principal()
    # A double tap or the back button must not burn one of the few attempts: resume the open one.
    open_id = _open_attempt_id(me.id, quiz_id)
    if open_id:
        flash("Anda masih punya percobaan yang belum dikirim. Silakan lanjutkan.", "info")
        return redirect(url_for("learner.attempt", attempt_id=open_id), 303)
    try:
        started = attempts.start(web.uow(), me.id, quiz_id)
    except AttemptLimitReached as exc:  # an unknown quiz falls through to the 404 page
        flash(exc.message, "error")
        return redirect(url_for("learner.index"), 303)
    return redirect(url_for("learner.attempt", attempt_id=started["id"]), 303)


@bp.get("/percobaan/<attempt_id>")
@require("learner")
def attempt(attempt_id: str):
    uow = web.uow()
    body = attempts.get_open(uow, current_principal().id, attempt_id, **_review_args())  # 404 unless the caller's
    if body["submitted"]:
        return redirect(url_for("learner.result", attempt_id=attempt_id))
    for q in body["questions"]:
        q["multi"] = question_type(q["type"]).max_selected != 1
    left = dt.datetime.fromisoformat(body["expires_at"]) - utcnow()
    return render_template(
        "learner/attempt.html",
        attempt=body,
        quiz=attempts.get_quiz(uow, body["quiz_id"]),
        minutes_left=max(0, math.ceil(left.total_seconds() / 60)),
        field_prefix=FIELD_PREFIX,
    )


@bp.post("/percobaan/<attempt_id>/kirim")
@require("learner")
def submit(attempt_id: str):
    answers = {
        key[len(FIELD_PREFIX) :]: request.form.getlist(key) for key in request.form if key.startswith(FIELD_PREFIX)
    }
    try:
        attempts.submit(
            web.uow(), current_principal().id, attempt_id, answers, settings=web.settings(), **_review_args()
        )
    except AttemptAlreadySubmitted as exc:
        flash(exc.message + " Berikut hasil yang tersimpan.", "error")
        return redirect(url_for("learner.result", attempt_id=attempt_id), 303)
    except AttemptExpired as exc:
        flash(exc.message, "error")
        return redirect(url_for("learner.index"), 303)
    # Not found or a tampered form raise on to the error page, which says why.
    return redirect(url_for("learner.result", attempt_id=attempt_id), 303)


@bp.get("/percobaan/<attempt_id>/hasil")
@require("learner")
def result(attempt_id: str):
    uow = web.uow()
    body = attempts.get_open(uow, current_principal().id, attempt_id, **_review_args())
    if "result" not in body:
        return redirect(url_for("learner.attempt", attempt_id=attempt_id))
    feedback = {f["question_id"]: f for f in body["result"]["feedback"]}
    rule_ids = {r["id"] for f in feedback.values() for r in f.get("rules", [])}
    titles = dict(uow.session.execute(select(Rule.id, Rule.title).where(Rule.id.in_(rule_ids))).all())
    quiz = attempts.get_quiz(uow, body["quiz_id"])
    me = current_principal()
    others = uow.session.execute(
        select(Attempt.id, Attempt.number, Attempt.percent, Attempt.passed)
        .where(Attempt.learner_id == me.id, Attempt.quiz_id == quiz.id, Attempt.submitted_at.is_not(None))
        .order_by(Attempt.number)
    ).all()
    return render_template(
        "learner/result.html",
        attempt=body,
        result=body["result"],
        feedback=feedback,
        rule_titles=titles,
        rule_pages=lessons.rule_ids(),
        summary=wrong_answers(body),
        quiz=quiz,
        next_mod=_next_module(quiz.module_id),
        others=others,
        can_retry=not any(o.passed for o in others)
        and _attempts_used(me.id, quiz.id) < quiz.attempts_allowed + lifecycle.granted(uow, me.id, quiz.id),
    )


def _next_module(module_id: str):
    """The module after this one, for the result page's way on (None after the last or without content)."""
    try:
        pos, _ = lessons.module(module_id)
        modules = lessons.course().modules
    except NetralitasError:
        return None
    return modules[pos] if pos < len(modules) else None


def _attempts_used(learner_id: int, quiz_id: str) -> int:
    return web.uow().session.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.learner_id == learner_id, Attempt.quiz_id == quiz_id)
    )


def wrong_answers(body: dict) -> dict:
    """The result page's summary: question numbers (1-based, as shown) wrong or unanswered.

    ``known`` is False when the review options withhold correctness for now: then only the
    unanswered questions are listed, and nothing says which answers were right.
    """
    feedback = {f["question_id"]: f for f in body["result"]["feedback"]}
    known = all("correct" in f for f in feedback.values())
    wrong, unanswered = [], []
    for n, q in enumerate(body["questions"], start=1):
        f = feedback[q["id"]]
        if not f["answered"]:
            unanswered.append(n)
        elif known and not f["correct"]:
            wrong.append(n)
    return {"known": known, "wrong": wrong, "unanswered": unanswered, "total": len(body["questions"])}
