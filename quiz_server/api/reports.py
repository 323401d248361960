"""Completion reports: one instansi for its HR (JSON, CSV, XLSX), and national aggregates for admins."""

from __future__ import annotations

import tempfile

from flask import Response, jsonify, request, send_file, stream_with_context

from quiz_server.api import bp
from quiz_server.api.validation import document
from quiz_server.errors import ApiError
from quiz_server.security import current_principal, require
from quiz_server.services import exports, national, report_people, reports
from quiz_server.services.reports import Filters

FORMATS = ("json", "csv", "xlsx")


def export_response(f: Filters, fmt: str, actor: str) -> Response:
    """The report in ``fmt``, audit-logged before the first byte leaves. Shared with the HR pages."""
    if fmt not in FORMATS:
        raise ApiError(422, "invalid_format", "Format harus salah satu dari: json, csv, xlsx.")
    report = reports.completion(f)
    people = report["totals"]["roster"]
    exports.record_export(actor, fmt, f, people if fmt != "json" else 0)
    if fmt == "json":
        resp = jsonify(report)
    elif fmt == "csv":
        resp = Response(stream_with_context(exports.csv_chunks(report, report_people.people(f))), mimetype="text/csv")
        resp.headers["Content-Disposition"] = f'attachment; filename="{exports.filename(report, "csv")}"'
    else:
        # The workbook is assembled in a temporary file (openpyxl write-only mode) and sent from there.
        tmp = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it when the response ends
        exports.write_xlsx(report, report_people.people(f), tmp)
        tmp.seek(0)
        resp = send_file(
            tmp, mimetype=exports.XLSX_TYPE, as_attachment=True, download_name=exports.filename(report, "xlsx")
        )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/reports/completion")
@document(
    "GET",
    "/reports/completion",
    "Laporan penyelesaian pelatihan instansi sendiri (HR; admin dengan ?instansi=). Parameter: "
    "format=json|csv|xlsx, unit, from, to (TTTT-BB-HH, tanggal pengiriman kuis). Setiap unduhan dicatat.",
    responses={200: "Laporan", 403: "forbidden_instansi", 404: "not_found", 422: "invalid_date / invalid_format"},
)
@require("hr", "admin")
def completion():
    who = current_principal()
    f = reports.parse_filters(request.args, reports.resolve_instansi(who, request.args.get("instansi")))
    return export_response(f, request.args.get("format", "json"), who.key)


@bp.get("/reports/national")
@document(
    "GET",
    "/reports/national",
    "Angka nasional per instansi dan per modul (admin); kelompok di bawah lima orang ditampilkan '<5'. "
    "Parameter: from, to.",
    responses={200: "Angka agregat", 403: "forbidden", 422: "invalid_date"},
)
@require("admin")
def national_report():
    return jsonify(national.national(reports.parse_filters(request.args, None)))
