"""HR pages that fit a real agency, over real HTTP on SQLite and PostgreSQL: the roster template round
trip (CSV and XLSX), a blank jabatan imported, times in WIB, period errors named as the page names
the fields, and the wide layout of the HR pages.

One server per database for the module; each test works in an instansi of its own (a roster upload
replaces that instansi's roster only)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from itertools import count

import openpyxl
import pytest

from quiz_server import db
from quiz_server.services import accounts
from tests.conftest import MINI, on_exercises_track
from tests.server.conftest import PG_URL, Live, _pg_schema_url, next_nip, start_live
from tests.server.test_pages import Web
from tests.server.test_report_pages import upload_page
from tests.server.test_reports import PASSWORD, execute, rebuild_summary, roster_rows, take_quiz

HEADER = ["NIP", "Nama", "Unit", "Jabatan", "Jenis"]
_names = count(1)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def srv(request, tmp_path_factory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("hr")
    content = on_exercises_track(MINI, tmp / "mini")  # a passed quiz certifies no one: statuses stay put
    if request.param == "sqlite":
        yield from start_live(tmp, f"sqlite:///{tmp / 'quiz.sqlite'}", content)
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    for url in _pg_schema_url():
        yield from start_live(tmp, url, content)


def hr_web(live: Live, instansi: str) -> Web:
    """A fresh HR account of ``instansi`` (as `netralitas users add` makes it), signed in on the web."""
    username = f"hr-{next(_names)}"
    with db.unit_of_work(live.app) as uow:
        accounts.create_staff(uow, username=username, role="hr", password=PASSWORD, instansi_id=instansi)
        uow.commit()
    web = Web(live.url)
    r = web.submit("/staf/masuk", "/staf/masuk", {"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return web


def test_csv_template_round_trip_imports_the_rows_and_skips_the_example(srv):
    web = hr_web(srv, "prov-lampung")
    page = web.get("/hr/daftar-pegawai").text
    assert 'href="/hr/daftar-pegawai/templat.csv"' in page and 'href="/hr/daftar-pegawai/templat.xlsx"' in page
    r = web.get("/hr/daftar-pegawai/templat.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Content-Disposition"] == "attachment; filename=templat-daftar-pegawai.csv"
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADER and rows[1][1].startswith("CONTOH") and len(rows) == 2

    a, b = next_nip(), next_nip()
    rows += [[a, "Ani Lestari", "Bagian Umum", "Analis SDM", "PNS"], [b, "Budi Santoso", "Sekretariat", "", ""]]
    buf = io.StringIO()
    csv.writer(buf, delimiter=";").writerows(rows)  # the example row is left in, as HR may well do
    done = upload_page(web, buf.getvalue().encode("utf-8-sig"), "templat-daftar-pegawai.csv")
    assert done.status_code == 200, done.text
    assert "2 pegawai (2 baru" in done.text
    assert roster_rows(srv, "prov-lampung") == sorted(
        [(a, "Ani Lestari", "Bagian Umum", "Analis SDM"), (b, "Budi Santoso", "Sekretariat", "")]
    )


def test_xlsx_template_round_trip_with_instructions_and_a_text_nip_column(srv):
    web = hr_web(srv, "prov-kalimantan-barat")
    r = web.get("/hr/daftar-pegawai/templat.xlsx")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Daftar pegawai", "Petunjuk"]
    sheet = book["Daftar pegawai"]
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet["B2"].value.startswith("CONTOH")
    assert sheet.column_dimensions["A"].number_format == "@"  # typed NIPs stay text, all 18 digits
    guide = " ".join(str(c.value or "") for c in book["Petunjuk"]["A"])
    assert "Jabatan (boleh kosong)" in guide and "NIP (wajib)" in guide

    people = [(next_nip(), f"Pegawai {i}", "Bidang Mutasi", "" if i == 1 else "Pengelola Data") for i in range(3)]
    for p in people:
        sheet.append([*p, "PNS"])
    out = io.BytesIO()
    book.save(out)
    done = upload_page(web, out.getvalue(), "templat-daftar-pegawai.xlsx")
    assert done.status_code == 200, done.text
    assert "3 pegawai (3 baru" in done.text
    assert roster_rows(srv, "prov-kalimantan-barat") == sorted(people)


def test_a_blank_jabatan_is_imported_and_required_fields_still_refuse_by_row(srv):
    web = hr_web(srv, "kab-manggarai")
    a, b = next_nip(), next_nip()
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER[:4], [a, "Citra", "Umum", "Staf"], [b, "Dewi", "Umum", ""]])
    assert upload_page(web, buf.getvalue().encode()).status_code == 200
    assert roster_rows(srv, "kab-manggarai") == sorted([(a, "Citra", "Umum", "Staf"), (b, "Dewi", "Umum", "")])

    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER[:4], [a, "Citra", "Umum", ""], ["", "Eka", "Umum", ""], [next_nip(), "", "", ""]])
    r = upload_page(web, buf.getvalue().encode())
    assert r.status_code == 422
    assert "Berkas ditolak: 2 baris bermasalah" in r.text
    assert "<td>3</td><td>NIP</td><td>NIP wajib diisi.</td>" in r.text
    assert "<td>4</td><td>nama</td><td>Kolom nama wajib diisi.</td>" in r.text
    assert "<td>4</td><td>unit</td><td>Kolom unit wajib diisi.</td>" in r.text
    assert "<td>jabatan</td>" not in r.text
    assert len(roster_rows(srv, "kab-manggarai")) == 2  # the refused file changed nothing


def test_times_on_the_hr_pages_are_wib(srv):
    web = hr_web(srv, "kab-parigi-moutong")
    nip = next_nip()
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER[:4], [nip, "Fajar", "Umum", "Staf"], [next_nip(), "Gita", "Umum", "Staf"]])
    assert upload_page(web, buf.getvalue().encode()).status_code == 200
    _, learner = srv.register(nip=nip, instansi_id="kab-parigi-moutong", unit="Umum")
    take_quiz(srv, learner, "m01", passed=False)  # in progress: on the not-done list with a time
    # 18:30 UTC on 1 December is 01:30 WIB on 2 December; 03:15 UTC is 10:15 WIB.
    execute(
        srv,
        "UPDATE audit_log SET at = :t WHERE action = 'roster_upload' AND target = 'instansi:kab-parigi-moutong'",
        t=dt.datetime(2026, 12, 1, 18, 30),
    )
    execute(
        srv,
        "UPDATE attempts SET submitted_at = :t WHERE learner_id = (SELECT id FROM learners WHERE nip = :n)",
        t=dt.datetime(2026, 12, 2, 3, 15),
        n=nip,
    )
    rebuild_summary(srv)
    roster_page = web.get("/hr/daftar-pegawai").text
    assert "2 pegawai pada daftar, terakhir diunggah 2 Desember 2026, 01.30 WIB." in roster_page
    dashboard = web.get("/hr/").text
    assert "Daftar pegawai terakhir diunggah 2 Desember 2026, 01.30 WIB" in dashboard
    assert "Data per " in dashboard and " WIB" in dashboard
    period = web.get("/hr/", params={"from": "2026-12-01", "to": "2026-12-31"}).text
    assert "Periode: 1 Desember 2026 s.d. 31 Desember 2026" in period
    not_done = web.get("/hr/peserta").text
    assert '<th scope="col">Terakhir mengerjakan kuis</th>' in not_done
    assert "<td>2 Desember 2026, 10.15 WIB</td>" in not_done
    assert "2026-12-0" not in not_done.replace('value="2026-12-0', "")  # no ISO date shown as text


def test_period_errors_name_the_fields_as_the_page_does(srv):
    web = hr_web(srv, "bawaslu")
    backwards = {"from": "2026-02-01", "to": "2026-01-01"}
    message = "“Dari tanggal” harus sama dengan atau sebelum “Sampai tanggal”."
    for path in ("/hr/", "/hr/peserta"):
        r = web.get(path, params=backwards)
        assert r.status_code == 422 and message in r.text, path
        assert "'from'" not in r.text and "'to'" not in r.text
        # Both fields are marked and keep what HR typed, so the mistake is visible where it was made.
        assert 'value="2026-02-01" aria-invalid="true" aria-describedby="saring-galat"' in r.text
        assert 'value="2026-01-01" aria-invalid="true" aria-describedby="saring-galat"' in r.text
    r = web.get("/hr/", params={"to": "31-01-2026"})
    assert r.status_code == 422 and "“Sampai tanggal” harus berupa tanggal berformat TTTT-BB-HH" in r.text
    assert r.text.count('aria-invalid="true"') == 1

    with db.unit_of_work(srv.app) as uow:
        accounts.create_staff(uow, username="hr-bawaslu-api", role="hr", password=PASSWORD, instansi_id="bawaslu")
        uow.commit()
    api_token = srv.api().post("/api/v1/auth/token", json={"username": "hr-bawaslu-api", "password": PASSWORD})
    api = srv.api(api_token.json()["token"])
    err = api.get("/api/v1/reports/completion", params=backwards).json()["error"]
    assert err["code"] == "invalid_period" and err["message"] == message
    assert [f["field"] for f in err["fields"]] == ["from", "to"]
    err = api.get("/api/v1/reports/completion", params={"from": "kemarin"}).json()["error"]
    assert err["code"] == "invalid_date" and err["message"].startswith("Isian “Dari tanggal” harus")
    assert err["fields"] == [{"field": "from", "label": "Dari tanggal"}]


def test_hr_pages_use_the_wide_column(srv):
    web = hr_web(srv, "kemendagri")
    for path in ("/hr/", "/hr/peserta", "/hr/daftar-pegawai"):
        assert '<main id="isi" tabindex="-1" class="lebar">' in web.get(path).text, path
    assert web.get("/hr/daftar-pegawai/templat.pdf").status_code == 404
