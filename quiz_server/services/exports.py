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
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from quiz_server.services import audit
from quiz_server.services.report_people import PersonRow
from quiz_server.services.reports import CONFLICT, LABELS, STATUSES, Filters
from quiz_server.uow import UnitOfWork

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

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
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", start_color="0B3D6B")
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
    """The people sheet as CSV text, about 64 KB at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(PEOPLE_COLUMNS)
    n = report["quiz_count"]
    for p in people:
        writer.writerow(person_cells(p, n, zone))
        if buf.tell() > 65536:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _header(ws: WriteOnlyWorksheet, titles: Iterable[str]) -> list[WriteOnlyCell]:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cells.append(cell)
    return cells


def _bold(ws: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.font = Font(bold=True)
    return cell


def _period_text(filters: dict[str, Any]) -> str:
    start, end = filters.get("from"), filters.get("to")
    if not start and not end:
        return "Semua waktu"
    return f"{start or 'awal'} s.d. {end or 'sekarang'}"


def _unit_row(name: str, row: dict[str, Any]) -> list[Any]:
    return [safe_text(name), row["roster"], *(row[s] for s in _PROGRESS), row["persen_selesai"], row[CONFLICT]]


def _summary_sheet(book: Workbook, report: dict[str, Any], zone: ZoneInfo) -> None:
    ws = book.create_sheet("Ringkasan")
    for letter, width in zip("ABCDEFGH", (42, 16, 14, 16, 18, 15, 12, 18), strict=True):
        ws.column_dimensions[letter].width = width
    filters = report["filters"]
    meta = [
        ("Instansi", report["instansi"]["name"]),
        ("Unit", filters.get("unit") or "Semua unit"),
        ("Periode", _period_text(filters)),
        ("Dibuat", _local(dt.datetime.fromisoformat(report["generated_at"]), zone)),
    ]
    ws.freeze_panes = f"B{len(meta) + 4}"  # the unit table's title row and the unit column stay in view
    ws.append([_bold(ws, "Laporan penyelesaian pelatihan Netralitas ASN")])
    for label, value in meta:
        ws.append([_bold(ws, label), safe_text(value)])
    ws.append([])
    ws.append(_header(ws, UNIT_COLUMNS))
    ws.append([_bold(ws, "Semua unit"), *_unit_row("", report["totals"])[1:]])
    for row in report["by_unit"]:
        ws.append(_unit_row(row["unit"], row))
    ws.append([])
    ws.append(_header(ws, MODULE_COLUMNS))
    for m in report["by_module"]:
        ws.append(
            [m["title"], m["roster"], m["belum_mencoba"], m["mencoba_belum_lulus"], m["lulus"], m["persen_lulus"]]
        )


def _people_sheet(book: Workbook, report: dict[str, Any], people: Iterable[PersonRow], zone: ZoneInfo) -> None:
    ws = book.create_sheet("Peserta")
    for letter, width in zip("ABCDEFGHI", (21, 32, 30, 30, 11, 12, 13, 19, 20), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.append(_header(ws, PEOPLE_COLUMNS))
    n = report["quiz_count"]
    for p in people:
        ws.append(person_cells(p, n, zone))  # the NIP is a string cell: a number would lose its last three digits


def write_xlsx(report: dict[str, Any], people: Iterable[PersonRow], target: IO[bytes] | str, zone: ZoneInfo) -> None:
    """Write the workbook with openpyxl's write-only mode: rows go to disk as they come."""
    book = Workbook(write_only=True)
    _summary_sheet(book, report, zone)
    _people_sheet(book, report, people, zone)
    book.save(target)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filename(report: dict[str, Any], ext: str) -> str:
    f = report["filters"]
    parts = ["laporan", report["instansi"]["id"], f.get("from") or "", f.get("to") or ""]
    return "-".join(p for p in parts if p) + f".{ext}"
