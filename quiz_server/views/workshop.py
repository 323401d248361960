"""Participant pages: join a workshop from a phone at /join, then answer on a light page.

Joining takes the code and the NIP. A registered NIP signs in with its password; a new
one registers on the spot with the usual fields. The live page is plain HTML forms; a
small script (static/workshop-participant.js) reloads it when the trainer moves the room on.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from netralitas.errors import NetralitasError, NotFound
from quiz_server import web
from quiz_server.errors import status_of
from quiz_server.models import Attempt, Learner
from quiz_server.models.base import utcnow
from quiz_server.security import require
from quiz_server.services import accounts, attempts, joincode, workshop_state, workshops
from quiz_server.services.errors import (
    InvalidCredentials,
    LearnerExists,
    RateLimited,
    UnknownInstansi,
    WorkshopClosed,
    WorkshopNotFound,
)
from quiz_server.views.learner import signed_in_learner
from quiz_server.views.learner_account import BAD_LOGIN, _instansi_options, _validate

bp = Blueprint("workshop", __name__)
_TEXT_FIELDS = ("nip", "nip_kind", "name", "email", "instansi_id", "unit")


@bp.after_request
def _no_store(resp: Response) -> Response:
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def _page(step: str, code: str, status: int = 200, headers: dict | None = None, **ctx):
    ctx.setdefault("values", {})
    ctx.setdefault("errors", {})
    if step == "register":
        ctx["instansi"] = _instansi_options()
    page = render_template("workshop/join.html", step=step, code=code, learner=signed_in_learner(), **ctx)
    return page, status, headers or {}


def _retry_after(exc: RateLimited) -> dict:
    return {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else {}


@bp.route("/join", methods=["GET", "POST"])
def join():
    if request.method != "POST":  # GET, and HEAD (which CSRF protection does not check)
        return _page("code", joincode.normalise(request.args.get("code", ""))[:6])
    code = joincode.normalise(request.form.get("code", ""))
    step = request.form.get("step", "code")
    try:
        workshops.find_by_code(web.uow(), code)
    except (WorkshopNotFound, WorkshopClosed) as exc:
        values = {"nip": request.form.get("nip", "")}
        if isinstance(exc, WorkshopNotFound):
            try:  # counted in a unit of work of its own, so the refused request cannot undo it
                web.throttle(f"join-miss:ip:{request.remote_addr}", *workshops.MISSES_PER_ADDRESS)
            except RateLimited as limited:
                return _page(
                    "code", code, status_of(limited), _retry_after(limited), error=limited.message, values=values
                )
        return _page("code", code, status_of(exc), error=exc.message, values=values)
    me = signed_in_learner()
    if me is not None and step == "code":
        return _enter(me.id, code)
    if step == "login":
        return _login_and_join(code)
    if step == "register":
        return _register_and_join(code)
    return _lookup(code)


def _lookup(code: str):
    """Step two: a known NIP signs in, a new one registers. Registration reveals the same thing."""
    nip = "".join(request.form.get("nip", "").split())[:40]
    if len(nip) != 18 or not nip.isdigit():
        return _page("code", code, 422, values={"nip": nip}, errors={"nip": "NIP terdiri dari 18 angka."})
    limit, window = current_app.config["RATE_LIMIT_REGISTER"]
    try:
        web.throttle(f"join-lookup:{request.remote_addr}", limit, window)
    except RateLimited as exc:
        return _page("code", code, status_of(exc), _retry_after(exc), error=exc.message, values={"nip": nip})
    known = web.uow().session.scalar(select(Learner.id).where(Learner.nip == nip))
    return _page("login" if known else "register", code, values={"nip": nip, "nip_kind": "pns"})


def _login_and_join(code: str):
    nip = "".join(request.form.get("nip", "").split())[:40]
    password = request.form.get("password", "")
    try:
        account = web.page_login(nip=nip, password=password)  # throttled and rotated as at /masuk
    except InvalidCredentials:
        return _page("login", code, 422, error=BAD_LOGIN, values={"nip": nip})
    except RateLimited as exc:
        return _page("login", code, status_of(exc), _retry_after(exc), error=exc.message, values={"nip": nip})
    return _enter(account.id, code, signed_in_now=True)


def _register_and_join(code: str):
    values = {f: request.form.get(f, "").strip() for f in _TEXT_FIELDS}
    try:
        web.throttle_registration()  # the same budget as /daftar and the API
    except RateLimited as exc:
        return _page("register", code, status_of(exc), _retry_after(exc), error=exc.message, values=values)
    body, errors = _validate(request.form)
    if body is None:
        return _page("register", code, 422, values=values, errors=errors)
    try:
        # The phone signs in with a web session, so no bearer token is issued that nobody would use.
        learner, raw = accounts.register_learner(
            web.uow(), **body.model_dump(), token_days=web.settings().token_ttl_days, kind="web"
        )
    except LearnerExists as exc:
        return _page("register", code, 422, values=values, errors={"nip": exc.message})
    except UnknownInstansi as exc:
        return _page("register", code, 422, values=values, errors={"instansi_id": exc.message})
    web.begin_web_session("learner_id", learner.id, token=raw)
    return _enter(learner.id, code, signed_in_now=True)


def _enter(learner_id: int, code: str, *, signed_in_now: bool = False):
    try:
        ws, _participant, created = workshops.join(web.uow(), learner_id, code)
    except (WorkshopNotFound, WorkshopClosed) as exc:  # closed a moment ago
        if signed_in_now:
            # A 4xx answer would roll the new sign-in (or registration) back with it: keep it, and
            # show the refusal on the code page instead.
            flash(exc.message, "error")
            return redirect(url_for("workshop.join", code=code), 303)
        return _page("code", code, status_of(exc), error=exc.message)
    if created:
        flash(f"Anda bergabung dengan lokakarya “{ws.title}”.", "ok")
    return redirect(url_for("workshop.room", workshop_id=ws.id), 303)


@bp.get("/lokakarya/<int:workshop_id>")
@require("learner")
def room(workshop_id: int):
    me = signed_in_learner()
    uow = web.uow()
    view = workshop_state.participant_view(uow, me.id, workshop_id)
    if view["workshop"]["mode"] == "self_paced":
        mine = list(
            uow.session.scalars(
                select(Attempt)
                .where(Attempt.learner_id == me.id, Attempt.workshop_id == workshop_id)
                .order_by(Attempt.started_at)
            )
        )
        now = utcnow()
        resumable = next((a for a in mine if a.submitted_at is None and a.expires_at > now), None)
        return render_template("workshop/self_paced.html", view=view, attempts=mine, resumable=resumable)
    return render_template("workshop/live.html", view=view)


@bp.get("/lokakarya/<int:workshop_id>/status.json")
@require("learner")
def room_status(workshop_id: int):
    """What the page's script polls: the room's version changes whenever the trainer acts."""
    ws, _ = workshops.membership(web.uow(), signed_in_learner().id, workshop_id)
    return jsonify({"version": ws.version, "status": "open" if workshops.is_open(ws) else "closed"})


@bp.post("/lokakarya/<int:workshop_id>/jawab")
@require("learner")
def answer(workshop_id: int):
    index = request.form.get("question_index", "")
    choices = request.form.getlist("choice")
    try:
        workshops.answer(web.uow(), signed_in_learner().id, workshop_id, int(index) if index.isdigit() else -1, choices)
    except NotFound:
        raise  # not this learner's room: the error page
    except NetralitasError as exc:  # the question closed, a bad choice: say so on the room page
        flash(exc.message, "error")
    else:
        flash("Jawaban Anda terkirim.", "ok")
    return redirect(url_for("workshop.room", workshop_id=workshop_id), 303)


@bp.post("/lokakarya/<int:workshop_id>/mulai")
@require("learner")
def start(workshop_id: int):
    """Self-paced mode: start the workshop's quiz as a normal attempt tagged with the workshop."""
    me = signed_in_learner()
    uow = web.uow()
    ws, _ = workshops.membership(uow, me.id, workshop_id)
    try:
        started = attempts.start(uow, me.id, ws.quiz_id, workshop_id)
    except NotFound:
        raise
    except NetralitasError as exc:  # the window closed or has not opened, no attempts left
        flash(exc.message, "error")
        return redirect(url_for("workshop.room", workshop_id=workshop_id), 303)
    return redirect(url_for("learner.attempt", attempt_id=started["id"]), 303)
