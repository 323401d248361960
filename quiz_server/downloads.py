"""File downloads shared by the API and the pages: completion report exports and certificate PDFs.

Web layer: builds Flask responses around the services. The audit record of each download is added
to the request's unit of work, which :mod:`quiz_server.web` commits when the view answers below 400,
before the first byte of the file leaves. A streamed CSV reads its rows after that commit, through
the same unit of work, which :func:`stream` closes after the last row (Flask runs the request's
teardown, which closes the unit of work, once when the view returns and again when the stream
ends: the session the rows are read with is opened in between, and would otherwise stay open).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator

from flask import Response, jsonify, send_file, stream_with_context

from netralitas.errors import InvalidInput
from quiz_server.config import Settings
from quiz_server.models import Certificate
from quiz_server.services import certificate_pdf, exports, report_people, reports
from quiz_server.services.reports import Filters
from quiz_server.uow import UnitOfWork

REPORT_FORMATS = ("json", "csv", "xlsx")


def stream(uow: UnitOfWork, chunks: Iterable[str], mimetype: str) -> Response:
    """A response that sends ``chunks`` as they are produced and then closes ``uow``'s sessions
    (also when the client goes away mid-stream)."""

    def closing() -> Iterator[str]:
        try:
            yield from chunks
        finally:
            uow.close()

    return Response(stream_with_context(closing()), mimetype=mimetype)


def report(uow: UnitOfWork, settings: Settings, f: Filters, fmt: str, actor: str) -> Response:
    """The completion report in ``fmt``, with its export in the audit log."""
    if fmt not in REPORT_FORMATS:
        raise InvalidInput("Format harus salah satu dari: json, csv, xlsx.", code="invalid_format")
    zone = settings.zone
    report = reports.completion(uow, f, zone)
    people = report["totals"]["roster"]
    if fmt == "json":
        exports.record_export(uow, actor, fmt, f, 0)
        resp = jsonify(report)
    elif fmt == "csv":
        exports.record_export(uow, actor, fmt, f, people)
        resp = stream(uow, exports.csv_chunks(report, report_people.people(uow, f, zone), zone), "text/csv")
        resp.headers["Content-Disposition"] = f'attachment; filename="{exports.filename(report, "csv")}"'
    else:
        # The workbook is assembled in a temporary file (openpyxl write-only mode) and sent from there;
        # it is written before the audit record so that the write transaction stays short.
        tmp = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it when the response ends
        exports.write_xlsx(report, report_people.people(uow, f, zone), tmp, zone)
        tmp.seek(0)
        exports.record_export(uow, actor, fmt, f, people)
        resp = send_file(
            tmp, mimetype=exports.XLSX_TYPE, as_attachment=True, download_name=exports.filename(report, "xlsx")
        )
    resp.headers["Cache-Control"] = "no-store"
    return resp


def certificate(uow: UnitOfWork, settings: Settings, cert: Certificate, actor: str, base_url: str) -> Response:
    """The certificate's PDF (refused when revoked), with the download in the audit log."""
    data = certificate_pdf.download(uow, settings, cert, actor, base_url)
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="sertifikat-{cert.code}.pdf"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
