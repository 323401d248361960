"""HR pages under /hr/: the completion dashboard, the list of people not yet done, downloads and the
roster upload. Everything is scoped to the signed-in HR account's own instansi.

Charts are inline SVG built here from the report figures (no JavaScript: the CSP allows none inline).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge

from netralitas.errors import InvalidInput, NetralitasError, NotFound
from quiz_server import downloads, web
from quiz_server.errors import status_of
from quiz_server.security import Principal, csrf, current_principal
from quiz_server.services import report_people, reports, roster, roster_template
from quiz_server.services.reports import DONE, LABELS, Filters
from quiz_server.views.staff import staff_page

bp = Blueprint("hr", __name__, url_prefix="/hr")
PER_PAGE = 50
MODULE_PARTS = {"lulus": "Lulus", "mencoba_belum_lulus": "Mencoba, belum lulus", "belum_mencoba": "Belum mencoba"}


@bp.app_template_filter("ribuan")
def ribuan(value: int | None) -> str:
    """12345 -> '12.345' (Indonesian thousands separator)."""
    return "–" if value is None else f"{value:,}".replace(",", ".")


@bp.after_request
def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"  # names and NIPs; offices share computers
    return resp


def bar(row: dict[str, Any], keys: list[str] | tuple[str, ...], total_key: str = "roster") -> list[dict[str, Any]]:
    """Segments of one stacked bar in percent of the width: [{"key", "x", "w", "n"}]."""
    total = row[total_key] or 0
    x = 0.0
    out = []
    for k in keys:
        w = 100 * row[k] / total if total else 0
        if w:
            out.append({"key": k, "x": round(x, 2), "w": round(w, 2), "n": row[k]})
        x += w
    return out


def _filters(who: Principal) -> tuple[Filters, str | None, list[str]]:
    """The page's filters, or empty filters, the message to show and the fields it is about."""
    try:
        return reports.parse_filters(request.args, who.instansi_id), None, []
    except InvalidInput as exc:
        fields = exc.extra.get("fields") or []
        return Filters(who.instansi_id), exc.message, [f["field"] for f in fields if isinstance(f, dict)]


@bp.get("/")
@staff_page("hr")
def dashboard():
    who = current_principal()
    f, problem, bad_fields = _filters(who)
    report = reports.completion(web.uow(), f, web.settings().zone)
    order = (*reversed(DONE), "sedang_berjalan", "belum_mulai")  # done first, from the left
    units = sorted(report["by_unit"], key=lambda u: (u["persen_selesai"] is None, u["persen_selesai"] or 0))
    page = render_template(
        "hr/dashboard.html",
        report=report,
        f=f,
        problem=problem,
        bad_fields=bad_fields,
        units=units,
        unit_options=reports.units(web.uow(), who.instansi_id),
        labels=LABELS,
        order=order,
        bar=bar,
        module_parts=MODULE_PARTS,
        query={k: v for k, v in f.public().items() if k != "instansi" and v},
    )
    return page, 422 if problem else 200


@bp.get("/peserta")
@staff_page("hr")
def not_done():
    who = current_principal()
    f, problem, bad_fields = _filters(who)
    try:
        page = max(1, int(request.args.get("halaman", "1")))
    except ValueError:
        page = 1
    search = request.args.get("q", "")[:100]
    status = request.args.get("status") or None
    rows, total = report_people.not_done_page(
        web.uow(), f, web.settings().zone, search=search, status=status, page=page, per_page=PER_PAGE
    )
    pages = max(1, -(-total // PER_PAGE))
    query = {k: v for k, v in f.public().items() if k != "instansi" and v}
    query |= {k: v for k, v in (("q", search), ("status", status)) if v}
    html = render_template(
        "hr/not_done.html",
        rows=rows,
        total=total,
        page=min(page, pages),
        pages=pages,
        search=search,
        status=status,
        f=f,
        problem=problem,
        bad_fields=bad_fields,
        unit_options=reports.units(web.uow(), who.instansi_id),
        labels=LABELS,
        quiz_count=reports.quiz_count(web.uow()),
        query=query,
    )
    return html, 422 if problem else 200


@bp.get("/unduh.<fmt>")
@staff_page("hr")
def download(fmt: str):
    who = current_principal()
    if fmt not in ("csv", "xlsx"):
        raise NotFound("Format unduhan tidak dikenal.", code="not_found")
    f = reports.parse_filters(request.args, who.instansi_id)
    return downloads.report(web.uow(), web.settings(), f, fmt, who.key)


TEMPLATES = {
    "csv": ("text/csv; charset=utf-8", roster_template.csv_bytes),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", roster_template.xlsx_bytes),
}


@bp.get("/daftar-pegawai/templat.<fmt>")
@staff_page("hr")
def roster_template_file(fmt: str):
    """The empty roster template (no personal data, so no audit record)."""
    if fmt not in TEMPLATES:
        raise NotFound("Format templat tidak dikenal.", code="not_found")
    mimetype, build = TEMPLATES[fmt]
    resp = Response(build(), mimetype=mimetype)
    resp.headers["Content-Disposition"] = f"attachment; filename=templat-daftar-pegawai.{fmt}"
    return resp


def _roster_page(status: int = 200, **ctx):
    summary = reports.roster_summary(web.uow(), current_principal().instansi_id)
    return render_template("hr/roster.html", summary=summary, **ctx), status


@bp.route("/daftar-pegawai", methods=["GET", "POST"])
@staff_page("hr")
def roster_upload():
    if request.method != "POST":  # GET, and HEAD (which CSRF protection does not check)
        return _roster_page()
    # The form is checked here rather than by CSRFProtect, which would parse it under the 64 KB limit.
    settings = web.settings()
    request.max_content_length = settings.max_upload_bytes
    limit_mb = settings.max_upload_bytes // (1024 * 1024)
    try:
        validate_csrf(request.form.get("csrf_token"))
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return _roster_page(413, error=f"Berkas terlalu besar (maksimal {limit_mb} MB).")
    except ValueError:  # wtforms.ValidationError: missing, expired or forged token
        return _roster_page(400, error="Formulir kedaluwarsa atau tidak sah. Muat ulang halaman, lalu unggah lagi.")
    if upload is None or not upload.filename:
        return _roster_page(422, error="Pilih berkas CSV atau XLSX terlebih dahulu.")
    who = current_principal()
    try:
        people = roster.parse_file(upload.read(), settings.max_roster_rows)
        counts = roster.replace(web.uow(), who.instansi_id, people, who.key, upload.filename[:100])
    except NetralitasError as exc:  # a refused file: the page says why (the request's writes roll back)
        return _roster_page(status_of(exc), error=exc.message, problems=exc.extra.get("problems", []))
    return _roster_page(done=counts, filename=upload.filename)


csrf.exempt(roster_upload)
