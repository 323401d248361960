"""Staff page /staf/analisis-soal: item analysis of the question bank (trainers and admins).

Aggregates only: facility, discrimination and how often each choice was picked. No learner is
named, so the page needs no export audit; the question texts and keys it shows are staff material.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from netralitas.content.itemanalysis import format_stats
from quiz_server import web
from quiz_server.services import catalog, item_stats
from quiz_server.views.staff import staff_page

bp = Blueprint("item_stats", __name__, url_prefix="/staf")


def _query() -> tuple[str | None, bool]:
    return (request.args.get("kuis") or None), request.args.get("semua") == "1"


@bp.get("/analisis-soal")
@staff_page("trainer", "admin")
def page():
    quiz_id, every = _query()
    uow = web.uow()
    snap = catalog.snapshot(uow)
    stats = item_stats.question_stats(uow, quiz_id=quiz_id, first_only=not every)
    quizzes = sorted(snap.quizzes.values(), key=lambda q: q.position)
    return render_template(
        "staff/item_stats.html", stats=stats, questions=snap.questions, quizzes=quizzes, quiz_id=quiz_id, every=every
    )


@bp.get("/analisis-soal.csv")
@staff_page("trainer", "admin")
def csv():
    quiz_id, every = _query()
    stats = item_stats.question_stats(web.uow(), quiz_id=quiz_id, first_only=not every)
    name = f"analisis-soal-{quiz_id or 'semua'}.csv"
    return Response(
        format_stats(stats, "csv"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
