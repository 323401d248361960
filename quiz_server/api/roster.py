"""Roster upload: HR replaces its instansi's staff list with a CSV/XLSX file or JSON rows."""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest

from netralitas.errors import BadRequest, InvalidInput
from quiz_server.api import idempotency
from quiz_server.api.endpoint import Call, endpoint
from quiz_server.services import reports, roster


@endpoint(
    "POST",
    "/roster",
    "Unggah daftar pegawai instansi sendiri: berkas CSV/XLSX pada isian multipart 'file' (kolom NIP, nama, "
    'unit, jabatan; jabatan boleh kosong), atau JSON {"rows": [{"nip", "nama", "unit", "jabatan"}]}. Satu baris salah: '
    "seluruh berkas ditolak. Daftar lama diganti.",
    roles=("hr", "admin"),
    responses={
        200: "Daftar pegawai diganti",
        403: "forbidden_instansi",
        413: "payload_too_large",
        422: "roster_invalid",
    },
)
def upload_roster(call: Call):
    # Only this route accepts a large body; every JSON endpoint keeps the global 64 KB limit. The
    # limit must be raised before anything reads the body, the Idempotency-Key check included, so
    # this route applies idempotency itself rather than with ``idempotent=True``.
    request.max_content_length = call.settings.max_upload_bytes
    return idempotency.guarded(call, lambda: _replace(call))


def _replace(call: Call):
    instansi_id = reports.resolve_instansi(call.uow, call.me, request.args.get("instansi"))
    limit = call.settings.max_roster_rows
    if request.is_json:
        try:
            body = request.get_json()
        except (WerkzeugBadRequest, RecursionError):
            raise BadRequest("Data JSON tidak dapat dibaca.", code="invalid_json") from None
        people = roster.parse_json_rows(body.get("rows") if isinstance(body, dict) else None, limit)
        source = "json"
    elif "file" in request.files:
        upload = request.files["file"]
        people = roster.parse_file(upload.read(), limit)
        source = (upload.filename or "berkas")[:100]
    else:
        raise InvalidInput(
            "Kirim berkas CSV/XLSX pada isian 'file' (multipart/form-data) atau JSON {\"rows\": [...]}.",
            code="roster_file_missing",
        )
    counts = roster.replace(call.uow, instansi_id, people, call.me.key, source)
    return jsonify({"roster": {"instansi_id": instansi_id, **counts}})
