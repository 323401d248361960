"""Abuse limits over real HTTP, on SQLite and PostgreSQL: roster XLSX bombs are refused fast and
small, and the links that leave the server (certificate verify URL and QR) never come from ``Host``.

The other limits of issue #15 are tested where their feature is: whitespace variants of an NIP share
one login budget and X-Forwarded-For counts only from a trusted proxy (test_api_guards.py), HEAD
runs no POST branch (test_pages.py), an oversized CSV field is a 422 (test_reports.py), and database
faults carry no statement parameters (tests/services/test_schema.py).
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from quiz_server.services import xlsx_safe
from tests.server.conftest import next_nip
from tests.server.test_certificates import issued
from tests.server.test_reports import roster_rows, staff, upload

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
HEADER = ("NIP", "Nama", "Unit", "Jabatan")


def xlsx(sheet: Iterable[bytes], shared: Iterable[bytes] | None = None) -> bytes:
    """A workbook laid out as Excel writes it (workbook, relationships, one sheet, shared strings),
    with the sheet and shared-strings XML given as chunks, streamed into the zip."""
    ss_rel = f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>' if shared else ""
    ss_type = (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        if shared
        else ""
    )
    small = {
        "[Content_Types].xml": f'<Types xmlns="{PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        f"{ss_type}</Types>",
        "_rels/.rels": f'<Relationships xmlns="{PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        '<sheet name="Pegawai" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>{ss_rel}</Relationships>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in small.items():
            z.writestr(name, text)
        for name, chunks in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", shared)):
            if chunks is not None:
                with z.open(name, "w", force_zip64=True) as part:
                    for chunk in chunks:
                        part.write(chunk)
    return out.getvalue()


def sheet_xml(rows: list[tuple[str, ...]], dimension: str | None = None, first_row: int = 1) -> list[bytes]:
    """Rows of shared-string indexes (``t="s"``), as Excel stores text."""
    body = []
    for r, row in enumerate(rows, start=first_row):
        cells = "".join(f'<c r="{chr(65 + i)}{r}" t="s"><v>{v}</v></c>' for i, v in enumerate(row))
        body.append(f'<row r="{r}">{cells}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return [f'<worksheet xmlns="{MAIN}">{dim}<sheetData>{"".join(body)}</sheetData></worksheet>'.encode()]


def shared_xml(strings: list[str], tail: Iterable[bytes] = ()) -> Iterable[bytes]:
    yield f'<sst xmlns="{MAIN}">'.encode() + b"".join(f"<si><t>{s}</t></si>".encode() for s in strings)
    yield from tail
    yield b"</sst>"


def header_only(**kw) -> list[bytes]:
    return sheet_xml([tuple(str(i) for i in range(4))], **kw)


def roster_xlsx(people: list[tuple[str, str, str, str]]) -> bytes:
    strings = list(HEADER) + [v for p in people for v in p]
    rows = [tuple(str(4 * r + i) for i in range(4)) for r in range(len(people) + 1)]
    return xlsx(sheet_xml(rows, dimension=f"A1:D{len(rows)}"), shared_xml(strings))


def _two_hundred_mb_of_a() -> Iterable[bytes]:
    yield b"<si><t>"
    chunk = b"A" * (1 << 20)
    for _ in range(200):
        yield chunk
    yield b"</t></si>"


def claims_a_million_rows(last_cell: str) -> bytes:
    """A header row, a sheet dimension ``A1:<last_cell>`` and one value in that last cell: about 1.7 KB."""
    sheet = header_only(dimension=f"A1:{last_cell}")[0]
    last = f'<row r="1000000"><c r="{last_cell}"><v>1</v></c></row></sheetData>'.encode()
    return xlsx([sheet.replace(b"</sheetData>", last)], shared_xml(list(HEADER)))


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    """The files of the report: a 1.7 KB sheet claiming a million rows (26 columns wide, and 16,384
    wide: openpyxl pads every row to that width, which took the old path hours), and a 208 KB zip
    whose shared strings unpack to 200 MB (the old path: 450 MB and seconds)."""
    folder = tmp_path_factory.mktemp("bombs")
    files = {
        "dimension": claims_a_million_rows("Z1000000"),
        "wide": claims_a_million_rows("XFD1000000"),
        "shared_strings": xlsx(header_only(), shared_xml(list(HEADER), _two_hundred_mb_of_a())),
    }
    assert len(files["dimension"]) < 2_000 and len(files["shared_strings"]) < 250_000
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.xlsx"
        paths[name].write_bytes(data)
    return paths


def test_roster_xlsx_bombs_and_broken_parts_are_a_422_and_a_real_roster_still_imports(live, bombs):
    hr = staff(live, "hr-bkl", "hr", "kab-bengkalis")
    for name, path in bombs.items():
        r = upload(hr, path.read_bytes(), f"{name}.xlsx")
        assert r.status_code == 422, (name, r.text)
        assert r.json()["error"]["code"] == "roster_too_large", name
        assert "Berkas XLSX ditolak" in r.json()["error"]["message"]
    unreadable = {
        "entities": xlsx([b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + header_only()[0]], shared_xml(list(HEADER))),
        "broken_xml": xlsx([header_only()[0][:-20]], shared_xml(list(HEADER))),
        "missing_string": xlsx(sheet_xml([("0", "1", "2", "99")]), shared_xml(list(HEADER))),
    }
    for name, data in unreadable.items():
        r = upload(hr, data, f"{name}.xlsx")
        assert r.status_code == 422 and r.json()["error"]["code"] == "roster_unreadable", (name, r.text)
    assert roster_rows(live) == []
    people = [(next_nip(), "Ani Lestari", "Keuangan", "Analis"), (next_nip(), "Budi Santoso", "Umum", "Pelaksana")]
    r = upload(hr, roster_xlsx(people), "pegawai.xlsx")
    assert r.status_code == 200, r.text
    assert r.json()["roster"]["added"] == 2
    assert roster_rows(live) == sorted(people)


def _rows(data: bytes, max_rows: int = 10) -> list:
    return list(xlsx_safe.read_rows(data, max_rows))


def _sheet(rows: str) -> list[bytes]:
    return [f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'.encode()]


def test_each_sheet_limit_stops_the_reader(monkeypatch):
    """The limits the bombs above do not reach first, each on its own (no server needed)."""
    wide = _sheet('<row r="1"><c r="IW1"><v>1</v></c></row>')
    many_cells = _sheet("".join("<row>" + "<c><v>1</v></c>" * 200 + "</row>" for _ in range(600)))
    long_cell = _sheet(f'<row><c t="inlineStr"><is><t>{"a" * 40_000}</t></is></c></row>')
    for sheet in (wide, many_cells, long_cell):
        with pytest.raises(xlsx_safe.RosterTooLarge):
            _rows(xlsx(sheet))
    monkeypatch.setattr(xlsx_safe, "MAX_SHARED_STRINGS", 3)
    with pytest.raises(xlsx_safe.RosterTooLarge):
        _rows(xlsx(header_only(), shared_xml(list(HEADER))))
    # Rows the file leaves out come back empty, so row numbers stay the sheet's; nothing is padded.
    sparse = _sheet(
        '<row r="2"><c r="C2" t="inlineStr"><is><t>x</t></is></c></row><row r="4"><c r="A4"><v>7</v></c></row>'
    )
    assert _rows(xlsx(sparse)) == [[], [None, None, "x"], [], [7]]


CHILD = textwrap.dedent(
    """
    import json, sys, time
    from netralitas.errors import InvalidInput
    from quiz_server.services import roster

    out = {}
    for path in sys.argv[1:]:
        data = open(path, "rb").read()
        start = time.perf_counter()
        try:
            roster.parse_file(data, 200_000)
            code = None
        except InvalidInput as exc:
            code = exc.code
        out[path] = {"code": code, "seconds": time.perf_counter() - start}
    status = open("/proc/self/status").read()
    peak_kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])
    print(json.dumps({"files": out, "peak_kb": peak_kb}))
    """
)


def test_each_bomb_is_refused_within_two_seconds_and_200_mb(bombs):
    """Measured in a child process of its own, as the suite's servers share this one; one child for
    the three files (the peak covers them all). Peak memory is the child's VmHWM, interpreter and
    imports included: unlike ru_maxrss, which Linux carries across exec from the forked copy of this
    large test process, it counts the child's own pages only. Under the old openpyxl path the
    30 s timeout fires (the wide file), and the other two files break the limits."""
    paths = [str(p) for p in bombs.values()]
    run = subprocess.run([sys.executable, "-c", CHILD, *paths], capture_output=True, text=True, timeout=30, check=True)
    got = json.loads(run.stdout)
    for path in paths:
        assert got["files"][path]["code"] == "roster_too_large", got
        assert got["files"][path]["seconds"] < 2.0, got
    assert got["peak_kb"] < 200 * 1024, got


def test_links_that_leave_the_server_ignore_a_forged_host_and_need_the_public_url(live):
    _, api, cert = issued(live)
    code, forged = cert["code"], {"Host": "phishing.example"}
    verify = live.api().get(f"/api/v1/certificates/{code}", headers=forged)
    assert verify.status_code == 200, verify.text
    assert verify.json()["certificate"]["verify_url"] == f"{live.url}/sertifikat/{code}"
    progress = api.get("/api/v1/me/progress", headers=forged).json()["certification"]
    assert progress["verify_url"].startswith(live.url) and progress["certificate_url"].startswith(live.url)
    page = live.api().get(f"/sertifikat/{code}", headers=forged)
    assert page.status_code == 200 and "phishing.example" not in page.text and f"{live.url}/api/v1/" in page.text
    # The PDF (its QR code and printed link) is byte-for-byte the one an honest request gets.
    honest = api.get("/api/v1/me/certificate.pdf")
    assert honest.status_code == 200
    assert api.get("/api/v1/me/certificate.pdf", headers=forged).content == honest.content
    assert b"phishing" not in honest.content
    assert "warnings" not in live.api().get("/healthz").json()

    # An installation that never set NETRALITAS_PUBLIC_URL: refused, and /healthz says so.
    live.app.config["PUBLIC_URL"] = None
    live.app.extensions["settings"] = dataclasses.replace(live.app.extensions["settings"], public_url=None)
    health = live.api().get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert [w["code"] for w in health.json()["warnings"]] == ["public_url_missing"]
    for path in (f"/api/v1/certificates/{code}", "/api/v1/me/certificate", "/api/v1/me/certificate.pdf"):
        r = api.get(path, headers=forged)
        assert r.status_code == 503, (path, r.text)
        assert r.json()["error"]["code"] == "public_url_missing"
        assert "NETRALITAS_PUBLIC_URL" in r.json()["error"]["message"]
    page = live.api().get(f"/sertifikat/{code}", headers=forged)
    assert page.status_code == 503 and "NETRALITAS_PUBLIC_URL" in page.text
