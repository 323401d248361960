"""Roster upload: HR replaces its instansi's staff list with a CSV/XLSX file or JSON rows."""

from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from quiz_server.api import bp
from quiz_server.api.validation import document
from quiz_server.errors import ApiError
from quiz_server.security import current_principal, require
from quiz_server.services import reports, roster
from quiz_server.services.idempotency import idempotent


@bp.post("/roster")
@document(
    "POST",
    "/roster",
    "Unggah daftar pegawai instansi sendiri: berkas CSV/XLSX pada isian multipart 'file' (kolom NIP, nama, "
    'unit, jabatan), atau JSON {"rows": [{"nip", "nama", "unit", "jabatan"}]}. Satu baris salah: '
    "seluruh berkas ditolak. Daftar lama diganti.",
    responses={
        200: "Daftar pegawai diganti",
        403: "forbidden_instansi",
        413: "payload_too_large",
        422: "roster_invalid",
    },
)
@require("hr", "admin")
def upload_roster():
    # Only this route accepts a large body; every JSON endpoint keeps the global 64 KB limit.
    request.max_content_length = current_app.config["MAX_UPLOAD_BYTES"]
    return _upload()


@idempotent()
def _upload():
    who = current_principal()
    instansi_id = reports.resolve_instansi(who, request.args.get("instansi"))
    if request.is_json:
        try:
            body = request.get_json()
        except (BadRequest, RecursionError):
            raise ApiError(400, "invalid_json", "Data JSON tidak dapat dibaca.") from None
        people = roster.parse_json_rows(body.get("rows") if isinstance(body, dict) else None)
        source = "json"
    elif "file" in request.files:
        upload = request.files["file"]
        people = roster.parse_file(upload.read())
        source = (upload.filename or "berkas")[:100]
    else:
        raise ApiError(
            422,
            "roster_file_missing",
            "Kirim berkas CSV/XLSX pada isian 'file' (multipart/form-data) atau JSON {\"rows\": [...]}.",
        )
    counts = roster.replace(instansi_id, people, who.key, source)
    return jsonify({"roster": {"instansi_id": instansi_id, **counts}})
