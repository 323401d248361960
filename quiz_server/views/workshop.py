"""Participant pages: join a workshop from a phone at /join, then answer on a light page.

Joining takes the code, then a sign-in form (NIP and password). A new learner picks "Daftar"
there and registers on the spot: the usual fields, then the code mailed to them. No step tells
whether an NIP is registered. The live page is plain HTML forms; a
small script (static/workshop-participant.js) reloads it when the trainer moves the room on.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import select

from netralitas.errors import NetralitasError, NotFound
from quiz_server import web
from quiz_server.errors import status_of
from quiz_server.models import Attempt
from quiz_server.models.base import utcnow
from quiz_server.security import require
from quiz_server.services import attempts, joincode, registration, workshop_state, workshops
from quiz_server.services.errors import (
    InvalidCredentials,
    RateLimited,
    UnknownInstansi,
    WorkshopClosed,
    WorkshopNotFound,
)
from quiz_server.services.mail import MailUnavailable
from quiz_server.services.registration import InvalidCode
from quiz_server.views.learner import searching_instansi, signed_in_learner
from quiz_server.views.learner_account import (
    BAD_LOGIN,
    PENDING,
    _validate,
    resend_code,
    start_registration,
    verify_code,
)

bp = Blueprint("workshop", __name__)
_TEXT_FIELDS = ("nip", "nip_kind", "name", "email", "instansi_id", "unit")


@bp.after_request
def _no_store(resp: Response) -> Response:
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def _page(step: str, code: str, status: int = 200, headers: dict | None = None, **ctx):
    ctx.setdefault("values", {})
    ctx.setdefault("errors", {})
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
    # No step says whether an NIP is registered: after the code comes a sign-in form, and a new
    # learner chooses "Daftar" there (register -> email code -> signed in and joined).
    steps = {"login": _login_and_join, "new": _new, "register": _register_and_join, "verify": _verify_and_join}
    steps |= {"resend": _resend}
    return steps.get(step, _signin_form)(code)


def _signin_form(code: str):
    return _page("login", code)


def _new(code: str):
    return _page("register", code, values={"nip_kind": "pns"})


def _login_and_join(code: str):
    nip = "".join(request.form.get("nip", "").split())[:40]
    password = request.form.get("password", "")
    if not nip or not password:
        return _page("login", code, 422, error="Isi NIP dan kata sandi.", values={"nip": nip})
    try:
        account = web.page_login(nip=nip, password=password)  # throttled and rotated as at /masuk
    except InvalidCredentials:
        return _page("login", code, 422, error=BAD_LOGIN, values={"nip": nip})
    except RateLimited as exc:
        return _page("login", code, status_of(exc), _retry_after(exc), error=exc.message, values={"nip": nip})
    return _enter(account.id, code, signed_in_now=True)


def _register_and_join(code: str):
    values = {f: request.form.get(f, "").strip() for f in _TEXT_FIELDS}
    if searching_instansi():  # the instansi field's "Cari": the same form, its list filtered
        return _page("register", code, values=values)
    body, errors = _validate(request.form)
    try:
        web.throttle_registration(*((body.nip, body.email) if body else ()))  # the budgets of /daftar and the API
    except RateLimited as exc:
        return _page("register", code, status_of(exc), _retry_after(exc), error=exc.message, values=values)
    if body is None:
        return _page("register", code, 422, values=values, errors=errors)
    try:
        session[PENDING] = start_registration(body)
    except UnknownInstansi as exc:
        return _page("register", code, 422, values=values, errors={"instansi_id": exc.message})
    except MailUnavailable as exc:
        return _page("register", code, status_of(exc), error=exc.message, values=values)
    return _page("verify", code)


def _verify_and_join(code: str):
    try:
        learner = verify_code(request.form.get("otp", ""))
    except InvalidCode as exc:
        return _page("verify", code, 422, error=exc.message)
    except RateLimited as exc:
        return _page("verify", code, status_of(exc), _retry_after(exc), error=exc.message)
    return _enter(learner.id, code, signed_in_now=True)


def _resend(code: str):
    try:
        resend_code()
    except (RateLimited, MailUnavailable) as exc:
        return _page("verify", code, status_of(exc), error=exc.message)
    return _page("verify", code, notice=registration.RESENT)


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
