"""HR completion reports over real HTTP on SQLite and PostgreSQL: roster upload, figures, scope rules,
exports (JSON, CSV, XLSX) and their audit trail, the admin's national view, and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import requests
from sqlalchemy import create_engine, text

from netralitas.errors import InvalidNIP
from netralitas.nip import parse_nip
from quiz_server import db
from quiz_server.db import normalise_url
from quiz_server.services import accounts, national
from tests.conftest import CONTENT, MINI, on_exercises_track
from tests.server.conftest import Api, Live, next_nip, start_live
from tests.server.test_api_flow import answers_for, start

PASSWORD = "rahasia-staf-123"
BIN = Path(sys.executable).parent


def staff(live: Live, username: str, role: str, instansi: str | None = None) -> Api:
    """A staff account made as an admin would (the service behind `netralitas users add`), logged in."""
    with db.unit_of_work(live.app) as uow:
        accounts.create_staff(uow, username=username, role=role, password=PASSWORD, instansi_id=instansi)
        uow.commit()
    r = live.api().post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return live.api(r.json()["token"])


def execute(live: Live, sql: str, **params) -> None:
    eng = create_engine(normalise_url(live.db_url))
    try:
        with eng.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        eng.dispose()


def rebuild_summary(live: Live) -> None:
    """The summary tables again from the base tables, after a test changed attempts behind the
    services' back (what ``netralitas report rebuild-summary`` does)."""
    with db.unit_of_work(live.app) as uow:
        national.rebuild(uow, live.app.extensions["settings"].zone)
        uow.commit()


def roster_csv(rows: list[tuple[str, str, str, str]], sep: str = ",") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep)
    writer.writerow(["NIP", "Nama", "Unit", "Jabatan"])
    writer.writerows(rows)
    return buf.getvalue().encode()


def upload(api: Api, data: bytes, name: str = "pegawai.csv", **kw):
    return api.post("/api/v1/roster", json=None, files={"file": (name, data)}, **kw)


def roster_rows(live: Live, instansi: str = "kab-bengkalis") -> list[tuple]:
    return live.sql("SELECT nip, name, unit, position FROM roster WHERE instansi_id = :i ORDER BY nip", i=instansi)


def take_quiz(live: Live, api: Api, quiz: str, passed: bool) -> None:
    attempt = start(api, quiz).json()["attempt"]
    r = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers_for(live, attempt, passed)})
    assert r.status_code == 200 and r.json()["result"]["passed"] is passed, r.text


def certify(live: Live, learner_id: int, status: str = "valid", valid_until: dt.date | None = None) -> None:
    """A certificates row as the certification step writes it (only what the report reads matters)."""
    execute(
        live,
        "INSERT INTO certificates (code, learner_id, name, nip_masked, instansi, course_title, jp_credit,"
        " content_version, legal_state_date, issued_on, valid_until, status, signature, payload, created_at)"
        " VALUES (:code, :lid, 'x', 'x', 'x', 'x', 2, '1.0.0', '2025-12-31', :issued, :until, :status, 's', '{}',"
        " :now)",
        code=f"C{learner_id}{status[:1]}",
        lid=learner_id,
        issued=dt.date.today(),
        until=valid_until or dt.date.today() + dt.timedelta(days=700),
        status=status,
        now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )


# Reports tell "every module passed" from "certified". On the sample course's quizzes track the
# server certifies at the passing submit, so these servers run on the exercises track, where a
# passed quiz certifies no one and the tests place certificates themselves (certify above).


@pytest.fixture
def live(tmp_path: Path, db_url: str) -> Iterator[Live]:
    yield from start_live(tmp_path, db_url, on_exercises_track(MINI, tmp_path / "mini"))


@pytest.fixture
def full_live(tmp_path: Path, db_url: str) -> Iterator[Live]:
    """The real eight-module course, for figures that depend on several quizzes."""
    yield from start_live(tmp_path, db_url, on_exercises_track(CONTENT, tmp_path / "content"))


# -- roster upload ----------------------------------------------------------------------------------


def test_roster_with_a_bad_row_is_refused_whole_and_nothing_is_imported(live):
    hr = staff(live, "hr-bkl", "hr", "kab-bengkalis")
    good = [(next_nip(), f"Pegawai {i}", "Bagian Umum", "Pelaksana") for i in range(3)]
    with pytest.raises(InvalidNIP) as bad_nip:
        parse_nip("19901301 201503 1 001")
    rows = [
        *good,
        ("19901301 201503 1 001", "Tanggal Salah", "Bagian Umum", "Pelaksana"),  # row 5
        (good[0][0], "Kembar", "Bagian Umum", "Pelaksana"),  # row 6: duplicate of row 2
        (next_nip(), "", "Bagian Umum", ""),  # row 7: no name (a blank jabatan is allowed)
    ]
    r = upload(hr, roster_csv(rows, sep=";"))  # Indonesian Excel separates with ';'
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "roster_invalid"
    assert "Tidak ada data yang diimpor" in err["message"] and "3 baris" in err["message"]
    assert err["problem_count"] == 3
    assert {(p["row"], p["field"]) for p in err["problems"]} == {(5, "NIP"), (6, "NIP"), (7, "nama")}
    by_row = {p["row"]: p["message"] for p in err["problems"] if p["field"] == "NIP"}
    assert by_row[5] == bad_nip.value.message  # the core library's Indonesian message, verbatim
    assert by_row[6] == "NIP ini sudah ada di baris 2."
    assert roster_rows(live) == []

    # A clean file goes in; a later file with one bad row leaves it exactly as it was.
    assert upload(hr, roster_csv(good)).status_code == 200
    before = roster_rows(live)
    assert len(before) == 3
    r = upload(hr, roster_csv([*good, ("12345", "Pendek", "Bagian Umum", "Staf")]))
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["row"] == 5
    assert roster_rows(live) == before


def test_upload_problems_with_the_file_itself(live):
    hr = staff(live, "hr-bkl", "hr", "kab-bengkalis")
    r = upload(hr, b"nip,nama,unit\n199001012015031001,A,B\n")
    assert r.status_code == 422 and r.json()["error"]["code"] == "roster_columns"
    assert "jabatan" in r.json()["error"]["message"]
    assert upload(hr, b"   ").json()["error"]["code"] == "roster_empty"
    assert upload(hr, b"NIP,nama,unit,jabatan\n\n").json()["error"]["code"] == "roster_empty"
    assert upload(hr, b"PK\x03\x04 not really a zip", "x.xlsx").json()["error"]["code"] == "roster_unreadable"
    long_field = b'NIP,nama,unit,jabatan\n199001012015031001,A,B,"' + b"x" * 140_000 + b'"\n'
    r = upload(hr, long_field)  # over csv's field limit: a clear refusal, not a 500
    assert r.status_code == 422 and r.json()["error"]["code"] == "roster_unreadable"
    assert hr.post("/api/v1/roster", json={"rows": "nope"}).json()["error"]["code"] == "validation_error"
    r = hr.post("/api/v1/roster", data=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "roster_file_missing"
    # A spreadsheet that stored the NIP as a number has already lost its last digits: say so.
    book = openpyxl.Workbook()
    book.active.append(["NIP", "Nama", "Unit", "Jabatan"])
    book.active.append([1.99001012015031e17, "Angka", "Umum", "Staf"])
    buf = io.BytesIO()
    book.save(buf)
    r = upload(hr, buf.getvalue(), "pegawai.xlsx")
    assert r.status_code == 422 and "Format kolom NIP sebagai Teks" in r.json()["error"]["problems"][0]["message"]
    assert roster_rows(live) == []


def test_reupload_replaces_the_roster_from_xlsx_csv_or_json(live):
    hr = staff(live, "hr-bkl", "hr", "kab-bengkalis")
    a, b, c, d = (next_nip() for _ in range(4))
    book = openpyxl.Workbook()  # English titles in another order; NIPs as text, with or without spaces
    book.active.append(["name", "NIP", "Position", "Work unit"])
    book.active.append(["Ani", a, "Analis", "Keuangan"])
    book.active.append(["Budi", b, "Pelaksana", "Umum"])
    book.active.append(["Citra", f"{c[:8]} {c[8:14]} {c[14]} {c[15:]}", "Pelaksana", "Umum"])
    buf = io.BytesIO()
    book.save(buf)
    r = upload(hr, buf.getvalue(), "pegawai.xlsx")
    assert r.status_code == 200, r.text
    assert r.json()["roster"] == {
        "instansi_id": "kab-bengkalis",
        "rows": 3,
        "added": 3,
        "updated": 0,
        "removed": 0,
        "unchanged": 0,
    }
    # Budi moved to Keuangan, Ani left, Dewi joined, Citra is unchanged.
    r = upload(
        hr,
        roster_csv(
            [(b, "Budi", "Keuangan", "Pelaksana"), (c, "Citra", "Umum", "Pelaksana"), (d, "Dewi", "Umum", "Analis")]
        ),
    )
    assert r.status_code == 200
    assert {k: r.json()["roster"][k] for k in ("added", "updated", "removed", "unchanged")} == {
        "added": 1,
        "updated": 1,
        "removed": 1,
        "unchanged": 1,
    }
    assert roster_rows(live) == sorted(
        [(b, "Budi", "Keuangan", "Pelaksana"), (c, "Citra", "Umum", "Pelaksana"), (d, "Dewi", "Umum", "Analis")]
    )
    r = hr.post("/api/v1/roster", json={"rows": [{"nip": d, "nama": "Dewi", "unit": "Umum", "jabatan": "Analis"}]})
    assert r.status_code == 200 and r.json()["roster"]["removed"] == 2
    assert [row[0] for row in roster_rows(live)] == [d]
    # A retried upload with the same Idempotency-Key replays the first answer and changes nothing.
    # (A retry resends the same bytes, multipart boundary included: prepare the request once.)
    retry = requests.Request(
        "POST",
        live.url + "/api/v1/roster",
        files={"file": ("p.csv", roster_csv([(a, "Ani", "Umum", "Staf")]))},
        headers={"Idempotency-Key": "u-1", "Authorization": f"Bearer {hr.token}"},
    ).prepare()
    again = [hr.http.send(retry, timeout=30) for _ in "12"]
    assert [r.status_code for r in again] == [200, 200] and again[1].headers.get("Idempotent-Replayed") == "true"
    assert again[1].json() == again[0].json() and [row[0] for row in roster_rows(live)] == [a]
    uploads = live.sql("SELECT actor, target FROM audit_log WHERE action = 'roster_upload'")
    assert len(uploads) == 4 and {t for _, t in uploads} == {"instansi:kab-bengkalis"}


def test_uploads_may_be_large_while_json_endpoints_keep_their_limit(tmp_path, db_url):
    for live in start_live(tmp_path, db_url, MAX_UPLOAD_BYTES=200_000):
        hr = staff(live, "hr-bkl", "hr", "kab-bengkalis")
        people = [(next_nip(), f"Pegawai Nomor {i}", "Bagian Umum dan Kepegawaian", "Pelaksana") for i in range(1500)]
        data = roster_csv(people)
        assert 64 * 1024 < len(data) < 200_000
        r = upload(hr, data)
        assert r.status_code == 200, r.text
        assert r.json()["roster"]["rows"] == 1500
        too_big = upload(hr, data + data[: 200_000 - len(data) + 1])
        assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
        # Any other JSON endpoint still refuses a body over the global 64 KB.
        r = live.api().post("/api/v1/auth/token", json={"username": "x" * 70_000, "password": "y"})
        assert r.status_code == 413


# -- figures ----------------------------------------------------------------------------------------


def _setup_bengkalis(live: Live) -> tuple[Api, dict[str, str]]:
    """Eight people on the roster in two units, in every status; returns the HR client and NIPs by role."""
    hr = staff(live, "hr-bkl", "hr", "kab-bengkalis")
    nips = {k: next_nip() for k in ("lulus", "gagal", "sertifikat", "dicabut", "daftar", "tanpa1", "tanpa2", "umum")}
    units = {"lulus": "Keuangan", "gagal": "Keuangan", "sertifikat": "Keuangan", "dicabut": "Keuangan"}
    rows = [(nip, f"Pegawai {k}", units.get(k, "Umum"), "Pelaksana") for k, nip in nips.items()]
    # Registered under kab-bengkalis before its roster came, and not on it (once there is a roster,
    # only people on it can register: services/registration.py).
    live.register(unit="Umum")
    assert upload(hr, roster_csv(rows)).status_code == 200
    learners = {
        k: live.register(nip=nips[k], unit="Tidak dipakai")
        for k in ("lulus", "gagal", "sertifikat", "dicabut", "daftar")
    }
    take_quiz(live, learners["lulus"][1], "m01", passed=True)
    take_quiz(live, learners["gagal"][1], "m01", passed=False)
    take_quiz(live, learners["dicabut"][1], "m01", passed=True)
    certify(live, learners["sertifikat"][0]["id"])  # certified, with no attempt in any period
    certify(live, learners["dicabut"][0]["id"], status="revoked")
    certify(live, learners["daftar"][0]["id"], valid_until=dt.date.today() - dt.timedelta(days=1))  # expired
    return hr, nips


def test_completion_figures_by_status_unit_and_module(live):
    hr, _ = _setup_bengkalis(live)
    r = hr.get("/api/v1/reports/completion")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["instansi"] == {"id": "kab-bengkalis", "name": "Pemerintah Kabupaten Bengkalis"}
    assert report["totals"] == {
        "roster": 8,
        "belum_mulai": 4,  # registered without attempt, expired certificate, never registered (2)
        "sedang_berjalan": 1,
        "semua_modul_lulus": 2,  # includes the revoked certificate's holder, who passed
        "tersertifikasi": 1,
        "terdaftar_di_instansi_lain": 0,  # tests/server/test_scoping.py covers conflicts
        "persen_selesai": 37.5,
    }
    assert report["by_unit"] == [
        {"unit": "Keuangan", "roster": 4, "belum_mulai": 0, "sedang_berjalan": 1, "semua_modul_lulus": 2,
         "tersertifikasi": 1, "terdaftar_di_instansi_lain": 0, "persen_selesai": 75.0},
        {"unit": "Umum", "roster": 4, "belum_mulai": 4, "sedang_berjalan": 0, "semua_modul_lulus": 0,
         "tersertifikasi": 0, "terdaftar_di_instansi_lain": 0, "persen_selesai": 0.0},
    ]  # fmt: skip
    assert report["by_module"] == [
        {"quiz_id": "m01", "module_id": "m01", "title": "Kuis 1: Modul contoh", "roster": 8, "belum_mencoba": 5,
         "mencoba_belum_lulus": 1, "lulus": 2, "persen_lulus": 25.0},
    ]  # fmt: skip
    assert report["not_on_roster"] == 1
    assert report["quiz_count"] == 1

    only = hr.get("/api/v1/reports/completion", params={"unit": "Umum"}).json()
    assert only["totals"]["roster"] == 4 and [u["unit"] for u in only["by_unit"]] == ["Umum"]
    assert only["by_module"][0]["lulus"] == 0


def test_period_filter_counts_days_in_indonesian_western_time(live):
    hr, _ = _setup_bengkalis(live)
    # 18:00 UTC on 31 January is 01:00 WIB on 1 February.
    execute(live, "UPDATE attempts SET submitted_at = :t", t=dt.datetime(2026, 1, 31, 18, 0))
    rebuild_summary(live)
    january = hr.get("/api/v1/reports/completion", params={"from": "2026-01-01", "to": "2026-01-31"}).json()
    february = hr.get("/api/v1/reports/completion", params={"from": "2026-02-01", "to": "2026-02-28"}).json()
    assert january["filters"] == {"instansi": "kab-bengkalis", "unit": None, "from": "2026-01-01", "to": "2026-01-31"}
    assert (january["totals"]["semua_modul_lulus"], january["totals"]["sedang_berjalan"]) == (0, 0)
    assert january["totals"]["tersertifikasi"] == 1  # a valid certificate does not depend on the period
    assert (february["totals"]["semua_modul_lulus"], february["totals"]["sedang_berjalan"]) == (2, 1)
    assert hr.get("/api/v1/reports/completion", params={"from": "2026-02-01"}).json()["totals"] == february["totals"]
    for bad, code in (
        ((("from", "31-01-2026"),), "invalid_date"),
        ((("from", "2026-02-01"), ("to", "2026-01-01")), "invalid_period"),
    ):
        r = hr.get("/api/v1/reports/completion", params=dict(bad))
        assert r.status_code == 422 and r.json()["error"]["code"] == code
    assert hr.get("/api/v1/reports/completion", params={"format": "pdf"}).json()["error"]["code"] == "invalid_format"


def test_figures_across_several_modules(full_live):
    live = full_live
    hr = staff(live, "hr-bkl", "hr", "kab-bengkalis")
    nips = [next_nip() for _ in range(3)]
    assert upload(hr, roster_csv([(n, f"P{i}", "Umum", "Staf") for i, n in enumerate(nips)])).status_code == 200
    _, everything = live.register(nip=nips[0])
    quizzes = [q["id"] for q in everything.get("/api/v1/quizzes").json()["quizzes"]]
    assert len(quizzes) == 8
    for quiz in quizzes:
        take_quiz(live, everything, quiz, passed=True)
    _, two = live.register(nip=nips[1])
    take_quiz(live, two, quizzes[0], passed=True)
    take_quiz(live, two, quizzes[1], passed=False)
    take_quiz(live, two, quizzes[1], passed=True)  # a retry that passes counts as passed
    report = hr.get("/api/v1/reports/completion").json()
    assert {k: report["totals"][k] for k in ("semua_modul_lulus", "sedang_berjalan", "belum_mulai")} == {
        "semua_modul_lulus": 1,
        "sedang_berjalan": 1,
        "belum_mulai": 1,
    }
    assert [(m["lulus"], m["mencoba_belum_lulus"], m["belum_mencoba"]) for m in report["by_module"]] == [
        (2, 0, 1),
        (2, 0, 1),
        *[(1, 0, 2)] * 6,
    ]


# -- who may see what -------------------------------------------------------------------------------


def test_reports_and_rosters_stay_inside_the_hr_accounts_instansi(live):
    _, nips = _setup_bengkalis(live)
    other = staff(live, "hr-lampung", "hr", "prov-lampung")
    for path in (
        "/api/v1/reports/completion?instansi=kab-bengkalis",
        "/api/v1/reports/completion?instansi=kab-bengkalis&format=xlsx",
    ):
        r = other.get(path)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden_instansi"
    own = other.get("/api/v1/reports/completion").json()
    assert own["instansi"]["id"] == "prov-lampung" and own["totals"]["roster"] == 0 and own["by_unit"] == []
    assert set(nips.values()).isdisjoint(other.get("/api/v1/reports/completion?format=csv").text.split())
    r = upload(other, roster_csv([(next_nip(), "Penyusup", "X", "Y")]), params={"instansi": "kab-bengkalis"})
    assert r.status_code == 403
    assert len(roster_rows(live)) == 8 and roster_rows(live, "prov-lampung") == []
    assert other.get("/api/v1/reports/national").status_code == 403

    _, learner = live.register(instansi_id="bkn")  # an instansi without a roster
    trainer = staff(live, "pelatih", "trainer")
    for who in (learner, trainer):
        assert who.get("/api/v1/reports/completion").status_code == 403
        assert upload(who, roster_csv([(next_nip(), "A", "B", "C")])).status_code == 403
    assert live.api().get("/api/v1/reports/completion").status_code == 401

    admin = staff(live, "admin1", "admin")
    assert admin.get("/api/v1/reports/completion").json()["error"]["code"] == "instansi_required"
    assert admin.get("/api/v1/reports/completion?instansi=tidak-ada").status_code == 404
    assert admin.get("/api/v1/reports/completion?instansi=kab-bengkalis").json()["totals"]["roster"] == 8
    # Nobody's export was logged for the refused requests.
    actors = {a for (a,) in live.sql("SELECT actor FROM audit_log WHERE action = 'report_export'")}
    ids = dict(live.sql("SELECT username, id FROM staff"))
    assert actors == {f"staff:{ids['hr-lampung']}", f"staff:{ids['admin1']}"}  # their own reports only


def test_openapi_documents_the_report_routes(live):
    paths = live.api().get("/api/v1/openapi.json").json()["paths"]
    assert {"get"} <= set(paths["/api/v1/reports/completion"]) and "post" in paths["/api/v1/roster"]
    assert "get" in paths["/api/v1/reports/national"]


# -- exports ----------------------------------------------------------------------------------------


def test_xlsx_and_csv_exports_match_the_json_figures_and_are_audited(live):
    hr, nips = _setup_bengkalis(live)
    # A name that a spreadsheet would run as a formula must arrive as text.
    evil = next_nip()
    rows = [*(tuple(r) for r in roster_rows(live)), (evil, '=HYPERLINK("http://x","klik")', "Umum", "Staf")]
    assert upload(hr, roster_csv(rows)).status_code == 200
    report = hr.get("/api/v1/reports/completion").json()
    totals = report["totals"]

    r = hr.get("/api/v1/reports/completion", params={"format": "xlsx"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert r.headers["Content-Disposition"].replace('"', "") == "attachment; filename=laporan-kab-bengkalis.xlsx"
    assert r.headers["Cache-Control"] == "no-store"
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Ringkasan", "Peserta"]
    summary, people = book["Ringkasan"], book["Peserta"]
    assert people.freeze_panes == "A2" and summary.freeze_panes is not None
    header = next(people.iter_rows(max_row=1))
    assert [c.value for c in header][:4] == ["NIP", "Nama", "Unit", "Jabatan"]
    assert all(c.font.b for c in header) and header[0].fill.fgColor.rgb.endswith("0B3D6B")
    values = list(summary.iter_rows(values_only=True))
    unit_header = next(i for i, v in enumerate(values) if v[0] == "Unit" and v[1] == "Di daftar pegawai")
    all_units = values[unit_header + 1]
    assert all_units[:6] == ("Semua unit", totals["roster"], totals["belum_mulai"], totals["sedang_berjalan"],
                             totals["semua_modul_lulus"], totals["tersertifikasi"])  # fmt: skip
    assert all_units[6] == pytest.approx(totals["persen_selesai"])
    for offset, unit in enumerate(report["by_unit"], start=2):
        assert values[unit_header + offset][:3] == (unit["unit"], unit["roster"], unit["belum_mulai"])
    module_row = next(v for v in values if v[0] == report["by_module"][0]["title"])
    assert module_row[1:5] == tuple(
        report["by_module"][0][k] for k in ("roster", "belum_mencoba", "mencoba_belum_lulus", "lulus")
    )
    people_rows = list(people.iter_rows(min_row=2, values_only=True))
    assert len(people_rows) == totals["roster"] == 9
    labels = report["status_labels"]
    assert Counter(p[7] for p in people_rows) == Counter({labels[k]: totals[k] for k in labels if totals[k]})
    assert {p[0] for p in people_rows} == {*nips.values(), evil}
    assert all(isinstance(p[0], str) and len(p[0]) == 18 for p in people_rows)
    evil_row = next(p for p in people_rows if p[0] == evil)
    assert evil_row[1] == '\'=HYPERLINK("http://x","klik")'
    freshness = next(v for v in values if v[0] == "Data per")[1]  # issue #19: the export says how fresh it is
    assert re.fullmatch(r"\d\d-\d\d-\d{4} \d\d:\d\d WIB", freshness), freshness

    r = hr.get("/api/v1/reports/completion", params={"format": "csv", "unit": "Keuangan"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(r.text)))
    keuangan = next(u for u in report["by_unit"] if u["unit"] == "Keuangan")
    assert len(lines) == keuangan["roster"]
    assert Counter(line["Status"] for line in lines) == Counter({labels[k]: keuangan[k] for k in labels if keuangan[k]})
    assert {line["NIP"] for line in lines} == {nips[k] for k in ("lulus", "gagal", "sertifikat", "dicabut")}
    assert {line["Data per"] for line in lines} == {freshness}  # on every row: a CSV has nowhere else to keep it

    exports = live.sql("SELECT actor, target, detail FROM audit_log WHERE action = 'report_export' ORDER BY id")
    assert [(a, t) for a, t, _ in exports] == [("staff:1", "instansi:kab-bengkalis")] * 3
    details = [d if isinstance(d, dict) else __import__("json").loads(d) for _, _, d in exports]
    assert [(d["format"], d["rows"]) for d in details] == [("json", 0), ("xlsx", 9), ("csv", 4)]
    assert details[2]["filters"] == {"instansi": "kab-bengkalis", "unit": "Keuangan", "from": None, "to": None}


def test_the_cli_writes_the_same_report_and_logs_it_as_cli(live, tmp_path):
    hr, _ = _setup_bengkalis(live)
    expected = hr.get("/api/v1/reports/completion").json()
    env = {**os.environ, "DATABASE_URL": live.db_url, "NETRALITAS_INSTANCE": str(tmp_path / "cli-instance")}
    out = tmp_path / "laporan.xlsx"
    run = subprocess.run(
        [str(BIN / "netralitas"), "report", "completion", "--instansi", "kab-bengkalis", "--format", "xlsx",
         "--output", str(out), "--unit", "Keuangan"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "ditulis ke" in run.stdout
    book = openpyxl.load_workbook(out)
    assert len(list(book["Peserta"].iter_rows(min_row=2))) == 4
    js = tmp_path / "laporan.json"
    run = subprocess.run(
        [str(BIN / "netralitas"), "report", "completion", "--instansi", "kab-bengkalis", "--format", "json", "--output", str(js)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert __import__("json").loads(js.read_text())["totals"] == expected["totals"]
    bad = subprocess.run(
        [str(BIN / "netralitas"), "report", "completion", "--instansi", "tidak-ada", "--output", str(tmp_path / "x")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1 and "Instansi tidak ditemukan" in bad.stderr and not (tmp_path / "x").exists()
    cli = live.sql("SELECT detail FROM audit_log WHERE action = 'report_export' AND actor = 'cli'")
    assert len(cli) == 2


# -- national view ----------------------------------------------------------------------------------


def test_national_view_shows_aggregates_only_and_hides_small_groups(live):
    hr, _ = _setup_bengkalis(live)  # 8 people: cells of 1 and 2 must not show
    lampung = staff(live, "hr-lampung", "hr", "prov-lampung")
    big = [(next_nip(), f"L{i}", "Umum", "Staf") for i in range(12)]
    assert upload(lampung, roster_csv(big)).status_code == 200
    for nip, *_ in big[:6]:
        take_quiz(live, live.register(nip=nip, instansi_id="prov-lampung")[1], "m01", passed=True)
    small = staff(live, "hr-bawaslu", "hr", "bawaslu")
    assert upload(small, roster_csv([(next_nip(), f"B{i}", "Umum", "Staf") for i in range(3)])).status_code == 200
    admin = staff(live, "admin1", "admin")

    r = admin.get("/api/v1/reports/national")
    assert r.status_code == 200, r.text
    data = r.json()
    rows = {row["instansi_id"]: row for row in data["by_instansi"]}
    counts = ("roster", "belum_mulai", "sedang_berjalan", "semua_modul_lulus", "tersertifikasi", "terdaftar")
    # Lampung: 12 on the roster, 6 done, 6 not started: nothing small, all shown.
    assert {k: rows["prov-lampung"][k] for k in counts} == {
        "roster": 12, "belum_mulai": 6, "sedang_berjalan": 0, "semua_modul_lulus": 6, "tersertifikasi": 0, "terdaftar": 6,
    }  # fmt: skip
    assert rows["prov-lampung"]["persen_selesai"] == 50.0
    # Bawaslu has three people: the whole group is hidden.
    assert {rows["bawaslu"][k] for k in counts[:5]} == {"<5"} and rows["bawaslu"]["persen_selesai"] is None
    # Bengkalis: its counts (4, 1, 2, 1) are all small. Its roster size (8) is hidden too ("*"):
    # otherwise the national total minus the visible sizes would give Bawaslu's 3 away.
    bkl = rows["kab-bengkalis"]
    assert [bkl[k] for k in counts[:5]] == ["*", "<5", "<5", "<5", "<5"] and bkl["persen_selesai"] is None
    # Nowhere does a count between 1 and 4 appear.
    for row in [*data["by_instansi"], data["totals"], *data["by_module"]]:
        assert not any(
            isinstance(v, int) and 0 < v < 5
            for k, v in row.items()
            if k in (*counts, "belum_mencoba", "mencoba_belum_lulus", "lulus")
        ), row
    # Each column with a hidden cell has at least two, so the national total cannot give one away.
    for k in counts:
        hidden = [row[k] for row in data["by_instansi"] if isinstance(row[k], str)]
        assert len(hidden) != 1, k
    assert data["totals"]["roster"] == 8 + 12 + 3
    assert data["min_group"] == 5
    assert not any(nip in r.text for nip, *_ in big)  # aggregates only: no NIP, no person's name
    assert hr.get("/api/v1/reports/national").status_code == 403


def test_a_report_before_any_content_is_loaded_counts_nothing(tmp_path):
    """A fresh database with agencies but no quizzes yet: the report says so in numbers, no SQL error."""
    env = {**os.environ, "NETRALITAS_INSTANCE": str(tmp_path / "instance")}
    env.pop("DATABASE_URL", None)
    (tmp_path / "instansi.csv").write_text("id,name\nkab-uji,Kabupaten Uji\n", encoding="utf-8")
    run = lambda *a: subprocess.run([str(BIN / "netralitas"), *a], env=env, capture_output=True, text=True, timeout=120)  # noqa: E731
    assert run("instansi", "import", str(tmp_path / "instansi.csv")).returncode == 0
    out = tmp_path / "kosong.json"
    done = run("report", "completion", "--instansi", "kab-uji", "--format", "json", "--output", str(out))
    assert done.returncode == 0, done.stderr
    totals = __import__("json").loads(out.read_text())["totals"]
    assert totals["roster"] == totals["semua_modul_lulus"] == totals["tersertifikasi"] == 0
