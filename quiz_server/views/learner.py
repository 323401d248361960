"""Learner pages: the blueprint, what every page shares, and the dashboard.

Account pages live in ``learner_account.py`` and quiz pages in ``learner_quiz.py``;
both add their routes to the blueprint defined here. Pages are server-rendered
HTML with no JavaScript, so they work on slow connections and old phones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, render_template, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from netralitas.content.models import CertificationTrack
from netralitas.labels import MONTHS
from quiz_server import web
from quiz_server.errors import error_response
from quiz_server.models import Attempt, Certificate, Instansi, Quiz, Workshop
from quiz_server.security import Principal, current_principal
from quiz_server.services import attempts, certificates, certification
from quiz_server.uow import UnitOfWork

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


@bp.app_template_filter("tanggal_jam")
def tanggal_jam(value: dt.datetime | str | None, zone: dt.tzinfo | None = None) -> str:
    """A moment as learners read it: '2 Desember 2026, 10.15 WIB', the one format of the learner pages
    (dates alone: the ``tanggal`` filter, '2 Desember 2026'). In the server's report time zone."""
    if not value:
        return "–"
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)  # stored in UTC
    local = when.astimezone(zone or web.settings().zone)
    name = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}.get(str(local.tzinfo))
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H.%M} {name or local.tzname() or ''}".rstrip()


SEARCH_FIELD = "cari"  # the instansi search box (templates/learner/_instansi_field.html)
SEARCH_BUTTON = "cari_instansi"  # its button: a form sent with it searches and registers no one
SEARCH_MAX = 100


@dataclass(frozen=True)
class InstansiChoices:
    query: str
    options: list[Instansi]
    note: str | None  # what the search found, for the learner


def search_instansi(uow: UnitOfWork, query: str | None, selected: str | None = None) -> InstansiChoices:
    """The instansi list filtered by ``query``: every word of it in the name or the id, any case.

    No query, or one that matches nothing, gives the whole list (with a note saying so); the
    instansi already chosen stays in the list either way, so a search never drops the choice.
    """
    query = " ".join((query or "").split())[:SEARCH_MAX]
    everyone = list(uow.session.scalars(select(Instansi).order_by(Instansi.name)))
    if not query:
        return InstansiChoices("", everyone, None)
    words = query.lower().split()
    hits = [i for i in everyone if all(w in f"{i.name} {i.id}".lower() for w in words)]
    if not hits:
        note = f"Tidak ada instansi yang cocok dengan \u201c{query}\u201d. Periksa ejaannya, atau pilih dari daftar lengkap."
        return InstansiChoices(query, everyone, note)
    if selected and selected not in {i.id for i in hits}:
        hits += [i for i in everyone if i.id == selected]
    return InstansiChoices(
        query, hits, f"{len(hits)} instansi cocok dengan \u201c{query}\u201d. Pilih dari daftar di bawah."
    )


def searching_instansi() -> bool:
    """The form was sent with the instansi search button: show it again, filtered; register no one."""
    return request.method == "POST" and SEARCH_BUTTON in request.form


@bp.app_template_global("instansi_pilihan")
def _instansi_choices(selected: str | None = None) -> InstansiChoices:
    return search_instansi(web.uow(), request.values.get(SEARCH_FIELD), selected)


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


@dataclass
class CertificateStatus:
    """What the dashboard says about the certificate, in the words of the course's track."""

    track: str
    missing_quizzes: list[str] = field(default_factory=list)  # module titles
    missing_exercises: list[str] = field(default_factory=list)
    certificate: Certificate | None = None
    state: str | None = None  # valid, expired, revoked (with a certificate)
    refresher_due: bool = False


def certificate_status(uow: UnitOfWork, learner_id: int) -> CertificateStatus:
    settings = web.settings()
    rule = certification.course(settings)
    titles = {m.id: m.title for m in rule.modules}
    missing = certification.missing_for(uow, rule, [learner_id])[learner_id]
    status = CertificateStatus(
        track=rule.certification.track.value,
        missing_quizzes=[titles[m] for m in titles if certification.quiz_item(m) in missing],
        missing_exercises=[titles[m] for m in titles if certification.exercise_item(m) in missing],
    )
    cert = certificates.for_learner(uow, learner_id)
    if cert is not None:
        status.certificate = cert
        status.state = certificates.state(cert)
        status.refresher_due = certificates.refresher_due(cert, certificates.newest_major(uow))
    return status


def attempt_history(uow: UnitOfWork, learner_id: int) -> dict[str, list[dict]]:
    """quiz id -> the learner's submitted attempts in order, each with ``live`` (a live workshop room)."""
    live_rooms = select(Workshop.id).where(Workshop.mode != "self_paced")
    out: dict[str, list[dict]] = {}
    rows = uow.session.execute(
        select(Attempt, Attempt.workshop_id.in_(live_rooms))
        .where(Attempt.learner_id == learner_id, Attempt.submitted_at.is_not(None))
        .order_by(Attempt.quiz_id, Attempt.number)
    )
    for attempt, live in rows:
        out.setdefault(attempt.quiz_id, []).append({"attempt": attempt, "live": bool(live)})
    return out


@bp.get("/")
def index():
    me = signed_in_learner()
    if me is None:
        track = certification.course(web.settings()).certification.track
        return render_template(
            "learner/welcome.html", exercises_track=track == CertificationTrack.QUIZZES_AND_EXERCISES
        )
    uow = web.uow()
    s = uow.session
    return render_template(
        "learner/dashboard.html",
        progress=attempts.progress(uow, me.id),
        quizzes={q.id: q for q in s.scalars(select(Quiz))},
        history=attempt_history(uow, me.id),
        cert=certificate_status(uow, me.id),
        exercises_track=CertificationTrack.QUIZZES_AND_EXERCISES.value,
    )
