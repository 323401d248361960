"""Certificates over real HTTP, on SQLite and PostgreSQL: issue, verify online and offline, revoke,
expiry, the refresher rule, the learner's download, and who may do what. The certification rule
itself (who may be certified, by whom): tests/server/test_certification.py."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from netralitas import certificates as fmt
from netralitas.content.loader import load_course
from quiz_server import db, web
from quiz_server.db import normalise_url
from quiz_server.services import accounts, certificate_pdf, certificates
from quiz_server.services import content as content_service
from quiz_server.services.certificates import ALPHABET
from tests.conftest import MINI
from tests.server.conftest import next_nip
from tests.server.test_certification import take_quiz
from tests.server.test_pages import PASSWORD, Web

BIN = Path(sys.executable).parent
STAFF_PASSWORD = "kata-sandi-staf-123"


def staff(live, role: str, instansi_id: str | None = None):
    username = f"{role}-{os.urandom(3).hex()}"
    with db.unit_of_work(live.app) as uow:
        accounts.create_staff(uow, username=username, role=role, password=STAFF_PASSWORD, instansi_id=instansi_id)
        uow.commit()
    r = live.api().post("/api/v1/auth/token", json={"username": username, "password": STAFF_PASSWORD})
    assert r.status_code == 200, r.text
    return live.api(r.json()["token"])


def issued(live, **learner):
    """Register a learner who passes the course's quiz: the server certifies them. (learner, api, cert)"""
    person, api = live.register(**learner)
    take_quiz(live, api)
    r = api.get("/api/v1/me/certificate")
    assert r.status_code == 200, r.text
    return person, api, r.json()["certificate"]


def public_key(live):
    pem = live.api().get("/api/v1/certificates/public-key").json()["public_key_pem"]
    return fmt.load_public_key(pem)


def sql_write(live, query: str, **params) -> None:
    eng = create_engine(normalise_url(live.db_url))
    try:
        with eng.begin() as conn:
            conn.execute(text(query), params)
    finally:
        eng.dispose()


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "netralitas"), "certificate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env or os.environ.copy(),
    )


def test_issue_is_idempotent_and_verifies_online_with_masked_nip_only(live):
    admin = staff(live, "admin")
    person, _, cert = issued(live, name="Rina Marlina")
    assert re.fullmatch(f"[{ALPHABET}]{{10}}", cert["code"])
    again = admin.post("/api/v1/certificates", json={"nip": person["nip"]})
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["certificate"]["code"] == cert["code"]
    assert live.sql("SELECT count(*) FROM certificates")[0][0] == 1

    r = live.api().get(f"/api/v1/certificates/{cert['code'].lower()[:5]}-{cert['code'][5:]}")  # as typed from paper
    assert r.status_code == 200
    body = r.json()["certificate"]
    assert body["status"] == "valid" and body["refresher_due"] is False
    assert body["name"] == "Rina Marlina" and body["jp_credit"] == 2 and body["content_version"] == "1.0.0"
    assert body["nip"] == "*" * 15 + person["nip"][-3:]  # no birth date, appointment month or sex digit
    assert person["nip"] not in r.text and person["email"] not in r.text and "revoke_reason" not in r.text
    today = dt.date.fromisoformat(body["issued_on"])
    assert body["valid_until"] == today.replace(year=today.year + 2).isoformat()  # 24 months in the mini course
    fields = fmt.verify(body["payload"], body["signature"], public_key(live))
    assert fields["code"] == cert["code"] and fields["nip"] == body["nip"]

    missing = live.api().get("/api/v1/certificates/ZZZZZZZZZZ")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "certificate_not_found"
    nobody = admin.post("/api/v1/certificates", json={"nip": "199001012015031999"})
    assert nobody.status_code == 404 and nobody.json()["error"]["code"] == "learner_not_found"


def test_concurrent_issues_for_one_learner_make_one_certificate(live):
    admin = staff(live, "admin")
    person, api = live.register()
    take_quiz(live, api)
    # As if the learner had passed before the server certified by itself: the rule holds, no certificate.
    sql_write(live, "DELETE FROM certificates")
    barrier = threading.Barrier(8)
    codes: list[tuple[int, str]] = []

    def go():
        barrier.wait()
        r = requests.post(
            f"{live.url}/api/v1/certificates",
            json={"nip": person["nip"]},
            headers={"Authorization": f"Bearer {admin.token}"},
            timeout=60,
        )
        codes.append((r.status_code, r.json()["certificate"]["code"]))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(c for c, _ in codes) == [200] * 7 + [201]
    assert len({code for _, code in codes}) == 1
    assert live.sql("SELECT count(*) FROM certificates")[0][0] == 1


def test_learner_progress_pdf_and_key_file(live, tmp_path):
    _, api, cert = issued(live)
    progress = api.get("/api/v1/me/progress").json()["certification"]
    assert progress["status"] == "tersertifikasi" and progress["certificate_code"] == cert["code"]
    assert progress["certificate_url"] == f"{live.url}/sertifikat.pdf"
    assert api.get("/api/v1/me/certificate").json()["certificate"]["code"] == cert["code"]

    pdf = api.get("/api/v1/me/certificate.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"/MediaBox [ 0 0 841.8898 595.2756 ]" in pdf.content  # A4 landscape
    assert pdf.content.count(b"/Type /Page\n") == 1
    assert api.get("/api/v1/me/certificate.pdf").content == pdf.content  # deterministic
    assert fmt.verify_pdf(pdf.content, public_key(live))["code"] == cert["code"]
    with live.app.test_request_context(base_url=live.url), db.unit_of_work(live.app) as uow:
        row = certificates.get(uow, cert["code"])
        expected = f"{live.url}/sertifikat/{cert['code']}#{cert['signed']}"
        assert certificate_pdf.qr_text(row, web.public_base()) == expected
    audit = live.sql("SELECT target FROM audit_log WHERE action = 'certificate_pdf'")
    assert [row[0] for row in audit] == [cert["code"]] * 2

    key_file = tmp_path / "instance" / "certificate_key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key_file.read_bytes()

    anonymous = requests.get(progress["certificate_url"], allow_redirects=False, timeout=30)
    assert anonymous.status_code == 302 and "/masuk" in anonymous.headers["Location"]
    other_api = live.register()[1]
    assert other_api.get("/api/v1/me/certificate.pdf").json()["error"]["code"] == "no_certificate"


def test_dashboard_button_and_public_page(live):
    web = Web(live.url)
    person_nip = next_nip()
    assert web.register(nip=person_nip, name="Budi Santoso").status_code == 200
    assert "Unduh sertifikat" not in web.get("/").text
    token = live.api().post("/api/v1/auth/token", json={"nip": person_nip, "password": PASSWORD}).json()["token"]
    take_quiz(live, live.api(token))  # passing is all it takes: nobody issues anything
    code = live.api(token).get("/api/v1/me/certificate").json()["certificate"]["code"]
    page = web.get("/").text
    assert 'href="/sertifikat.pdf"' in page and "Unduh sertifikat (PDF)" in page
    download = web.get("/sertifikat.pdf")
    assert download.headers["Content-Type"] == "application/pdf"
    assert fmt.verify_pdf(download.content, public_key(live))["name"] == "Budi Santoso"

    public = requests.get(f"{live.url}/sertifikat/{code}", timeout=30)
    assert public.status_code == 200 and "Sah" in public.text and "Budi Santoso" in public.text
    assert person_nip[:15] not in public.text and f"berakhiran {person_nip[-3:]}" in public.text
    assert requests.get(f"{live.url}/sertifikat/ABCDEFGHJK", timeout=30).status_code == 404


def test_revoke_and_expiry(live):
    admin = staff(live, "admin")
    person, api, cert = issued(live)
    bad = admin.post(f"/api/v1/certificates/{cert['code']}/revoke", json={})
    assert bad.status_code == 422 and live.sql("SELECT status FROM certificates")[0][0] == "valid"
    r = admin.post(f"/api/v1/certificates/{cert['code']}/revoke", json={"reason": "Data kelulusan keliru"})
    assert r.status_code == 200 and r.json()["certificate"]["revoke_reason"] == "Data kelulusan keliru"
    public = live.api().get(f"/api/v1/certificates/{cert['code']}")
    assert public.json()["certificate"]["status"] == "revoked" and "Data kelulusan" not in public.text
    assert api.get("/api/v1/me/progress").json()["certification"]["status"] == "dicabut"
    assert api.get("/api/v1/me/certificate.pdf").json()["error"]["code"] == "certificate_revoked"

    refused = admin.post("/api/v1/certificates", json={"nip": person["nip"]})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "reissue_reason_required"
    again = admin.post("/api/v1/certificates", json={"nip": person["nip"], "reason": "Data sudah dibetulkan"})
    assert again.status_code == 201 and again.json()["certificate"]["code"] != cert["code"]
    fresh = again.json()["certificate"]["code"]
    sql_write(live, "UPDATE certificates SET valid_until = :d WHERE code = :c", d=dt.date(2020, 1, 1), c=fresh)
    assert live.api().get(f"/api/v1/certificates/{fresh}").json()["certificate"]["status"] == "expired"
    assert api.get("/api/v1/me/progress").json()["certification"]["status"] == "kedaluwarsa"
    renewed = admin.post("/api/v1/certificates", json={"nip": person["nip"]})
    assert renewed.status_code == 201 and renewed.json()["certificate"]["status"] == "valid"


def _load_version(live, tmp_path: Path, version: str) -> None:
    copy = tmp_path / f"content-{version}"
    shutil.copytree(MINI, copy)
    course = yaml.safe_load((copy / "course.yaml").read_text())
    course["content_version"] = version
    (copy / "course.yaml").write_text(yaml.safe_dump(course, allow_unicode=True))
    with db.unit_of_work(live.app) as uow:
        assert content_service.load(uow, load_course(copy)) is not None
        uow.commit()


def test_refresher_due_after_a_major_content_change(live, tmp_path):
    admin = staff(live, "admin")
    person, api, cert = issued(live)
    _load_version(live, tmp_path, "1.1.0")  # wording fixes: no change in the law
    assert live.api().get(f"/api/v1/certificates/{cert['code']}").json()["certificate"]["refresher_due"] is False
    _load_version(live, tmp_path, "2.0.0")
    old = live.api().get(f"/api/v1/certificates/{cert['code']}").json()["certificate"]
    assert old["refresher_due"] is True and old["status"] == "valid"
    assert "penyegaran" in api.get("/api/v1/me/progress").json()["certification"]["message"]
    new = admin.post("/api/v1/certificates", json={"nip": person["nip"]}).json()["certificate"]
    assert new["content_version"] == "2.0.0" and new["refresher_due"] is False and new["code"] != cert["code"]


def test_roles(live):
    person, learner_api, cert = issued(live)
    for api in (learner_api, staff(live, "hr", "kab-bengkalis")):
        assert api.post("/api/v1/certificates", json={"nip": person["nip"]}).status_code == 403
        assert api.post(f"/api/v1/certificates/{cert['code']}/revoke", json={"reason": "coba"}).status_code == 403
    assert live.api().post("/api/v1/certificates", json={"nip": person["nip"]}).status_code == 401
    trainer = staff(live, "trainer")
    assert trainer.post("/api/v1/certificates", json={"nip": person["nip"]}).status_code == 403  # only the rule
    assert trainer.post(f"/api/v1/certificates/{cert['code']}/revoke", json={"reason": "coba"}).status_code == 403
    assert live.sql("SELECT status FROM certificates")[0][0] == "valid"


def _flip(text: str, index: int) -> str:
    swap = "B" if text[index] != "B" else "C"
    return text[:index] + swap + text[index + 1 :]


def test_cli_verifies_offline_and_refuses_one_changed_byte(live, tmp_path):
    _, api, cert = issued(live, name="Dewi Lestari")
    key_file = tmp_path / "public.pem"
    key_file.write_text(live.api().get("/api/v1/certificates/public-key").json()["public_key_pem"])
    pdf = tmp_path / "sertifikat.pdf"
    pdf.write_bytes(api.get("/api/v1/me/certificate.pdf").content)

    ok = cli("verify", str(pdf), "--public-key", str(key_file))
    assert ok.returncode == 0, ok.stderr
    assert "Tanda tangan SAH" in ok.stdout and "Dewi Lestari" in ok.stdout
    token = cert["signed"]
    by_url = cli("verify", token, "--public-key", live.url)
    assert by_url.returncode == 0 and cert["code"][:5] in by_url.stdout, by_url.stderr

    data = pdf.read_bytes()
    middle = data.index(b"stream") + 40  # inside the compressed page content
    changed = tmp_path / "diubah.pdf"
    changed.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :])
    bad_pdf = cli("verify", str(changed), "--public-key", str(key_file))
    assert bad_pdf.returncode == 1 and "TIDAK SAH" in bad_pdf.stderr, bad_pdf.stderr

    payload_part = len("NASN1.") + 20
    bad_token = cli("verify", _flip(token, payload_part), "--public-key", str(key_file))
    assert bad_token.returncode == 1 and "TIDAK SAH" in bad_token.stderr
    other_key = tmp_path / "other.pem"
    other_key.write_text(fmt.public_pem(Ed25519PrivateKey.generate().public_key()))
    assert cli("verify", token, "--public-key", str(other_key)).returncode == 1


def test_cli_issue_and_revoke_on_the_same_database(live, tmp_path):
    person, api = live.register()
    env = {
        **os.environ,
        "DATABASE_URL": live.db_url,
        "NETRALITAS_INSTANCE": str(tmp_path / "instance"),
        "NETRALITAS_CONTENT": str(MINI),
    }
    early = cli("issue", person["nip"], env=env)  # the CLI applies the same rule: no shortcut
    assert early.returncode == 1 and "belum memenuhi syarat" in early.stderr and "kuis-m01" in early.stderr
    take_quiz(live, api)
    made = cli("issue", person["nip"], env=env)
    assert made.returncode == 0, made.stderr
    assert "Sertifikat sudah ada" in made.stdout  # the server certified at the submit
    code = re.search(rf"[{ALPHABET}]{{10}}", made.stdout).group(0)
    assert live.api().get(f"/api/v1/certificates/{code}").json()["certificate"]["status"] == "valid"
    pem = cli("public-key", env=env)
    assert pem.stdout == live.api().get("/api/v1/certificates/public-key").json()["public_key_pem"]

    no_reason = cli("revoke", code, env=env)
    assert no_reason.returncode == 2 and live.sql("SELECT status FROM certificates")[0][0] == "valid"
    done = cli("revoke", code, "--reason", "Terbit karena kesalahan data", env=env)
    assert done.returncode == 0, done.stderr
    assert live.api().get(f"/api/v1/certificates/{code}").json()["certificate"]["status"] == "revoked"
    unknown = cli("revoke", "ZZZZZZZZZZ", "--reason", "tidak ada", env=env)
    assert unknown.returncode == 1 and "tidak ditemukan" in unknown.stderr
    bare = cli("issue", person["nip"], env=env)
    assert bare.returncode == 1 and "alasan tertulis" in bare.stderr
    reissued = cli("issue", person["nip"], "--reason", "Pencabutan keliru", env=env)
    assert reissued.returncode == 0 and "Sertifikat diterbitkan" in reissued.stdout, reissued.stderr
    [(actor, detail)] = live.sql("SELECT actor, detail FROM audit_log WHERE action = 'certificate_reissue'")
    assert actor == "cli" and "Pencabutan keliru" in str(detail)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_single_byte_change_in_the_pdf_fails(live):
    _, api, _ = issued(live)
    data = api.get("/api/v1/me/certificate.pdf").content
    key = public_key(live)
    fmt.verify_pdf(data, key)
    for i in range(len(data)):
        tampered = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]
        with pytest.raises(fmt.InvalidCertificate):
            fmt.verify_pdf(tampered, key)
