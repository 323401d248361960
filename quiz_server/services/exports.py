"""CSV and XLSX files of a completion report, written row by row so a large instansi fits in memory.

CSV holds one row per person (for scripts); XLSX holds a "Ringkasan" sheet (totals, by unit, by
module) and a "Peserta" sheet (one row per person), for people who open it in a spreadsheet.
Times are shown in ``zone`` (``Settings.zone``, the report time zone).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any
from zoneinfo import ZoneInfo

from xlsxwriter import Workbook
from xlsxwriter.format import Format

from quiz_server.services import audit
from quiz_server.services.report_people import PersonRow
from quiz_server.services.reports import CONFLICT, LABELS, STATUSES, Filters
from quiz_server.uow import UnitOfWork

PEOPLE_COLUMNS = (
    "NIP",
    "Nama",
    "Unit",
    "Jabatan",
    "Terdaftar",
    "Modul lulus",
    "Jumlah modul",
    "Status",
    "Terakhir mengerjakan",
)
# The conflict count comes last, after the percentage, so the columns before it keep their places.
_PROGRESS = tuple(s for s in STATUSES if s != CONFLICT)
UNIT_COLUMNS = ("Unit", "Di daftar pegawai", *(LABELS[s] for s in _PROGRESS), "Selesai (%)", LABELS[CONFLICT])
MODULE_COLUMNS = ("Kuis", "Di daftar pegawai", "Belum mencoba", "Mencoba, belum lulus", "Lulus", "Lulus (%)")
_HEADER_STYLE = {
    "bold": True,
    "font_color": "#FFFFFF",
    "bg_color": "#0B3D6B",
    "pattern": 1,
    "text_wrap": True,
    "valign": "vcenter",
}
# Every cell is written with a typed call (write_string, write_number), never the guessing write();
# these keep it so should one slip through.
_WRITER_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text that a spreadsheet shows as text: a leading = + - @ would otherwise start a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _local(when: dt.datetime | None, zone: ZoneInfo) -> str:
    if when is None:
        return ""
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def person_cells(p: PersonRow, n_quizzes: int, zone: ZoneInfo) -> list[Any]:
    """One person's row; for a NIP registered under another instansi only the roster's own fields and
    the conflict status (no modules, no dates of that learner)."""
    if p.conflict:
        registered, passed, last = "Di instansi lain", "", ""
    else:
        registered, passed, last = "Ya" if p.registered else "Tidak", p.passed, _local(p.last, zone)
    return [
        p.nip,
        safe_text(p.name),
        safe_text(p.unit),
        safe_text(p.position),
        registered,
        passed,
        n_quizzes,
        LABELS[p.status],
        last,
    ]


def record_export(uow: UnitOfWork, actor: str, fmt: str, f: Filters, rows: int) -> None:
    """Every export of personal data leaves a trace: who, when (the row's time), filters, row count.

    Added to the unit of work; its owner commits it before the first byte of the file leaves.
    """
    audit.record(uow, actor, "report_export", f"instansi:{f.instansi_id}", format=fmt, filters=f.public(), rows=rows)


def csv_chunks(report: dict[str, Any], people: Iterable[PersonRow], zone: ZoneInfo) -> Iterator[str]:
    """The people sheet as CSV text, about 64 KB at a time.

    A last column "Data per" carries the figures' freshness on every row (a CSV has no other place a
    spreadsheet or a parser would keep it: a comment line would break both)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    as_of = data_as_of_text(report, zone)
    writer.writerow([*PEOPLE_COLUMNS, "Data per"] if as_of else PEOPLE_COLUMNS)
    n = report["quiz_count"]
    tail = [as_of] if as_of else []
    for p in people:
        writer.writerow([*person_cells(p, n, zone), *tail])
        if buf.tell() > 65536:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


class _Sheet:
    """One worksheet written top to bottom, as XlsxWriter's constant-memory mode requires: each row
    goes to disk when the next one starts. Every text goes through :func:`_xlsx_text` and
    ``write_string``, so no value is ever read as a formula, a number or a link."""

    def __init__(self, book: Workbook, name: str, widths: Iterable[float], styles: dict[str, Format]) -> None:
        self.ws = book.add_worksheet(name)
        self.styles = styles
        self.row = 0
        for col, width in enumerate(widths):
            self.ws.set_column(col, col, width)

    def append(self, values: Iterable[Any], style: str | None = None, *, label: bool = False) -> None:
        """The next row; ``style`` for every cell, or with ``label`` a bold first cell only."""
        ws, row = self.ws, self.row
        fmt = self.styles[style] if style else None
        for col, value in enumerate(values):
            cell_fmt = self.styles["bold"] if label and col == 0 else fmt
            if value is None or value == "":
                if cell_fmt is not None:
                    ws.write_blank(row, col, None, cell_fmt)
            elif isinstance(value, str):
                ws.write_string(row, col, _xlsx_text(value), cell_fmt)
            else:
                ws.write_number(row, col, value, cell_fmt)
        self.row += 1


def _xlsx_text(value: str) -> str:
    """In constant-memory mode XlsxWriter copies a string that looks like its own rich-text markup
    (``<r>...</r>``) into the sheet's XML unescaped; such a text gets the same leading apostrophe as a
    formula would, so it stays text and cannot add XML of its own."""
    return "'" + value if value.startswith("<r>") and value.endswith("</r>") else value


def _period_text(filters: dict[str, Any]) -> str:
    start, end = filters.get("from"), filters.get("to")
    if not start and not end:
        return "Semua waktu"
    return f"{start or 'awal'} s.d. {end or 'sekarang'}"


_ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def data_as_of_text(report: dict[str, Any], zone: ZoneInfo) -> str | None:
    """'05-01-2026 10:04 WIB': when the figures of the summary tables were last brought up to date
    (``data_as_of``, ISO UTC), in the report's time zone; None when the report does not say."""
    iso = report.get("data_as_of")
    if not iso:
        return None
    when = dt.datetime.fromisoformat(iso)
    local = (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(zone)
    return f"{local:%d-%m-%Y %H:%M} {_ZONE_NAMES.get(str(zone)) or local.tzname() or ''}".rstrip()


def _unit_row(name: str, row: dict[str, Any]) -> list[Any]:
    return [safe_text(name), row["roster"], *(row[s] for s in _PROGRESS), row["persen_selesai"], row[CONFLICT]]


def _summary_sheet(book: Workbook, report: dict[str, Any], zone: ZoneInfo, styles: dict[str, Format]) -> None:
    ws = _Sheet(book, "Ringkasan", (42, 16, 14, 16, 18, 15, 12, 18), styles)
    filters = report["filters"]
    meta = [
        ("Instansi", report["instansi"]["name"]),
        ("Unit", filters.get("unit") or "Semua unit"),
        ("Periode", _period_text(filters)),
        ("Dibuat", _local(dt.datetime.fromisoformat(report["generated_at"]), zone)),
    ]
    as_of = data_as_of_text(report, zone)
    if as_of:
        meta.append(("Data per", as_of))
    # The unit table's title row and the unit column stay in view.
    ws.ws.freeze_panes(len(meta) + 3, 1)
    ws.append(["Laporan penyelesaian pelatihan Netralitas ASN"], "bold")
    for label, value in meta:
        ws.append([label, safe_text(value)], label=True)
    ws.append([])
    ws.append(UNIT_COLUMNS, "header")
    ws.append(["Semua unit", *_unit_row("", report["totals"])[1:]], label=True)
    for row in report["by_unit"]:
        ws.append(_unit_row(row["unit"], row))
    ws.append([])
    ws.append(MODULE_COLUMNS, "header")
    for m in report["by_module"]:
        ws.append(
            [m["title"], m["roster"], m["belum_mencoba"], m["mencoba_belum_lulus"], m["lulus"], m["persen_lulus"]]
        )


def _people_sheet(
    book: Workbook, report: dict[str, Any], people: Iterable[PersonRow], zone: ZoneInfo, styles: dict[str, Format]
) -> None:
    ws = _Sheet(book, "Peserta", (21, 32, 30, 30, 11, 12, 13, 19, 20), styles)
    ws.ws.freeze_panes(1, 0)
    ws.append(PEOPLE_COLUMNS, "header")
    n = report["quiz_count"]
    for p in people:
        ws.append(person_cells(p, n, zone))  # the NIP is a string cell: a number would lose its last three digits


def write_xlsx(report: dict[str, Any], people: Iterable[PersonRow], target: IO[bytes] | str, zone: ZoneInfo) -> None:
    """Write the workbook with XlsxWriter's constant-memory mode: each row goes to a temporary file
    as soon as the next begins, and the parts are zipped into ``target`` at the end."""
    book = Workbook(target, _WRITER_OPTIONS)
    styles = {"bold": book.add_format({"bold": True}), "header": book.add_format(_HEADER_STYLE)}
    try:
        _summary_sheet(book, report, zone, styles)
        _people_sheet(book, report, people, zone, styles)
    finally:
        book.close()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filename(report: dict[str, Any], ext: str) -> str:
    f = report["filters"]
    parts = ["laporan", report["instansi"]["id"], f.get("from") or "", f.get("to") or ""]
    return "-".join(p for p in parts if p) + f".{ext}"
