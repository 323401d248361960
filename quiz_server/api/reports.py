"""Completion reports: one instansi for its HR (JSON, CSV, XLSX), and national aggregates for admins."""

from __future__ import annotations

from flask import jsonify, request

from quiz_server import downloads, web
from quiz_server.api.endpoint import Call, endpoint
from quiz_server.services import national, reports


@endpoint(
    "GET",
    "/reports/completion",
    "Laporan penyelesaian pelatihan instansi sendiri (HR; admin dengan ?instansi=). Parameter: "
    "format=json|csv|xlsx, unit, from, to (TTTT-BB-HH, tanggal pengiriman kuis). Setiap unduhan dicatat.",
    roles=("hr", "admin"),
    responses={200: "Laporan", 403: "forbidden_instansi", 404: "not_found", 422: "invalid_date / invalid_format"},
)
def completion(call: Call):
    instansi_id = reports.resolve_instansi(call.uow, call.me, request.args.get("instansi"))
    f = reports.parse_filters(request.args, instansi_id)
    return downloads.report(call.uow, call.settings, f, request.args.get("format", "json"), call.me.key)


@endpoint(
    "GET",
    "/reports/national",
    "Angka nasional per instansi dan per modul (admin); kelompok di bawah lima orang ditampilkan '<5'. "
    "Parameter: from, to.",
    roles=("admin",),
    responses={200: "Angka agregat", 403: "forbidden", 422: "invalid_date"},
)
def national_report(call: Call):
    data = national.national(call.uow, reports.parse_filters(request.args, None), call.settings.zone)
    resp = jsonify(data)
    web.refresh_national_later(resp, data)
    return resp
