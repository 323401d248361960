"""Read the first sheet of an XLSX file within hard limits (roster uploads from HR).

An XLSX file is a zip of XML parts, and both layers can be made into bombs. openpyxl trusts both: in
read-only mode it pads every row out to the sheet's declared ``<dimension>`` (a 1.6 KB file claiming
``A1:Z1000000`` cost five minutes of CPU) and it reads every shared string into memory before the
first row (a 208 KB part that unpacks to hundreds of megabytes took 660 MB and 100 s). This module
reads the few parts a roster needs itself, with pyexpat, and stops at the first limit it meets:

1. the zip: at most ``MAX_PARTS`` parts, each at most ``MAX_PART_BYTES`` unpacked and, past
   ``RATIO_FLOOR``, at most ``MAX_RATIO`` times its packed size, all checked on the zip directory
   before anything is unpacked (zipfile never unpacks more than the directory declares, and checks
   the CRC); the bytes read are counted again while streaming;
2. XML: no document type declaration at all (so no entity expansion of any kind);
3. shared strings: at most ``MAX_SHARED_STRINGS`` strings and ``MAX_SHARED_CHARS`` characters;
4. the sheet, streamed: a declared dimension, a row number or a column beyond the caps is refused
   as soon as it is read; every cell counts against ``max_cells``, every value against
   ``MAX_CELL_CHARS`` (Excel's own limit per cell).

Rows come out as lists of values (str, int, float, bool, or None for an empty cell), one per sheet
row and numbered as the sheet numbers them: a row missing from the file comes out as ``[]``. Each
list is only as long as its last non-empty cell, never padded to a declared width. Dates come out as
their serial numbers (a roster has no date columns). See docs/security.md, "Abuse limits".
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any
from xml.parsers import expat

from netralitas.errors import InvalidInput

MAX_PARTS = 1_000  # a workbook saved by Excel or LibreOffice has a few dozen
MAX_PART_BYTES = 128 * 1024 * 1024  # any one part, unpacked (a 200,000-row sheet is about 60 MB)
RATIO_FLOOR = 1024 * 1024  # parts up to this size may compress as well as they like
MAX_RATIO = 100  # real sheets compress 5-20 times; a bomb compresses about 1,000 times
MAX_COLUMNS = 256  # column IV; a roster needs 4, a full personnel export a few dozen
MAX_SHARED_STRINGS = 1_000_000
MAX_SHARED_CHARS = 32 * 1024 * 1024
MAX_CELL_CHARS = 32_767
ROW_SLACK = 1_000  # the title row and blank lines on top of the data rows a roster may have
CELLS_PER_ROW = 12
MIN_CELLS = 100_000
CHUNK = 64 * 1024

_HELP = "Hapus baris dan kolom kosong di akhir lembar kerja, simpan ulang, lalu unggah lagi (atau unggah .csv)."


class RosterTooLarge(InvalidInput):
    code = "roster_too_large"
    message = "Berkas XLSX terlalu besar untuk diimpor. " + _HELP


class RosterUnreadable(InvalidInput):
    code = "roster_unreadable"
    message = "Berkas XLSX tidak dapat dibaca. Simpan ulang sebagai .xlsx atau .csv."


def _too_large(what: str) -> RosterTooLarge:
    return RosterTooLarge(f"Berkas XLSX ditolak: {what}. {_HELP}")


def _thousands(n: int) -> str:
    return f"{n:_}".replace("_", ".")


def read_rows(data: bytes, max_rows: int) -> Iterator[list[Any]]:
    """The first worksheet's rows; raises :class:`RosterTooLarge` or :class:`RosterUnreadable`.

    ``max_rows`` is the number of data rows a roster may have (``Settings.max_roster_rows``); the
    sheet may number its rows up to ``max_rows + ROW_SLACK`` and hold ``max_rows * CELLS_PER_ROW``
    cells (at least ``MIN_CELLS``).
    """
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise RosterUnreadable() from None
    with book:
        _check_parts(book)
        sheet, shared_part = _locate(book)
        shared = _shared_strings(book, shared_part) if shared_part else []
        reader = _SheetReader(shared, max_rows + ROW_SLACK, max(max_rows * CELLS_PER_ROW, MIN_CELLS))
        with _open(book, sheet) as part:
            for _ in _feed(reader.parser, part):
                yield from reader.take()


# -- the zip ------------------------------------------------------------------------------------------


def _check_parts(book: zipfile.ZipFile) -> None:
    parts = book.infolist()
    if len(parts) > MAX_PARTS:
        raise _too_large(f"berisi {_thousands(len(parts))} bagian")
    for info in parts:
        if info.file_size > MAX_PART_BYTES:
            raise _too_large(f"bagian {info.filename[:100]} berukuran {info.file_size // 2**20} MB setelah dibuka")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _too_large(f"bagian {info.filename[:100]} mengembang lebih dari {MAX_RATIO} kali saat dibuka")


class _Counted(io.RawIOBase):
    """A part's stream that stops at the size its zip entry declared, whatever the data says."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw, self.left = raw, limit

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(CHUNK if n < 0 else n)
        self.left -= len(chunk)
        if self.left < 0:
            raise _too_large("isinya lebih besar daripada yang dinyatakan")
        return chunk

    def close(self) -> None:
        self.raw.close()
        super().close()


def _open(book: zipfile.ZipFile, name: str) -> _Counted:
    try:
        info = book.getinfo(name)
        return _Counted(book.open(info), info.file_size)
    except KeyError:
        raise RosterUnreadable() from None


def _read_small(book: zipfile.ZipFile, name: str, start: Callable[[str, dict[str, str]], None]) -> None:
    with _open(book, name) as part:
        for _ in _feed(_parser(start), part):
            pass


# -- XML ----------------------------------------------------------------------------------------------


def _no_dtd(*_args: object) -> None:
    raise RosterUnreadable("Berkas XLSX memuat deklarasi DTD, yang tidak pernah ada di berkas Excel. Simpan ulang.")


def _parser(
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> expat.XMLParserType:
    """An expat parser that refuses any DTD; element names arrive as ``"namespace local"``."""
    p = expat.ParserCreate(namespace_separator=" ")
    p.buffer_text = True
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.StartDoctypeDeclHandler = _no_dtd
    p.EntityDeclHandler = _no_dtd
    p.StartElementHandler = lambda name, attrs: start(name.rpartition(" ")[2], attrs)
    if end is not None:
        p.EndElementHandler = lambda name: end(name.rpartition(" ")[2])
    if text is not None:
        p.CharacterDataHandler = text
    return p


def _feed(p: expat.XMLParserType, part: IO[bytes]) -> Iterator[None]:
    """Feed ``part`` to ``p`` a chunk at a time, pausing after each so callers can hand on rows."""
    try:
        while chunk := part.read(CHUNK):
            p.Parse(chunk, False)
            yield
        p.Parse(b"", True)
    except (expat.ExpatError, zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError):
        # broken XML, a bad CRC, a truncated or encrypted part, an unknown compression method
        raise RosterUnreadable() from None
    yield


# -- which parts hold the first sheet -----------------------------------------------------------------


def _relations(book: zipfile.ZipFile, rels_name: str, base: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, part name) of one ``.rels`` part, targets resolved against ``base``."""
    found: dict[str, tuple[str, str]] = {}

    def start(local: str, attrs: dict[str, str]) -> None:
        if local == "Relationship" and attrs.get("Id") and attrs.get("Target"):
            target = attrs["Target"]
            name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            found[attrs["Id"]] = (attrs.get("Type", ""), name)

    if rels_name in book.NameToInfo:
        _read_small(book, rels_name, start)
    return found


def _locate(book: zipfile.ZipFile) -> tuple[str, str | None]:
    """(first worksheet part, shared strings part or None), as Excel and openpyxl find them."""
    office = [n for t, n in _relations(book, "_rels/.rels", "").values() if t.endswith("/officeDocument")]
    workbook = office[0] if office else "xl/workbook.xml"
    folder, leaf = posixpath.split(workbook)
    rels = _relations(book, posixpath.join(folder, "_rels", leaf + ".rels"), folder)
    sheet_ids: list[str] = []

    def start(local: str, attrs: dict[str, str]) -> None:
        if local == "sheet":
            # r:id, in the transitional or the strict relationships namespace
            rid = next((v for k, v in attrs.items() if k.endswith(" id")), None)
            if rid:
                sheet_ids.append(rid)

    _read_small(book, workbook, start)
    sheets = [rels[r][1] for r in sheet_ids if r in rels and rels[r][0].endswith("/worksheet")]
    if not sheets:
        raise RosterUnreadable("Berkas XLSX tidak berisi lembar kerja. Simpan ulang sebagai .xlsx atau .csv.")
    shared = next((n for t, n in rels.values() if t.endswith("/sharedStrings")), None)
    return sheets[0], shared if shared in book.NameToInfo else None


# -- shared strings -----------------------------------------------------------------------------------


def _shared_strings(book: zipfile.ZipFile, name: str) -> list[str]:
    strings: list[str] = []
    parts: list[str] = []
    state = {"si": False, "rph": 0, "collect": False, "chars": 0}

    def start(local: str, attrs: dict[str, str]) -> None:
        if local == "sst":
            declared = attrs.get("uniqueCount") or ""
            if declared.isdigit() and int(declared) > MAX_SHARED_STRINGS:
                raise _too_large(f"menyatakan {_thousands(int(declared))} teks bersama")
        elif local == "si":
            state["si"] = True
            parts.clear()
        elif local == "rPh":  # phonetic guide runs (East Asian text) are not part of the value
            state["rph"] += 1
        elif local == "t" and state["si"] and not state["rph"]:
            state["collect"] = True

    def end(local: str) -> None:
        if local == "t":
            state["collect"] = False
        elif local == "rPh":
            state["rph"] -= 1
        elif local == "si":
            state["si"] = False
            strings.append("".join(parts))
            if len(strings) > MAX_SHARED_STRINGS:
                raise _too_large(f"berisi lebih dari {_thousands(MAX_SHARED_STRINGS)} teks bersama")

    def text(data: str) -> None:
        if state["collect"]:
            state["chars"] += len(data)
            if state["chars"] > MAX_SHARED_CHARS:
                raise _too_large(f"teks bersamanya lebih dari {MAX_SHARED_CHARS // 2**20} juta karakter")
            parts.append(data)

    with _open(book, name) as part:
        for _ in _feed(_parser(start, end, text), part):
            pass
    return strings


# -- the sheet ----------------------------------------------------------------------------------------


def _column(ref: str) -> int:
    """1-based column of a cell reference such as ``AB12`` (``$AB$12`` too)."""
    letters = ref.replace("$", "").upper()
    letters = letters[: len(letters) - len(letters.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))]
    if not letters:
        raise RosterUnreadable()
    if len(letters) > 3:  # past XFD, the widest column Excel has
        return MAX_COLUMNS + 1
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col


def _row_of(ref: str) -> int:
    digits = ref.replace("$", "").lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    return int(digits) if digits.isdigit() else 0


class _SheetReader:
    """pyexpat handlers for one worksheet; completed rows wait in ``ready`` until :meth:`take`."""

    def __init__(self, shared: list[str], max_row: int, max_cells: int) -> None:
        self.shared, self.max_row, self.max_cells = shared, max_row, max_cells
        self.ready: list[list[Any]] = []
        self.in_data = False
        self.last_row = 0
        self.row = 0
        self.cells: list[tuple[int, Any]] = []
        self.next_col = 1
        self.cell_count = 0
        self.col = 0
        self.kind = "n"
        self.parts: list[str] = []
        self.chars = 0
        self.collect = False
        self.in_inline = False
        self.rph = 0
        self.parser = _parser(self.start, self.end, self.text)

    def take(self) -> list[list[Any]]:
        rows, self.ready = self.ready, []
        return rows

    def start(self, local: str, attrs: dict[str, str]) -> None:
        if local == "dimension":
            self._check_dimension(attrs.get("ref") or "")
        elif local == "sheetData":
            self.in_data = True
        elif not self.in_data:
            return
        elif local == "row":
            r = attrs.get("r")
            n = int(r) if r and r.isdigit() else self.last_row + 1
            if n <= self.last_row:
                raise RosterUnreadable()
            self._check_row(n)
            self.row, self.cells, self.next_col = n, [], 1
        elif local == "c":
            ref = attrs.get("r")
            self.col = _column(ref) if ref else self.next_col
            if self.col > MAX_COLUMNS:
                raise _too_large(f"ada isian di luar kolom ke-{MAX_COLUMNS}")
            self.cell_count += 1
            if self.cell_count > self.max_cells:
                raise _too_large(f"berisi lebih dari {_thousands(self.max_cells)} sel")
            self.next_col = self.col + 1
            self.kind = attrs.get("t") or "n"
            self.parts, self.chars = [], 0
        elif local == "v":
            self.collect = True
        elif local == "is":
            self.in_inline = True
        elif local == "rPh":
            self.rph += 1
        elif local == "t" and self.in_inline and not self.rph:
            self.collect = True

    def end(self, local: str) -> None:
        if local in ("v", "t"):
            self.collect = False
        elif local == "is":
            self.in_inline = False
        elif local == "rPh":
            self.rph -= 1
        elif local == "c" and self.in_data:
            value = self._value()
            if value is not None:
                self.cells.append((self.col, value))
        elif local == "row" and self.in_data:
            self._finish_row()
        elif local == "sheetData":
            self.in_data = False

    def text(self, data: str) -> None:
        if self.collect:
            self.chars += len(data)
            if self.chars > MAX_CELL_CHARS:
                raise _too_large(f"ada sel yang berisi lebih dari {_thousands(MAX_CELL_CHARS)} karakter")
            self.parts.append(data)

    def _check_dimension(self, ref: str) -> None:
        last = ref.rpartition(":")[2]
        if not last:
            return
        if _row_of(last) > self.max_row:
            raise _too_large(
                f"lembar kerjanya menyatakan {_thousands(_row_of(last))} baris "
                f"(paling banyak {_thousands(self.max_row)})"
            )
        if _column(last) > MAX_COLUMNS:
            raise _too_large(f"lembar kerjanya menyatakan lebih dari {MAX_COLUMNS} kolom")

    def _check_row(self, n: int) -> None:
        if n > self.max_row:
            raise _too_large(f"ada baris bernomor {_thousands(n)} (paling banyak {_thousands(self.max_row)})")

    def _finish_row(self) -> None:
        for _ in range(self.last_row + 1, self.row):
            self.ready.append([])  # rows the file leaves out: keeps row numbers as the sheet shows them
        values: list[Any] = [None] * (max((c for c, _ in self.cells), default=0))
        for col, value in self.cells:
            values[col - 1] = value
        self.ready.append(values)
        self.last_row = self.row

    def _value(self) -> Any:
        text = "".join(self.parts)
        kind = self.kind
        if kind == "s":
            try:
                return self.shared[int(text)]
            except (ValueError, IndexError):
                raise RosterUnreadable() from None
        if kind in ("inlineStr", "str", "e", "d"):
            return text or None
        if kind == "b":
            return text.strip() in ("1", "true") if text else None
        if not text:
            return None
        try:  # as openpyxl does: a number with a point or an exponent is a float, else an int
            return float(text) if any(ch in text for ch in ".eE") else int(text)
        except ValueError:
            raise RosterUnreadable() from None
