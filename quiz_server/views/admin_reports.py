"""Admin page /admin/laporan: national completion figures, aggregates only, small groups hidden."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request

from netralitas.errors import InvalidInput
from quiz_server import web
from quiz_server.services import national, reports
from quiz_server.services.reports import LABELS, Filters
from quiz_server.views.staff import staff_page

bp = Blueprint("admin_reports", __name__)


@bp.get("/admin/laporan")
@staff_page("admin")
def national_page():
    problem = None
    try:
        f = reports.parse_filters(request.args, None)
    except InvalidInput as exc:
        f, problem = Filters(), exc.message
    data = national.national(web.uow(), Filters(None, None, f.start, f.end), web.settings().zone)
    resp = make_response(
        render_template("admin/laporan.html", data=data, f=f, problem=problem, labels=LABELS), 422 if problem else 200
    )
    web.refresh_national_later(resp, data)
    return resp
