"""Learner web pages over real HTTP: forms with CSRF, sessions, ownership, weight, headers, escaping."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from netralitas.errors import InvalidNIP
from netralitas.nip import parse_nip
from tests import mailsink
from tests.server.conftest import next_nip, start_live

PASSWORD = "rahasia-sekali-123"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Web:
    """A browser-like client: keeps cookies and reads the CSRF token from the form it is about to send."""

    base: str
    http: requests.Session = field(default_factory=requests.Session)

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.base + path, timeout=30, **kw)

    def submit(self, form_page: str, action: str, data: dict, **kw) -> requests.Response:
        page = self.get(form_page)
        token = TOKEN_RE.search(page.text).group(1)
        return self.http.post(self.base + action, data={"csrf_token": token, **data}, timeout=30, **kw)

    def register(self, **over) -> requests.Response:
        """The form, then the code from the test SMTP server on /daftar/kode; a refused form is returned as is."""
        data = registration(**over)
        sink = mailsink.shared()
        mark = sink.mark()
        asked = self.submit("/daftar", "/daftar", data)
        if not asked.url.endswith("/daftar/kode"):
            return asked
        code = mailsink.code_in(sink.wait_for(data["email"], since=mark))
        return self.submit("/daftar/kode", "/daftar/kode", {"code": code})

    def login(self, nip: str, password: str = PASSWORD, **kw) -> requests.Response:
        return self.submit("/masuk", "/masuk", {"nip": nip, "password": password}, **kw)


def registration(**over) -> dict:
    data = {
        "nip_kind": "pns",
        "nip": next_nip(),
        "name": "Siti Aminah",
        "instansi_id": "kab-bengkalis",
        "unit": "Dinas Pendidikan",
        "password": PASSWORD,
        "password2": PASSWORD,
    } | over
    data.setdefault("email", f"w{''.join(data['nip'].split())}@example.go.id")  # one per NIP: per-address limits
    return data


def answer_form(page: str) -> dict[str, list[str]]:
    """The first choice of every question on an attempt page, as form fields."""
    out: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="(q-[^"]+)" value="([^"]+)"', page):
        out.setdefault(name, [value])
    return out


def count(live, table: str, where: str = "1=1", **params) -> int:
    return live.sql(f"SELECT count(*) FROM {table} WHERE {where}", **params)[0][0]  # noqa: S608 - test constants


def test_register_round_trip_keeps_values_and_shows_nip_message(live):
    web = Web(live.url)
    page = web.get("/daftar")
    assert page.status_code == 200
    assert '<html lang="id">' in page.text
    assert '<option value="kab-bengkalis">Pemerintah Kabupaten Bengkalis</option>' in page.text
    for input_id in re.findall(r'<(?:input|select) id="([^"]+)"', page.text):
        assert f'<label for="{input_id}">' in page.text, f"{input_id} has no label"

    with pytest.raises(InvalidNIP) as expected:
        parse_nip("12345")
    bad = web.submit(
        "/daftar", "/daftar", registration(nip="12345", email="siti@example.go.id", password2="lain-sekali-123")
    )
    assert bad.status_code == 422
    assert html.escape(expected.value.message) in bad.text
    assert 'value="Siti Aminah"' in bad.text and 'value="siti@example.go.id"' in bad.text
    assert '<option value="kab-bengkalis" selected>' in bad.text
    assert "Ulangi kata sandi yang sama persis." in bad.text
    assert PASSWORD not in bad.text
    assert count(live, "learners") == 0

    nip = next_nip()
    ok = web.register(nip=nip)
    assert ok.status_code == 200 and ok.url == live.url + "/"
    assert ok.history and ok.history[0].status_code == 303
    assert "Pendaftaran berhasil" in ok.text and "Siti Aminah" in ok.text and "Mulai kuis" in ok.text
    assert count(live, "learners", "nip = :nip", nip=nip) == 1
    # The page signs in with one web session and leaves no unused bearer token behind.
    assert count(live, "tokens", "kind = 'web'") == 1
    assert count(live, "tokens", "kind = 'api'") == 0

    # The same NIP again: the same code page as for a new one (nothing says it is taken); the mail
    # to the given address explains, and no code exists (tests/server/test_registration_identity.py).
    mark = live.mail.mark()
    again = Web(live.url).submit("/daftar", "/daftar", registration(nip=nip, name="Orang Lain"))
    assert again.status_code == 200 and again.url == live.url + "/daftar/kode"
    assert "Masukkan kode verifikasi" in again.text and "sudah terdaftar" not in again.text
    refusal = mailsink.body_of(live.mail.wait_for(f"w{nip}@example.go.id", since=mark))
    assert "tidak dapat dipakai untuk mendaftar" in refusal
    assert count(live, "learners") == 1


def test_form_post_without_csrf_is_refused_and_creates_nothing(live):
    web = Web(live.url)
    web.get("/daftar")  # a real session cookie, just no token in the form
    r = web.http.post(live.url + "/daftar", data=registration(), timeout=30)
    assert r.status_code == 400
    assert "Formulir kedaluwarsa atau tidak sah" in r.text
    assert count(live, "learners") == 0
    forged = web.http.post(live.url + "/daftar", data=registration() | {"csrf_token": "palsu"}, timeout=30)
    assert forged.status_code == 400
    assert count(live, "learners") == 0


def test_login_failure_is_identical_for_unknown_and_wrong_password(live):
    learner, _ = live.register(password=PASSWORD)
    unknown_nip = next_nip()

    def failed(nip: str, password: str) -> tuple[int, str]:
        r = Web(live.url).login(nip, password)
        return r.status_code, TOKEN_RE.sub("TOKEN", r.text).replace(f'value="{nip}"', 'value="NIP"')

    unknown = failed(unknown_nip, PASSWORD)
    wrong = failed(learner["nip"], "bukan-kata-sandinya")
    assert unknown[0] == wrong[0] == 422
    assert "NIP atau kata sandi salah." in unknown[1]
    assert unknown == wrong
    assert count(live, "tokens", "kind = 'web'") == 0


def test_login_rotates_the_session_and_ignores_foreign_next(live):
    learner, _ = live.register(password=PASSWORD)
    web = Web(live.url)
    web.get("/masuk")
    before = web.http.cookies.get("session")
    assert "evil.example" not in web.get("/masuk?next=//evil.example/").text
    ok = web.submit("/masuk", "/masuk", {"nip": learner["nip"], "password": PASSWORD, "next": "//evil.example/"})
    assert ok.url == live.url + "/" and "Peserta Uji" in ok.text
    first = web.http.cookies.get("session")
    assert first != before
    again = web.login(learner["nip"])
    assert again.url == live.url + "/"
    # A fresh Token row each login; the previous one is gone, so the previous cookie is dead.
    assert count(live, "tokens", "kind = 'web'") == 1
    stale = requests.Session()
    stale.cookies.set("session", first)
    assert "Peserta Uji" not in stale.get(live.url + "/", timeout=30).text


def test_login_returns_to_the_page_asked_for(live):
    learner, api = live.register(password=PASSWORD)
    attempt_id = api.post("/api/v1/quizzes/m01/attempts", json={}).json()["attempt"]["id"]
    web = Web(live.url)
    asked = web.get(f"/percobaan/{attempt_id}")
    assert asked.url.startswith(live.url + "/masuk?next=")
    token = TOKEN_RE.search(asked.text).group(1)
    nxt = re.search(r'name="next" value="([^"]+)"', asked.text).group(1)
    r = web.http.post(
        live.url + "/masuk",
        data={"csrf_token": token, "nip": learner["nip"], "password": PASSWORD, "next": html.unescape(nxt)},
        timeout=30,
    )
    assert r.url == f"{live.url}/percobaan/{attempt_id}"
    assert "Kirim jawaban" in r.text
    # A POST-only address cannot be reopened after login, so the form does not carry it along.
    anonymous = Web(live.url)
    bounced = anonymous.submit("/masuk", "/kuis/m01/mulai", {})
    assert bounced.url.startswith(live.url + "/masuk?next=")
    assert 'name="next"' not in bounced.text
    assert count(live, "attempts") == 1


def test_logout_ends_the_session(live):
    web = Web(live.url)
    assert "Siti Aminah" in web.register().text
    old_cookie = web.http.cookies.get("session")
    out = web.submit("/", "/keluar", {})
    assert out.url == live.url + "/"
    assert "Anda sudah keluar" in out.text and "Siti Aminah" not in out.text
    assert count(live, "tokens", "kind = 'web'") == 0
    stale = requests.Session()
    stale.cookies.set("session", old_cookie)
    home = stale.get(live.url + "/", timeout=30)
    assert "Siti Aminah" not in home.text and "Daftar" in home.text
    guarded = stale.get(live.url + "/percobaan/apa-saja", timeout=30, allow_redirects=False)
    assert guarded.status_code == 302 and "/masuk" in guarded.headers["Location"]


def test_someone_elses_attempt_is_404(live):
    _, owner = live.register()
    attempt_id = owner.post("/api/v1/quizzes/m01/attempts", json={}).json()["attempt"]["id"]
    web = Web(live.url)
    web.register()
    for path in (f"/percobaan/{attempt_id}", f"/percobaan/{attempt_id}/hasil", "/percobaan/tidak-ada"):
        r = web.get(path)
        assert r.status_code == 404, path
        assert "Percobaan kuis tidak ditemukan." in r.text
        assert "Pertanyaan nomor" not in r.text
    r = web.submit("/", f"/percobaan/{attempt_id}/kirim", {})
    assert r.status_code == 404
    assert count(live, "attempts", "submitted_at IS NOT NULL") == 0


def test_quiz_through_the_pages(live):
    web = Web(live.url)
    web.register()
    page = web.submit("/", "/kuis/m01/mulai", {})
    assert re.fullmatch(rf"{live.url}/percobaan/[0-9a-f]{{32}}", page.url)
    attempt_id = page.url.rsplit("/", 1)[1]
    # The key and the explanations stay on the server until submit.
    assert "Penjelasan" not in page.text and "correct" not in page.text
    assert len(re.findall(r'<fieldset class="soal">', page.text)) == 5
    assert 'type="checkbox"' in page.text or 'type="radio"' in page.text

    resumed = web.submit("/", "/kuis/m01/mulai", {})
    assert resumed.url == page.url and "belum dikirim" in resumed.text
    assert count(live, "attempts") == 1

    draw = live.sql("SELECT draw FROM attempts WHERE id = :id", id=attempt_id)[0][0]
    draw = draw if isinstance(draw, list) else json.loads(draw)
    right: dict[str, list[str]] = {}
    for entry in draw:
        choices = live.sql("SELECT choices FROM questions WHERE id = :id", id=entry["q"])[0][0]
        choices = choices if isinstance(choices, list) else json.loads(choices)
        key = {c["id"] for c in choices if c.get("correct")}
        right[f"q-{entry['id']}"] = [shown for shown, cid in entry["choices"] if cid in key]  # opaque field names
    done = web.submit(f"/percobaan/{attempt_id}", f"/percobaan/{attempt_id}/kirim", right)
    assert done.url == f"{live.url}/percobaan/{attempt_id}/hasil"
    assert "100%" in done.text and "Lulus" in done.text
    assert done.text.count("Jawaban benar") >= 5 and "<cite>PP 94/2021 Pasal 5 huruf n angka 2</cite>" in done.text

    assert web.get(f"/percobaan/{attempt_id}").url == done.url
    other = web.submit(f"/percobaan/{attempt_id}/hasil", f"/percobaan/{attempt_id}/kirim", answer_form(page.text))
    assert other.url == done.url and "sudah dikirim dengan jawaban lain" in other.text
    home = web.get("/")
    assert "1 dari 3" in home.text and "Lihat hasil terakhir" in home.text and "Lulus" in home.text


def test_attempt_limit_is_flashed_not_a_traceback(live):
    web = Web(live.url)
    web.register()
    for _ in range(3):
        page = web.submit("/", "/kuis/m01/mulai", {})
        attempt_id = page.url.rsplit("/", 1)[1]
        web.submit(f"/percobaan/{attempt_id}", f"/percobaan/{attempt_id}/kirim", answer_form(page.text))
    home = web.get("/")
    assert "3 dari 3" in home.text and "Kesempatan mengerjakan kuis ini sudah habis." in home.text
    refused = web.submit("/", "/kuis/m01/mulai", {})
    assert refused.url == live.url + "/"
    assert "Batas 3 kali percobaan untuk kuis ini sudah habis." in refused.text
    assert "Traceback" not in refused.text
    assert count(live, "attempts") == 3
    assert web.submit("/", "/kuis/tidak-ada/mulai", {}).status_code == 404


def test_pages_weigh_under_100_kb_with_their_css(live):
    web = Web(live.url)
    css = len(web.get("/static/site.css").content)
    sizes = {path: len(web.get(path).content) for path in ("/", "/daftar", "/masuk")}
    web.register()
    sizes["dashboard"] = len(web.get("/").content)
    page = web.submit("/", "/kuis/m01/mulai", {})
    sizes["attempt"] = len(page.content)
    attempt_id = page.url.rsplit("/", 1)[1]
    done = web.submit(f"/percobaan/{attempt_id}", f"/percobaan/{attempt_id}/kirim", answer_form(page.text))
    assert done.url.endswith("/hasil")
    sizes["result"] = len(done.content)
    for name, size in sizes.items():
        assert size + css < 100_000, (name, size, css)
    # Nothing inline that the CSP would block, and no script at all.
    for path in ("/", f"/percobaan/{attempt_id}/hasil"):
        text = web.get(path).text
        assert "<script" not in text and " style=" not in text and "<style" not in text


def test_security_headers_on_pages(live):
    web = Web(live.url)
    cookie = web.get("/daftar").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    for path in ("/", "/daftar", "/masuk", "/tidak-ada"):
        r = web.get(path)
        assert r.headers["Content-Type"].startswith("text/html"), path
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert web.register().history[0].headers["Cache-Control"] == "no-store"


def test_stored_text_is_escaped(live):
    web = Web(live.url)
    home = web.register(name="<script>alert(1)</script>", unit="<b>Unit</b>")
    assert home.url == live.url + "/"
    assert "<script>alert(1)</script>" not in home.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home.text


@pytest.fixture
def limited(tmp_path: Path, db_url: str):
    yield from start_live(tmp_path, db_url, RATE_LIMIT_LOGIN=(2, 60))


def test_login_is_rate_limited(limited):
    learner, _ = limited.register(password=PASSWORD)
    web = Web(limited.url)
    codes = [web.login(learner["nip"], "salah-terus").status_code for _ in range(2)]
    assert codes == [422, 422]
    blocked = web.login(learner["nip"], PASSWORD)  # even the right password waits out the window
    assert blocked.status_code == 429
    assert "Terlalu banyak percobaan" in blocked.text
    assert int(blocked.headers["Retry-After"]) >= 1
    assert "Peserta Uji" not in blocked.text


def test_head_with_a_form_body_changes_nothing(live):
    """CSRF protection checks POST only; HEAD must never reach a form's POST branch."""
    learner, _ = live.register(password=PASSWORD)
    web = Web(live.url)
    form = registration()
    tokens = count(live, "tokens")
    for path, data in (
        ("/daftar", form),
        ("/masuk", {"nip": learner["nip"], "password": PASSWORD}),
        ("/staf/masuk", {"username": "admin", "password": PASSWORD}),
        ("/join", {"step": "lookup", "join_code": "ABC123", "nip": learner["nip"]}),
    ):
        r = web.http.head(live.url + path, data=data, timeout=30)
        assert r.status_code in (200, 404), (path, r.status_code)
        assert "sid" not in web.http.cookies.get_dict(), path
    assert count(live, "learners", "nip = :n", n=form["nip"]) == 0
    assert count(live, "tokens") == tokens
    assert count(live, "audit_log", "action LIKE 'login%'") == 0
