"""Access scoped to what each role needs (issue #15, "Scoping"), over real HTTP on SQLite and
PostgreSQL: grading exports for the course's grader only, hand-ins by random ids and within quotas,
HR blind to learners registered under another instansi, and public certificates without the NIP's
birth date, appointment month or sex digit."""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import requests
from alembic import command
from sqlalchemy import text

from netralitas import certificates as fmt
from quiz_server import db, migrate
from quiz_server.db import make_engine
from quiz_server.services import accounts, signing_key
from tests.server.conftest import Live, next_nip, start_live
from tests.server.test_certification import take_quiz

PASSWORD = "kata-sandi-staf-panjang"
CONFLICT_LABEL = "Terdaftar di instansi lain"


def staff_token(live: Live, name: str, role: str, *, instansi: str | None = None, course: str | None = None) -> str:
    with db.unit_of_work(live.app) as uow:
        accounts.create_staff(uow, username=name, role=role, password=PASSWORD, instansi_id=instansi, course_id=course)
        uow.commit()
    r = live.api().post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def notebook(marker: str, padding: int = 0) -> dict:
    cell = {"cell_type": "markdown", "id": "c1", "metadata": {}, "source": marker + "x" * padding}
    return {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def hand_in(api, nb: dict):
    return api.post("/api/v1/exercises/m01-latihan/submissions", json=nb, headers={"Idempotency-Key": uuid.uuid4().hex})


# -- grading exports: the course's grader only ------------------------------------------------------


def test_grading_exports_are_for_the_course_grader_only_and_hand_ins_have_random_ids(live):
    here, here_api = live.register(instansi_id="kab-bengkalis")
    there, there_api = live.register(instansi_id="bkn")
    subs = {}
    for who, api in ((here, here_api), (there, there_api)):
        take_quiz(live, api)
        r = hand_in(api, notebook(f"jawaban {who['nip']}"))
        assert r.status_code == 201, r.text
        subs[who["nip"]] = r.json()["submission"]["id"]
    exports = ("/api/v1/grading/quiz-results", "/api/v1/exercises/submissions")

    # Trainers and admins hold no grading scope: 403, and nothing of a learner in the answer.
    for role in ("trainer", "admin"):
        api = live.api(staff_token(live, f"{role}-1", role))
        for path in (*exports, f"/api/v1/exercises/submissions/{subs[here['nip']]}/notebook"):
            r = api.get(path)
            assert r.status_code == 403, (role, path, r.status_code)
            assert here["nip"] not in r.text and r.json()["error"]["code"] == "forbidden"
    # A grader of another course: 403 grader_out_of_scope.
    stranger = live.api(staff_token(live, "grader-lain", "grader", course="lain"))
    for path in exports:
        r = stranger.get(path)
        assert r.status_code == 403 and r.json()["error"]["code"] == "grader_out_of_scope", r.text

    # The course's grader sees everyone; a grader bound to one instansi sees only its learners.
    everyone = live.api(staff_token(live, "grader-semua", "grader", course="mini"))
    bound = live.api(staff_token(live, "grader-bkl", "grader", course="mini", instansi="kab-bengkalis"))
    for api, expected in ((everyone, {here["nip"], there["nip"]}), (bound, {here["nip"]})):
        rows = list(csv.DictReader(io.StringIO(api.get(exports[0]).text)))
        assert {r["nip"] for r in rows} == expected
        listed = api.get(exports[1]).json()["submissions"]
        assert {s["nip"] for s in listed} == expected
        for s in listed:  # a random id, never the row's number
            assert s["id"] == subs[s["nip"]] and len(s["id"]) >= 16 and not s["id"].isdigit()
    r = bound.get(f"/api/v1/exercises/submissions/{subs[there['nip']]}/notebook")
    assert r.status_code == 404 and r.json()["error"]["code"] == "submission_not_found"
    assert there["nip"] not in r.text

    # The file by its random id; the sequential row id (and its neighbours) answer 404.
    r = everyone.get(f"/api/v1/exercises/submissions/{subs[here['nip']]}/notebook")
    assert r.status_code == 200 and f"jawaban {here['nip']}" in r.text
    (row_id,) = live.sql("SELECT id FROM exercise_submissions WHERE public_id = :p", p=subs[here["nip"]])[0]
    for guess in (row_id, row_id + 1, 1, 2):
        assert everyone.get(f"/api/v1/exercises/submissions/{guess}/notebook").status_code == 404
    # The learner's own answer names the hand-in by the random id too.
    again = hand_in(here_api, notebook(f"jawaban {here['nip']}")).json()["submission"]
    assert again["id"] == subs[here["nip"]] and again["version"] == 1
    audit = live.sql("SELECT actor, action FROM audit_log WHERE action LIKE 'export_%'")
    assert all(actor.startswith("staff:") for actor, _ in audit) and len(audit) == 5


# -- hand-in quotas ---------------------------------------------------------------------------------


@pytest.fixture
def small_quota(tmp_path: Path, db_url: str) -> Iterator[Live]:
    """Quotas small enough to reach with a few hand-ins: 3 versions, 5 KB per learner."""
    yield from start_live(tmp_path, db_url, MAX_NOTEBOOK_VERSIONS=3, MAX_LEARNER_NOTEBOOK_BYTES=5000)


def _stored(live: Live, learner_nip: str) -> list[tuple]:
    return live.sql(
        "SELECT s.version, s.size FROM exercise_submissions s JOIN learners l ON l.id = s.learner_id"
        " WHERE l.nip = :nip ORDER BY s.version",
        nip=learner_nip,
    )


def test_hand_in_quotas_refuse_early_and_store_nothing(small_quota):
    live = small_quota
    # Versions per assignment: the fourth distinct notebook is refused (429), the same file again is not.
    person, api = live.register()
    for i in range(3):
        assert hand_in(api, notebook(f"versi {i}")).status_code == 201
    r = hand_in(api, notebook("versi 3"))
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "exercise_version_limit" and "3 versi" in r.json()["error"]["message"]
    assert [v for v, _ in _stored(live, person["nip"])] == [1, 2, 3]
    assert hand_in(api, notebook("versi 2")).json()["submission"]["version"] == 3  # the current file: kept as is

    # Bytes per learner: 2 x 2 KB fit in 5 KB, a third 2 KB does not (413), and nothing is stored.
    heavy, heavy_api = live.register()
    for i in range(2):
        assert hand_in(heavy_api, notebook(f"besar {i}", padding=2000)).status_code == 201
    r = hand_in(heavy_api, notebook("besar 2", padding=2000))
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "exercise_quota_exceeded" and "MB" in r.json()["error"]["message"]
    # Refused before the notebook is even checked: a body that is no notebook gets the quota answer.
    junk = hand_in(heavy_api, {"bukan": "notebook", "isi": "x" * 2000})
    assert junk.status_code == 413 and junk.json()["error"]["code"] == "exercise_quota_exceeded"
    assert len(_stored(live, heavy["nip"])) == 2 and sum(size for _, size in _stored(live, heavy["nip"])) <= 5000
    submits = live.sql("SELECT count(*) FROM audit_log WHERE action = 'exercise_submit'")[0][0]
    assert submits == 5  # 3 + 2: no trace of a refused hand-in either


# -- HR: nothing of a learner registered under another instansi -------------------------------------


def _hr_web(live: Live, username: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{live.url}/staf/masuk", timeout=30).text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = s.post(
        f"{live.url}/staf/masuk", data={"username": username, "password": PASSWORD, "csrf_token": csrf}, timeout=30
    )
    assert r.status_code == 200, r.status_code
    return s


def test_hr_sees_a_conflict_and_nothing_else_of_a_nip_registered_under_another_instansi(live):
    # Registered before the rosters exist, so no roster decides their names.
    ours, ours_api = live.register(instansi_id="kab-bengkalis", name="Pegawai Sendiri")
    theirs, theirs_api = live.register(instansi_id="bkn", name="Nama Asli Orang Lain")
    take_quiz(live, ours_api)
    take_quiz(live, theirs_api)  # passes and is certified, at the other instansi
    assert theirs_api.get("/api/v1/me/certificate").status_code == 200
    hr = live.api(staff_token(live, "hr-bkl", "hr", instansi="kab-bengkalis"))
    rows = [
        ["NIP", "Nama", "Unit", "Jabatan"],
        [ours["nip"], "Pegawai Sendiri", "Bagian Umum", "Analis"],
        [theirs["nip"], "Nama Di Daftar", "Bagian Umum", "Pengelola"],
        [next_nip(), "Belum Daftar", "Bagian Umum", "Pengelola"],
    ]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    r = hr.post("/api/v1/roster", files={"file": ("pegawai.csv", buf.getvalue().encode())})
    assert r.status_code == 200, r.text
    theirs_secrets = ("Nama Asli Orang Lain", theirs["email"])

    # JSON: counted as a conflict only; the certified learner elsewhere is not "tersertifikasi" here.
    report = hr.get("/api/v1/reports/completion").json()
    totals = report["totals"]
    assert totals["terdaftar_di_instansi_lain"] == 1 and totals["tersertifikasi"] == 1  # ours only
    assert totals["roster"] == 3 and totals["belum_mulai"] == 1
    assert report["conflicts"]["rows"] == [
        {"nip": theirs["nip"], "name": "Nama Di Daftar", "unit": "Bagian Umum", "position": "Pengelola"}
    ]
    assert report["status_labels"]["terdaftar_di_instansi_lain"] == CONFLICT_LABEL
    body = json.dumps(report)
    assert not any(s in body for s in theirs_secrets)

    # CSV: the conflict row carries the roster's own fields and the status, no modules and no date.
    text_csv = hr.get("/api/v1/reports/completion", params={"format": "csv"}).text
    by_nip = {row[0]: row for row in csv.reader(io.StringIO(text_csv))}
    assert by_nip["NIP"][-1] == "Data per"  # the last column: the figures' freshness (issue #19)
    assert by_nip[theirs["nip"]][:-1] == [
        theirs["nip"], "Nama Di Daftar", "Bagian Umum", "Pengelola", "Di instansi lain", "", "1", CONFLICT_LABEL, "",
    ]  # fmt: skip
    assert by_nip[ours["nip"]][7] == "Tersertifikasi"
    assert not any(s in text_csv for s in theirs_secrets)

    # XLSX: the same row; nowhere in the workbook anything of that learner.
    book = openpyxl.load_workbook(io.BytesIO(hr.get("/api/v1/reports/completion", params={"format": "xlsx"}).content))
    cells = [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    people = {row[0]: row for row in book["Peserta"].iter_rows(min_row=2, values_only=True)}
    assert people[theirs["nip"]][4:] in (("Di instansi lain", None, 1, CONFLICT_LABEL, None),
                                         ("Di instansi lain", "", 1, CONFLICT_LABEL, ""))  # fmt: skip
    assert not any(s in c for c in cells for s in theirs_secrets)

    # HR pages: the dashboard names the conflict; the list shows the NIP without that learner's data.
    web = _hr_web(live, "hr-bkl")
    dash = web.get(f"{live.url}/hr/", timeout=30).text
    assert "NIP terdaftar di instansi lain" in dash
    page = web.get(f"{live.url}/hr/peserta", params={"status": "terdaftar_di_instansi_lain"}, timeout=30).text
    assert theirs["nip"] in page and "Nama Di Daftar" in page and ours["nip"] not in page
    for html in (dash, page, web.get(f"{live.url}/hr/peserta", timeout=30).text):
        assert not any(s in html for s in theirs_secrets)
    # The other instansi's HR sees its own learner as usual, with no roster: nothing of ours either.
    other = live.api(staff_token(live, "hr-bkn", "hr", instansi="bkn"))
    assert ours["nip"] not in other.get("/api/v1/reports/completion", params={"format": "csv"}).text


# -- public certificates: no birth date, appointment month or sex digit -----------------------------


def _decoded_tokens(text_: str) -> list[str]:
    out = []
    for _, payload, _ in fmt.TOKEN_RE.findall(text_):
        out.append(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode())
    return out


def _assert_no_nip_secrets(nip: str, text_: str) -> None:
    for piece in (nip[:15], f"{nip[:4]}**** {nip[8:14]} {nip[14]}", nip[8:14]):
        assert piece not in text_
        for decoded in _decoded_tokens(text_):
            assert piece not in decoded


def test_public_certificate_page_and_payload_show_no_birth_date_or_sex(live, tmp_path):
    person, api = live.register(name="Dewi Lestari")
    take_quiz(live, api)
    mine = api.get("/api/v1/me/certificate").json()["certificate"]
    public = live.api().get(f"/api/v1/certificates/{mine['code']}")
    page = live.api().get(f"/sertifikat/{mine['code']}")
    assert public.status_code == 200 and page.status_code == 200
    cert = public.json()["certificate"]
    assert cert["nip"] == "*" * 15 + person["nip"][-3:] and cert["format"] == 2
    assert cert["name"] == "Dewi Lestari" and cert["status"] == "valid" and cert["instansi"]
    assert json.loads(cert["payload"])["nip"] == cert["nip"] and cert["signed"].startswith("NASN2.")
    for text_ in (public.text, page.text):
        _assert_no_nip_secrets(person["nip"], text_)
    # Offline, the signed token verifies with the published key.
    key = fmt.load_public_key(live.api().get("/api/v1/certificates/public-key").json()["public_key_pem"])
    assert fmt.verify_token(cert["signed"], key)["nip"] == cert["nip"]

    # A certificate signed in format 1 (before this change) shows neither its NIP mask nor its token
    # publicly, and is re-signed in format 2 when its holder downloads the PDF.
    private = signing_key.private_key(Path(live.app.config["INSTANCE_PATH"]) / "certificate_key.pem")
    old_fields = {k: v for k, v in json.loads(cert["payload"]).items() if k != "format"}
    old_fields["nip"] = f"{person['nip'][:4]}**** {person['nip'][8:14]} {person['nip'][14]} ***"
    old_body = fmt.canonical(old_fields).decode()
    old_sig = fmt.b64encode(private.sign(old_body.encode()))
    eng = make_engine(live.db_url)
    with eng.begin() as conn:
        conn.execute(
            text("UPDATE certificates SET payload = :p, signature = :s, nip_masked = :n WHERE code = :c"),
            {"p": old_body, "s": old_sig, "n": old_fields["nip"], "c": mine["code"]},
        )
    eng.dispose()
    old_public = live.api().get(f"/api/v1/certificates/{mine['code']}")
    old_page = live.api().get(f"/sertifikat/{mine['code']}")
    legacy = old_public.json()["certificate"]
    assert legacy["format"] == 1 and legacy["nip"] is None and legacy["signed"] is None and legacy["payload"] is None
    for text_ in (old_public.text, old_page.text):
        _assert_no_nip_secrets(person["nip"], text_)
    printed = fmt.encode_token(old_body, old_sig)
    assert fmt.verify_token(printed, key)["nip"] == old_fields["nip"]  # printed copies still verify

    pdf = api.get("/api/v1/me/certificate.pdf")
    assert pdf.status_code == 200
    assert fmt.verify_pdf(pdf.content, key)["nip"] == cert["nip"]
    _assert_no_nip_secrets(person["nip"], pdf.content.decode("latin-1"))
    upgraded = live.api().get(f"/api/v1/certificates/{mine['code']}").json()["certificate"]
    assert upgraded["format"] == 2 and upgraded["nip"] == cert["nip"] and upgraded["code"] == mine["code"]
    assert fmt.verify_token(printed, key)  # and the old printed token still does
    assert live.sql("SELECT count(*) FROM audit_log WHERE action = 'certificate_resign'")[0][0] == 1


# -- migration ----------------------------------------------------------------------------------------


def test_migration_gives_existing_hand_ins_random_ids(db_url):
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            cfg = migrate.alembic_config(db_url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0005_exercise_submissions")
            conn.execute(text("INSERT INTO instansi (id, name) VALUES ('x', 'Instansi X')"))
            conn.execute(
                text(
                    "INSERT INTO learners (id, nip, nip_kind, name, email, instansi_id, unit, password_hash, created_at)"
                    " VALUES (1, '199001012015031001', 'pns', 'A', 'a@x.go.id', 'x', 'U', 'h', CURRENT_TIMESTAMP)"
                )
            )
            for version in (1, 2, 3):
                conn.execute(
                    text(
                        "INSERT INTO exercise_submissions (learner_id, assignment, version, notebook, sha256, size,"
                        " submitted_at) VALUES (1, 'm01-latihan', :v, :nb, 'h', 1, CURRENT_TIMESTAMP)"
                    ),
                    {"v": version, "nb": b"{}"},
                )
        migrate.upgrade(db_url)
        with engine.connect() as conn:
            ids = [row[0] for row in conn.execute(text("SELECT public_id FROM exercise_submissions"))]
    finally:
        engine.dispose()
    assert len(ids) == 3 and len(set(ids)) == 3 and all(len(i) >= 16 and not i.isdigit() for i in ids)
