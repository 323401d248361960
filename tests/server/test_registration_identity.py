"""Identity at registration (issue #15) over real HTTP, SQLite and PostgreSQL, with mail through a
real SMTP server: a squatter cannot take an NIP, and no answer tells whether an NIP is registered."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from quiz_server import db
from quiz_server.models.base import utcnow
from quiz_server.services import accounts, registration, roster
from tests.mailsink import body_of, code_in
from tests.server.conftest import next_nip
from tests.server.test_pages import TOKEN_RE, Web
from tests.server.test_workshops import create, make_trainer

OWNER_ON_ROSTER = "Dr. Budi Santoso, S.H., M.Si."
PASSWORD = "rahasia-sekali-123"


def body(nip: str, **over) -> dict:
    return {
        "nip": nip,
        "name": "Budi Santoso",
        "email": f"r{nip}@example.go.id",
        "instansi_id": "kab-bengkalis",
        "unit": "Bagian Umum",
        "password": PASSWORD,
    } | over


def put_on_roster(live, *people: tuple[str, str], instansi: str = "kab-bengkalis") -> None:
    """The HR roster, through the roster service the upload uses."""
    rows = [roster.Person(nip=nip, name=name, unit="Bagian Umum", position="Analis") for nip, name in people]
    with db.unit_of_work(live.app) as uow:
        roster.replace(uow, instansi, rows, "hr:test", "test")
        uow.commit()


def request_code(live, data: dict):
    """POST /learners; returns (response, the mail that came of it)."""
    mark = live.mail.mark()
    r = live.api().post("/api/v1/learners", json=data)
    return r, live.mail.wait_for(data["email"], since=mark)


def verify(live, registration_id: str, code: str):
    return live.api().post("/api/v1/learners/verify", json={"registration_id": registration_id, "code": code})


def is_refusal(msg) -> bool:
    text = body_of(msg)
    return "tidak dapat dipakai untuk mendaftar" in text and "/lupa-sandi" in text and not re.search(r"\b\d{6}\b", text)


def count(live, table: str, where: str = "1=1", **params) -> int:
    return live.sql(f"SELECT count(*) FROM {table} WHERE {where}", **params)[0][0]  # noqa: S608 - test constants


def test_names_match_across_case_spaces_punctuation_and_titles():
    same = [
        "Budi Santoso",
        "budi  santoso",
        "BUDI SANTOSO, S.Kom",
        "Ir. H. Budi Santoso S.Kom",
        "Prof.Dr. Budi Santoso",
    ]
    assert all(registration.names_match(n, OWNER_ON_ROSTER) for n in same)
    assert registration.names_match("Siti Nuraini", "Hj. Siti Nur'aini, M.Pd.")
    assert not registration.names_match("Budi Santosa", OWNER_ON_ROSTER)
    assert not registration.names_match("Budi", OWNER_ON_ROSTER)
    assert not registration.names_match("", "")


def test_a_roster_lets_only_the_named_owner_register_the_nip(live):
    owner_nip, stranger_nip = next_nip(), next_nip()
    put_on_roster(live, (owner_nip, OWNER_ON_ROSTER))

    # A squatter with the owner's NIP but another name, and an NIP that is not on the roster: the same
    # 202, a mail that says the data cannot be used, and no code that works.
    for data in (body(owner_nip, name="Orang Lain"), body(stranger_nip)):
        r, msg = request_code(live, data)
        assert r.status_code == 202, r.text
        assert is_refusal(msg), body_of(msg)
        assert verify(live, r.json()["registration_id"], "000000").json()["error"]["code"] == "invalid_code"
    assert count(live, "learners") == 0

    # The owner, typing the name without titles, gets a code and an account.
    r, msg = request_code(live, body(owner_nip, name="budi santoso"))
    assert r.status_code == 202 and not is_refusal(msg)
    done = verify(live, r.json()["registration_id"], code_in(msg))
    assert done.status_code == 201, done.text
    assert done.json()["learner"]["nip"] == owner_nip and done.json()["token"]
    assert count(live, "pending_registrations", "nip = :n", n=owner_nip) == 0  # the squatter's decoy went too
    assert live.api(done.json()["token"]).get("/api/v1/me/progress").status_code == 200


def test_a_registered_nip_gets_a_decoy_and_the_owner_keeps_the_account(live):
    owner, _ = live.register(name="Rina Lestari", password="kata-sandi-pemilik")
    before = live.sql("SELECT name, email, password_hash, unit FROM learners WHERE nip = :n", n=owner["nip"])
    squat = body(owner["nip"], name="Penyerobot", email="penyerobot@example.go.id", unit="Lain")
    r, msg = request_code(live, squat)
    assert r.status_code == 202 and is_refusal(msg)
    for guess in ("000000", "123456", "999999"):
        assert verify(live, r.json()["registration_id"], guess).json()["error"]["code"] == "invalid_code"
    assert live.sql("SELECT name, email, password_hash, unit FROM learners WHERE nip = :n", n=owner["nip"]) == before
    ok = live.api().post("/api/v1/auth/token", json={"nip": owner["nip"], "password": "kata-sandi-pemilik"})
    assert ok.status_code == 200
    assert live.api().post("/api/v1/auth/token", json={"nip": owner["nip"], "password": PASSWORD}).status_code == 401


def test_registration_answers_the_same_for_a_registered_and_a_free_nip(live):
    taken, _ = live.register()
    answers = []
    for nip in (taken["nip"], next_nip()):
        r, _msg = request_code(live, body(nip))
        answers.append(r)
    a, b = answers
    assert a.status_code == b.status_code == 202
    assert a.json().keys() == b.json().keys() == {"registration_id", "expires_in", "message"}
    assert {k: v for k, v in a.json().items() if k != "registration_id"} == {
        k: v for k, v in b.json().items() if k != "registration_id"
    }
    assert len(a.json()["registration_id"]) == len(b.json()["registration_id"])
    for header in ("Content-Type", "Content-Length", "Cache-Control", "Set-Cookie", "Retry-After"):
        assert a.headers.get(header) == b.headers.get(header), header
    assert a.json()["expires_in"] == 900 and "Kode verifikasi dikirim" in a.json()["message"]
    # Whatever the id, verify and resend answer alike.
    for rid in (a.json()["registration_id"], b.json()["registration_id"], "tidak-ada"):
        wrong = verify(live, rid, "000001")
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "invalid_code")
        again = live.api().post("/api/v1/learners/resend", json={"registration_id": rid})
        assert again.status_code == 202 and again.json() == {"message": registration.RESENT}


def test_five_wrong_codes_lock_the_registration_and_codes_expire(live):
    r, msg = request_code(live, body(next_nip()))
    rid, code = r.json()["registration_id"], code_in(msg)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(registration.MAX_TRIES):
        assert verify(live, rid, wrong).json()["error"]["code"] == "invalid_code"
    locked = verify(live, rid, code)
    assert (locked.status_code, locked.json()["error"]["code"]) == (422, "invalid_code")
    assert count(live, "learners") == 0

    # A registration made 16 minutes ago (an explicit clock, not a wait): its right code no longer works.
    data = body(next_nip())
    transport = registration.mail_options(live.app.extensions["settings"], live.url)
    mark = live.mail.mark()
    with db.unit_of_work(live.app) as uow:
        old = registration.start(uow, **data, nip_kind="pns", **transport, now=utcnow() - dt.timedelta(minutes=16))
        uow.commit()
    expired = verify(live, old, code_in(live.mail.wait_for(data["email"], since=mark)))
    assert (expired.status_code, expired.json()["error"]["code"]) == (422, "invalid_code")
    assert count(live, "learners") == 0


def test_resend_replaces_the_code_and_a_race_for_one_nip_makes_one_account(live):
    nip = next_nip()
    first, first_mail = request_code(live, body(nip))
    second, second_mail = request_code(live, body(nip, email="kedua@example.go.id"))
    mark = live.mail.mark()
    resent = live.api().post("/api/v1/learners/resend", json={"registration_id": first.json()["registration_id"]})
    assert resent.status_code == 202
    new_code = code_in(live.mail.wait_for(body(nip)["email"], since=mark))
    if new_code != code_in(first_mail):  # one chance in a million that the fresh code is the old one
        assert verify(live, first.json()["registration_id"], code_in(first_mail)).status_code == 422
    assert verify(live, first.json()["registration_id"], new_code).status_code == 201
    # The second request was sent before the NIP was taken; its code is now refused like any wrong one.
    late = verify(live, second.json()["registration_id"], code_in(second_mail))
    assert (late.status_code, late.json()["error"]["code"]) == (422, "invalid_code")
    assert count(live, "learners", "nip = :n", n=nip) == 1

    # An account made for the NIP by another path (an agency login, an admin) while a code waits.
    other = next_nip()
    waiting, waiting_mail = request_code(live, body(other))
    with db.unit_of_work(live.app) as uow:
        fields = body(other, email="lain@example.go.id") | {"nip_kind": "pns", "token_days": 1}
        accounts.register_learner(uow, **fields)
        uow.commit()
    raced = verify(live, waiting.json()["registration_id"], code_in(waiting_mail))
    assert (raced.status_code, raced.json()["error"]["code"]) == (422, "invalid_code")
    assert live.sql("SELECT email FROM learners WHERE nip = :n", n=other) == [("lain@example.go.id",)]


@pytest.fixture
def tight(tmp_path, db_url):
    from tests.server.conftest import start_live

    yield from start_live(tmp_path, db_url, RATE_LIMIT_REGISTER_IDENTITY=(2, 3600))


def test_codes_are_throttled_per_nip_and_per_email(tight):
    nip = next_nip()
    for i in range(2):
        assert tight.api().post("/api/v1/learners", json=body(nip, email=f"a{i}@example.go.id")).status_code == 202
    third = tight.api().post("/api/v1/learners", json=body(nip, email="a3@example.go.id"))
    assert third.status_code == 429 and "Retry-After" in third.headers
    spaced = f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"  # the same NIP written with spaces
    assert tight.api().post("/api/v1/learners", json=body(spaced, email="a4@example.go.id")).status_code == 429
    for _ in range(2):
        assert (
            tight.api().post("/api/v1/learners", json=body(next_nip(), email="sama@example.go.id")).status_code == 202
        )
    assert tight.api().post("/api/v1/learners", json=body(next_nip(), email="SAMA@example.go.id")).status_code == 429


def _join_page(phone: Web, code: str, data: dict):
    page = phone.get(f"/join?code={code}")
    token = TOKEN_RE.search(page.text).group(1)
    return phone.http.post(phone.base + "/join", data={"csrf_token": token, "code": code, **data}, timeout=30)


def _without_tokens(text: str) -> str:
    return TOKEN_RE.sub("", text)


def test_join_never_reveals_whether_an_nip_is_registered(live):
    ws = create(make_trainer(live))
    taken, _ = live.register()
    pages = {}
    for who, nip in (("taken", taken["nip"]), ("free", next_nip())):
        # The old lookup step, the code step with an NIP, and a failed sign-in: all alike.
        for step in ("lookup", "code", "login"):
            r = _join_page(Web(live.url), ws["join_code"], {"step": step, "nip": nip, "password": "salah-sekali"})
            pages[(who, step)] = (r.status_code, _without_tokens(r.text).replace(nip, "NIP"))
    for step in ("lookup", "code", "login"):
        assert pages[("taken", step)] == pages[("free", step)], step
    assert "Belum punya akun?" in pages[("free", "code")][1] and "belum terdaftar" not in pages[("free", "code")][1]


def test_a_new_phone_registers_with_the_mailed_code_and_joins(live):
    ws = create(make_trainer(live))
    phone, nip = Web(live.url), next_nip()
    form = _join_page(phone, ws["join_code"], {"step": "new"})
    assert form.status_code == 200 and 'name="unit"' in form.text
    data = body(nip) | {"password2": PASSWORD, "nip_kind": "pns", "step": "register"}
    mark = live.mail.mark()
    asked = _join_page(phone, ws["join_code"], data)
    assert asked.status_code == 200 and 'name="otp"' in asked.text
    code = code_in(live.mail.wait_for(data["email"], since=mark))
    wrong = _join_page(phone, ws["join_code"], {"step": "verify", "otp": "abc"})
    assert wrong.status_code == 422 and "Kode verifikasi salah" in wrong.text
    joined = _join_page(phone, ws["join_code"], {"step": "verify", "otp": code})
    assert joined.status_code == 200 and re.search(r"/lokakarya/\d+$", joined.url), joined.text
    assert count(live, "workshop_participants") == 1 and count(live, "learners", "nip = :n", n=nip) == 1


@pytest.mark.parametrize("kind", ["common", "holds-the-nip"])
def test_a_common_password_or_one_holding_the_nip_is_refused_before_any_mail(live, kind):
    nip = next_nip()
    password = "qwertyuiop" if kind == "common" else f"x{nip}y"
    mark = live.mail.mark()
    r = live.api().post("/api/v1/learners", json=body(nip, password=password))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "weak_password"
    assert live.mail.messages_to(f"r{nip}@example.go.id", since=mark) == []
    assert count(live, "pending_registrations") == 0
