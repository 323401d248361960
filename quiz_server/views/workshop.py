"""Participant pages: join a workshop from a phone at /join, then answer on a light page.

Joining takes the code and the NIP. A registered NIP signs in with its password; a new
one registers on the spot with the usual fields. The live page is plain HTML forms; a
small script (static/workshop-participant.js) reloads it when the trainer moves the room on.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import select

from quiz_server import db
from quiz_server.api.auth import throttle_login
from quiz_server.errors import ApiError
from quiz_server.models import Attempt, Learner
from quiz_server.models.base import utcnow
from quiz_server.security import require, revoke_token
from quiz_server.services import accounts, attempts, audit, joincode, workshop_state, workshops
from quiz_server.views.learner import signed_in_learner
from quiz_server.views.learner_account import BAD_LOGIN, _begin_web_session, _instansi_options, _validate

bp = Blueprint("workshop", __name__)
_TEXT_FIELDS = ("nip", "nip_kind", "name", "email", "instansi_id", "unit")


@bp.after_request
def _no_store(resp: Response) -> Response:
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def _page(step: str, code: str, status: int = 200, **ctx):
    ctx.setdefault("values", {})
    ctx.setdefault("errors", {})
    if step == "register":
        ctx["instansi"] = _instansi_options()
    return render_template("workshop/join.html", step=step, code=code, learner=signed_in_learner(), **ctx), status


@bp.route("/join", methods=["GET", "POST"])
def join():
    if request.method == "GET":
        return _page("code", joincode.normalise(request.args.get("code", ""))[:6])
    code = joincode.normalise(request.form.get("code", ""))
    step = request.form.get("step", "code")
    try:
        workshops.find_by_code(code)
    except ApiError as exc:
        values = {"nip": request.form.get("nip", "")}
        if exc.status == 404:
            try:  # a room shares one NAT address: generous, but guessing codes still runs out
                workshops.count_miss(f"ip:{request.remote_addr}", 200, 300)
            except ApiError as limited:
                exc = limited
        return _page("code", code, exc.status, error=exc.message, values=values)
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
        workshops.throttle(f"join-lookup:{request.remote_addr}", limit, window)
    except ApiError as exc:
        return _page("code", code, exc.status, error=exc.message, values={"nip": nip})
    known = db.session().scalar(select(Learner.id).where(Learner.nip == nip))
    return _page("login" if known else "register", code, values={"nip": nip, "nip_kind": "pns"})


def _login_and_join(code: str):
    nip = "".join(request.form.get("nip", "").split())[:40]
    password = request.form.get("password", "")
    try:
        throttle_login(nip)
        raw, account = accounts.login(nip=nip, username=None, password=password, kind="web")
    except ApiError as exc:
        message = BAD_LOGIN if exc.code == "invalid_credentials" else exc.message
        return _page("login", code, 422 if exc.status == 401 else exc.status, error=message, values={"nip": nip})
    old = session.get("sid")
    session.clear()  # rotate the session at login, as /masuk does
    session["sid"] = raw
    if old:
        with db.write() as s:
            revoke_token(s, old)
    return _enter(account.id, code)


def _register_and_join(code: str):
    values = {f: request.form.get(f, "").strip() for f in _TEXT_FIELDS}
    limit, window = current_app.config["RATE_LIMIT_REGISTER"]
    try:
        workshops.throttle(f"register:{request.remote_addr}", limit, window)
    except ApiError as exc:
        return _page("register", code, exc.status, error=exc.message, values=values)
    body, errors = _validate(request.form)
    if body is None:
        return _page("register", code, 422, values=values, errors=errors)
    try:
        learner, api_token = accounts.register_learner(**body.model_dump())
    except ApiError as exc:
        field = {"learner_exists": "nip", "unknown_instansi": "instansi_id"}.get(exc.code)
        if field is None:
            raise
        return _page("register", code, 422, values=values, errors={field: exc.message})
    with db.write() as s:
        revoke_token(s, api_token)  # the phone signs in with a web session; an unused bearer token is only risk
        _begin_web_session(s, learner.id)
        audit.record(s, f"learner:{learner.id}", "login", "web")
    return _enter(learner.id, code)


def _enter(learner_id: int, code: str):
    try:
        ws, _participant, created = workshops.join(learner_id, code)
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return _page("code", code, exc.status, error=exc.message)
    if created:
        flash(f"Anda bergabung dengan lokakarya “{ws.title}”.", "ok")
    return redirect(url_for("workshop.room", workshop_id=ws.id), 303)


@bp.get("/lokakarya/<int:workshop_id>")
@require("learner")
def room(workshop_id: int):
    me = signed_in_learner()
    view = workshop_state.participant_view(me.id, workshop_id)
    if view["workshop"]["mode"] == "self_paced":
        mine = list(
            db.session().scalars(
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
    ws, _ = workshops.membership(signed_in_learner().id, workshop_id)
    return jsonify({"version": ws.version, "status": "open" if workshops.is_open(ws) else "closed"})


@bp.post("/lokakarya/<int:workshop_id>/jawab")
@require("learner")
def answer(workshop_id: int):
    index = request.form.get("question_index", "")
    choices = request.form.getlist("choice")
    try:
        workshops.answer(signed_in_learner().id, workshop_id, int(index) if index.isdigit() else -1, choices)
    except ApiError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        flash("Jawaban Anda terkirim.", "ok")
    return redirect(url_for("workshop.room", workshop_id=workshop_id), 303)


@bp.post("/lokakarya/<int:workshop_id>/mulai")
@require("learner")
def start(workshop_id: int):
    """Self-paced mode: start the workshop's quiz as a normal attempt tagged with the workshop."""
    me = signed_in_learner()
    ws, _ = workshops.membership(me.id, workshop_id)
    try:
        started = attempts.start(me.id, ws.quiz_id, workshop_id)
    except ApiError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
        return redirect(url_for("workshop.room", workshop_id=workshop_id), 303)
    return redirect(url_for("learner.attempt", attempt_id=started["id"]), 303)
