"""Roster upload: read a CSV or XLSX staff list, check every row, then replace the instansi's roster.

A file with any bad row is refused whole, with every problem listed by row number, so HR fixes the
file once and uploads again; nothing is written until the whole file is clean. Only the NIP, the
name and the unit must be filled in (the unit is what the reports group by); a blank jabatan is not
a bad row, since a real staff list has people awaiting a position. The jabatan *column* is still
required, so a mistitled column is caught rather than silently imported as blanks. The example row of
the downloadable template (``roster_template``) is recognised by its name and skipped.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from netralitas.errors import InvalidInput, InvalidNIP, NetralitasError
from netralitas.nip import parse_nip
from quiz_server.models import RosterEntry
from quiz_server.models.base import utcnow
from quiz_server.services import audit, summary, xlsx_safe
from quiz_server.uow import UnitOfWork

MAX_LENGTH = 200
MAX_LISTED_PROBLEMS = 500  # enough to fix a file; a 100,000-row mistake does not need 100,000 lines
# Accepted column titles (compared lower-case, spaces and underscores collapsed), Indonesian and English.
COLUMNS: dict[str, tuple[str, ...]] = {
    "nip": ("nip", "ni pppk", "nip/ni pppk", "nip / ni pppk"),
    "name": ("nama", "nama lengkap", "name", "full name"),
    "unit": ("unit", "unit kerja", "satuan kerja", "work unit"),
    "position": ("jabatan", "nama jabatan", "position", "job title"),
    "kind": ("jenis", "jenis asn", "kind", "type"),  # optional: PNS or PPPK
}
REQUIRED = ("nip", "name", "unit", "position")  # columns the header must have
OPTIONAL_VALUES = ("position",)  # cells that may be blank in those columns
TITLES = {"nip": "NIP", "name": "nama", "unit": "unit", "position": "jabatan", "kind": "jenis"}
_SCIENTIFIC = re.compile(r"^\d(?:[.,]\d+)?[eE]\+?\d+$")
# The name cell of the template's example row; a row with it is skipped, so a file uploaded with the
# example still in it imports the real rows only.
EXAMPLE_NAME = "CONTOH - hapus baris ini"


@dataclass(frozen=True)
class Person:
    nip: str
    name: str
    unit: str
    position: str


def _rejected(problems: list[dict[str, Any]]) -> NetralitasError:
    n_rows = len({p["row"] for p in problems})
    return InvalidInput(
        f"Berkas ditolak: {n_rows} baris bermasalah. Tidak ada data yang diimpor; perbaiki berkas lalu unggah lagi.",
        code="roster_invalid",
        problems=problems[:MAX_LISTED_PROBLEMS],
        problem_count=len(problems),
    )


def _key(title: object) -> str:
    return " ".join(str(title or "").replace("_", " ").split()).lower()


def _header_map(header: list[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        for field, names in COLUMNS.items():
            if _key(title) in names and field not in found:
                found[field] = index
    missing = [TITLES[f] for f in REQUIRED if f not in found]
    if missing:
        raise InvalidInput(
            f"Kolom wajib tidak ditemukan: {', '.join(missing)}. Baris pertama berkas harus berisi judul kolom "
            "NIP, nama, unit, jabatan (boleh juga: NIP, name, unit, position).",
            code="roster_columns",
        )
    return found


def _csv_rows(data: bytes) -> Iterator[list[object]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # "CSV" saved by Excel on Windows
    first = text.split("\n", 1)[0]
    # Excel in an Indonesian locale separates with ';' (the comma is the decimal mark there).
    delimiter = max(";,\t", key=first.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error:  # a field over csv's size limit (131,072 characters), or a broken quote
        raise InvalidInput(
            "Berkas CSV tidak dapat dibaca: ada isian yang terlalu panjang atau tanda kutip yang tidak ditutup. "
            "Periksa berkasnya, atau simpan sebagai .xlsx.",
            code="roster_unreadable",
        ) from None


def read_table(data: bytes, max_rows: int) -> Iterator[list[object]]:
    """Rows of the first sheet (XLSX, recognised by its zip signature) or of the CSV text.

    XLSX goes through ``xlsx_safe`` rather than openpyxl, which pads rows to the declared size and
    loads every shared string first (a 1.6 KB file could cost minutes, a 208 KB one 660 MB).
    """
    if not data.strip():
        raise InvalidInput("Berkas kosong. Isi dengan kolom NIP, nama, unit, jabatan.", code="roster_empty")
    return xlsx_safe.read_rows(data, max_rows) if data[:4] == b"PK\x03\x04" else _csv_rows(data)


def _nip_text(value: object) -> tuple[str, str | None]:
    """The NIP as text, or a message when a spreadsheet has already destroyed it."""
    if (isinstance(value, int | float) and not isinstance(value, bool)) or _SCIENTIFIC.match(str(value).strip()):
        # A spreadsheet number keeps only 15 significant digits: the last digits of an NIP are gone.
        return "", (
            "NIP tersimpan sebagai angka sehingga digit terakhirnya hilang. "
            "Format kolom NIP sebagai Teks, lalu isi ulang."
        )
    return str(value or "").strip(), None


def _check_nip(value: object, kind: str) -> tuple[str | None, str | None]:
    text, problem = _nip_text(value)
    if problem:
        return None, problem
    kinds = [kind] if kind else ["pns", "pppk"]
    first_error: InvalidNIP | None = None
    for k in kinds:
        try:
            return parse_nip(text, k).digits, None
        except InvalidNIP as exc:
            first_error = first_error or exc
    assert first_error is not None
    return None, first_error.message


def _check_count(n: int, limit: int) -> None:
    if n > limit:
        raise InvalidInput(
            f"Berkas berisi lebih dari {limit:_} baris data.".replace("_", "."), code="roster_too_many_rows"
        )


def validate(records: Iterable[tuple[int, dict[str, object]]]) -> list[Person]:
    """Check every record (row number, fields); return the people, or raise with every problem."""
    people: list[Person] = []
    problems: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    for row, fields in records:
        bad = []
        kind = _key(fields.get("kind"))
        if kind not in ("", "pns", "pppk"):
            bad.append(("kind", "Jenis harus PNS atau PPPK (atau kosongkan kolom jenis)."))
            kind = ""
        if fields.get("nip") in (None, ""):
            bad.append(("nip", "NIP wajib diisi."))
            nip = None
        else:
            nip, message = _check_nip(fields["nip"], kind)
            if message:
                bad.append(("nip", message))
        text = {f: " ".join(str(fields.get(f) or "").split()) for f in ("name", "unit", "position")}
        for field, value in text.items():
            if not value and field not in OPTIONAL_VALUES:
                bad.append((field, f"Kolom {TITLES[field]} wajib diisi."))
            elif len(value) > MAX_LENGTH:
                bad.append((field, f"Kolom {TITLES[field]} paling banyak {MAX_LENGTH} karakter."))
        if nip and nip in first_row:
            bad.append(("nip", f"NIP ini sudah ada di baris {first_row[nip]}."))
        elif nip:
            first_row[nip] = row
        if bad:
            problems.extend({"row": row, "field": TITLES[f], "message": m} for f, m in bad)
        elif nip:
            people.append(Person(nip, text["name"], text["unit"], text["position"]))
    if problems:
        raise _rejected(problems)
    if not people:
        raise InvalidInput("Berkas tidak berisi satu baris data pun di bawah judul kolom.", code="roster_empty")
    return people


def parse_file(data: bytes, max_rows: int) -> list[Person]:
    """Rows are numbered as a spreadsheet shows them: the title row is row 1.

    ``max_rows`` (``Settings.max_roster_rows``) bounds the data rows read.
    """
    rows = enumerate(read_table(data, max_rows), start=1)
    header: dict[str, int] | None = None
    records: list[tuple[int, dict[str, object]]] = []
    for number, cells in rows:
        if not any(str(c).strip() for c in cells if c is not None):
            continue  # blank lines, and the empty rows spreadsheets leave at the end
        if header is None:
            header = _header_map(cells)
            continue
        if _key(cells[header["name"]] if header["name"] < len(cells) else "") == _key(EXAMPLE_NAME):
            continue  # the template's example row
        records.append((number, {f: cells[i] if i < len(cells) else None for f, i in header.items()}))
        _check_count(len(records), max_rows)
    if header is None:
        raise InvalidInput("Berkas kosong. Isi dengan kolom NIP, nama, unit, jabatan.", code="roster_empty")
    return validate(records)


def parse_json_rows(rows: object, max_rows: int) -> list[Person]:
    """``[{"nip", "nama"|"name", "unit", "jabatan"|"position"}, ...]``; row 1 is the first item."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InvalidInput(
            "Isian 'rows' harus berupa daftar objek {nip, nama, unit, jabatan}.", code="validation_error"
        )
    _check_count(len(rows), max_rows)
    records = []
    for number, item in enumerate(rows, start=1):
        by_key = {_key(k): v for k, v in item.items()}
        fields = {f: next((by_key[n] for n in names if n in by_key), None) for f, names in COLUMNS.items()}
        records.append((number, fields))
    return validate(records)


def replace(uow: UnitOfWork, instansi_id: str, people: list[Person], actor: str, source: str) -> dict[str, int]:
    """Make the instansi's roster exactly ``people``: add, update, and remove who is no longer listed."""
    now = utcnow()
    s = uow.write()
    existing = {
        row.nip: row
        for row in s.execute(
            select(RosterEntry.id, RosterEntry.nip, RosterEntry.name, RosterEntry.unit, RosterEntry.position).where(
                RosterEntry.instansi_id == instansi_id
            )
        )
    }
    added, changed = [], []
    for p in people:
        old = existing.pop(p.nip, None)
        values = {"name": p.name, "unit": p.unit, "position": p.position, "uploaded_at": now, "uploaded_by": actor}
        if old is None:
            added.append({"instansi_id": instansi_id, "nip": p.nip, **values})
        elif (old.name, old.unit, old.position) != (p.name, p.unit, p.position):
            changed.append({"id": old.id, **values})
    gone = [row.id for row in existing.values()]
    if added:
        s.execute(insert(RosterEntry), added)
    if changed:
        s.execute(update(RosterEntry), changed)  # bulk UPDATE by primary key
    for i in range(0, len(gone), 1000):
        s.execute(delete(RosterEntry).where(RosterEntry.id.in_(gone[i : i + 1000])))
    counts = {
        "rows": len(people),
        "added": len(added),
        "updated": len(changed),
        "removed": len(gone),
        "unchanged": len(people) - len(added) - len(changed),
    }
    audit.record(uow, actor, "roster_upload", f"instansi:{instansi_id}", source=source, **counts)
    summary.mark_instansi(s.connection(), [instansi_id])  # the national rollup recounts it
    return counts
