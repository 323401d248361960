"""Log in through the agency's OpenID provider (issue #15, Identity), against a real provider: the npm
package oidc-provider (tests/oidc/provider.mjs) in a subprocess, and the quiz server over HTTP on
SQLite and PostgreSQL. The browser is `requests` following the redirects and filling the provider's
own login form. One provider and one server per database for the module; every test has its own
provider accounts (the provider reads its accounts file on every login) and NIPs."""

from __future__ import annotations

import html
import itertools
import json
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from quiz_server.services.credentials import verify_password
from tests.conftest import ROOT
from tests.server.conftest import PG_URL, _pg_schema_url, next_nip, start_live

OIDC_DIR = ROOT / "tests" / "oidc"
CLIENT_ID = "netralitas"
CLIENT_SECRET = "rahasia-klien-uji-oidc"
INSTANSI = "kab-bengkalis"
_subs = itertools.count(1)


class Provider:
    def __init__(self, tmp: Path) -> None:
        self.accounts_file = tmp / "accounts.json"
        self.accounts: dict[str, dict] = {}
        self.save()
        issuer_file = tmp / "issuer.txt"
        self.log = (tmp / "provider.log").open("w")
        self.proc = subprocess.Popen(
            [
                "node",
                str(OIDC_DIR / "provider.mjs"),
                # A loopback redirect URI: the provider accepts it on any port (the quiz server's own).
                "--redirect-uri=http://127.0.0.1/masuk/oidc/callback",
                f"--accounts={self.accounts_file}",
                f"--issuer-file={issuer_file}",
                f"--client-id={CLIENT_ID}",
                f"--client-secret={CLIENT_SECRET}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.issuer = issuer_file.read_text()
                if requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5).ok:
                    break
            except (FileNotFoundError, requests.ConnectionError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"oidc-provider did not start: {(tmp / 'provider.log').read_text()[-2000:]}")
            time.sleep(0.05)  # polling the provider's start, bounded by the deadline above

    def save(self) -> None:
        self.accounts_file.write_text(json.dumps(self.accounts))

    def account(self, **claims) -> str:
        """A new account at the provider; returns its ``sub``."""
        sub = f"pegawai-{next(_subs)}"
        self.accounts[sub] = {"email_verified": True, **claims}
        self.save()
        return sub

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        if shutil.which("npm") is None or shutil.which("node") is None:
            pytest.skip("OpenID Connect tidak diuji: node/npm tidak terpasang (tests/oidc butuh Node.js 20+)")
        pytest.fail("tests/oidc/node_modules belum ada: jalankan `npm ci --prefix tests/oidc` (make test melakukannya)")
    provider = Provider(tmp_path_factory.mktemp("idp"))
    yield provider
    provider.stop()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def srv(request, idp, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("oidc")
    config = {
        "OIDC_ISSUER": idp.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_INSTANSI": INSTANSI,
    }
    if request.param == "sqlite":
        yield from start_live(tmp, f"sqlite:///{tmp / 'quiz.sqlite'}", **config)
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    for url in _pg_schema_url():
        yield from start_live(tmp, url, **config)


def _follow(s: requests.Session, r: requests.Response, stop: str | None = None) -> tuple[requests.Response, str]:
    """Follow redirects one by one; stop before one that goes to ``stop`` and return its address."""
    while r.is_redirect:
        loc = urljoin(r.url, r.headers["Location"])
        if stop and loc.startswith(stop):
            return r, loc
        r = s.get(loc, allow_redirects=False, timeout=30)
    return r, r.url


def idp_login(live, sub: str, *, stop_at_callback: bool = False) -> tuple[requests.Session, requests.Response, str]:
    """A fresh browser clicks "Masuk dengan akun instansi" and signs in at the provider as ``sub``.
    Returns the browser, the last answer and, with ``stop_at_callback``, the callback address not yet
    opened."""
    s = requests.Session()
    r, _ = _follow(s, s.get(live.url + "/masuk/oidc", allow_redirects=False, timeout=30))
    form = re.search(r'<form[^>]*action="([^"]+)"', r.text)
    assert form and 'name="login"' in r.text, r.text[:500]
    stop = live.url + "/masuk/oidc/callback" if stop_at_callback else None
    data = {"prompt": "login", "login": sub, "password": "apa-saja"}
    r, at = _follow(
        s, s.post(urljoin(r.url, html.unescape(form.group(1))), data=data, allow_redirects=False, timeout=30), stop
    )
    if 'name="prompt" value="consent"' in r.text:  # a native client confirms each authorization
        form = re.search(r'<form[^>]*action="([^"]+)"', r.text)
        data = {"prompt": "consent"}
        r, at = _follow(
            s, s.post(urljoin(r.url, html.unescape(form.group(1))), data=data, allow_redirects=False, timeout=30), stop
        )
    return s, r, at


def signed_in(live, s: requests.Session) -> bool:
    return s.get(live.url + "/akun/kata-sandi", allow_redirects=False, timeout=30).status_code == 200


def links(live, sub: str) -> list:
    return live.sql("SELECT learner_id, issuer FROM oidc_links WHERE subject = :s", s=sub)


def test_first_login_creates_the_learner_and_the_same_sub_finds_it_again(srv, idp):
    nip = next_nip()
    spaced = f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"  # as the provider may format it
    sub = idp.account(nip=spaced, name="Rina Kartika, S.H.", email="Rina.K@Bengkalis.go.id", unit="Bagian Hukum")
    assert "Masuk dengan akun instansi" in requests.get(srv.url + "/masuk", timeout=30).text

    s, r, _ = idp_login(srv, sub)
    assert r.status_code == 200 and r.url == srv.url + "/", (r.status_code, r.url)
    assert "Selamat datang, Rina Kartika, S.H.!" in r.text
    assert signed_in(srv, s)
    rows = srv.sql("SELECT id, name, email, instansi_id, unit, nip_kind FROM learners WHERE nip = :n", n=nip)
    assert [tuple(row[1:]) for row in rows] == [
        ("Rina Kartika, S.H.", "Rina.K@bengkalis.go.id", INSTANSI, "Bagian Hukum", "pns")
    ]
    learner_id = rows[0][0]
    assert [tuple(x) for x in links(srv, sub)] == [(learner_id, idp.issuer)]
    # No password works for an account the provider made, the dummy-hash one included.
    r = srv.api().post("/api/v1/auth/token", json={"nip": nip, "password": "netralitas-dummy-password"})
    assert r.status_code == 401

    # The provider now reports another NIP and email for the same person: the link, not the claim, decides.
    idp.accounts[sub] |= {"nip": next_nip(), "email": "rina.baru@bengkalis.go.id"}
    idp.save()
    s2, r, _ = idp_login(srv, sub)
    assert r.status_code == 200 and signed_in(srv, s2)
    assert srv.sql("SELECT count(*) FROM learners WHERE nip = :n", n=idp.accounts[sub]["nip"])[0][0] == 0
    assert [tuple(x) for x in links(srv, sub)] == [(learner_id, idp.issuer)]
    audit = srv.sql(
        "SELECT action, detail FROM audit_log WHERE actor = :a AND action = 'oidc_login' ORDER BY id",
        a=f"learner:{learner_id}",
    )
    outcomes = [(d if isinstance(d, dict) else json.loads(d))["outcome"] for _, d in audit]
    assert outcomes == ["created", "linked"]


def test_a_learner_registered_at_the_instansi_is_linked_not_duplicated(srv, idp):
    learner, _ = srv.register(instansi_id=INSTANSI, name="Ahmad Fauzi")
    sub = idp.account(nip=learner["nip"], name="Ahmad Fauzi, S.Kom.", email="ahmad@bengkalis.go.id")
    s, r, _ = idp_login(srv, sub)
    assert r.status_code == 200 and signed_in(srv, s)
    ids = srv.sql("SELECT id, name FROM learners WHERE nip = :n", n=learner["nip"])
    assert [tuple(x) for x in ids] == [(learner["id"], "Ahmad Fauzi")]  # the account as registered
    assert [x[0] for x in links(srv, sub)] == [learner["id"]]

    # A second provider account naming the same NIP does not take this learner over.
    other = idp.account(nip=learner["nip"], name="Orang Lain", email="lain@bengkalis.go.id")
    s, r, _ = idp_login(srv, other)
    assert r.status_code == 403 and 'data-kode="oidc_already_linked"' in r.text
    assert not signed_in(srv, s) and links(srv, other) == []


def test_an_nip_registered_under_another_instansi_is_refused(srv, idp):
    learner, _ = srv.register(instansi_id="kab-manggarai", name="Maria Goreti", unit="Dinas Pendidikan")
    sub = idp.account(nip=learner["nip"], name="Maria Goreti", email="maria@bengkalis.go.id")
    s, r, _ = idp_login(srv, sub)
    assert r.status_code == 403 and 'data-kode="oidc_other_instansi"' in r.text
    assert "HR" in r.text
    for detail in ("Manggarai", "Dinas Pendidikan", "kab-manggarai"):  # nothing about the other account
        assert detail not in r.text
    assert not signed_in(srv, s)
    assert links(srv, sub) == []
    assert [tuple(x) for x in srv.sql("SELECT instansi_id, email FROM learners WHERE nip = :n", n=learner["nip"])] == [
        ("kab-manggarai", learner["email"])
    ]
    refused = srv.sql("SELECT detail FROM audit_log WHERE action = 'oidc_login_refused'")
    reasons = [(d if isinstance(d, dict) else json.loads(d))["reason"] for (d,) in refused]
    assert "oidc_other_instansi" in reasons


def test_a_tampered_state_is_refused_and_the_genuine_one_still_works(srv, idp):
    nip = next_nip()
    sub = idp.account(nip=nip, name="Dewi Lestari", email="dewi@bengkalis.go.id")
    s, _, callback = idp_login(srv, sub, stop_at_callback=True)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert {"code", "state"} <= set(query), query
    forged = f"{srv.url}{parts.path}?{urlencode({**query, 'state': query['state'][::-1]})}"
    r = s.get(forged, allow_redirects=False, timeout=30)
    assert r.status_code == 400 and 'data-kode="oidc_state_invalid"' in r.text
    assert not signed_in(srv, s)
    assert srv.sql("SELECT count(*) FROM learners WHERE nip = :n", n=nip)[0][0] == 0

    # The same browser with the untouched answer signs in, so it was the state that was refused...
    r, _ = _follow(s, s.get(callback, allow_redirects=False, timeout=30))
    assert r.status_code == 200 and signed_in(srv, s)
    # ...and the answer cannot be replayed, by this browser or another.
    for browser in (s, requests.Session()):
        r = browser.get(callback, allow_redirects=False, timeout=30)
        assert r.status_code == 400 and 'data-kode="oidc_state_invalid"' in r.text


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"name": "Tanpa NIP", "email": "tanpa.nip@bengkalis.go.id"}, "oidc_claim_missing"),
        ({"nip": "199013012015031001", "name": "NIP Salah", "email": "salah@bengkalis.go.id"}, "oidc_invalid_nip"),
        ({"nip": "{nip}", "name": "Tanpa Email"}, "oidc_claim_missing"),
    ],
)
def test_a_missing_or_invalid_claim_gives_an_error_page_and_creates_nothing(srv, idp, claims, code):
    nip = next_nip()
    claims = {k: v.format(nip=nip) for k, v in claims.items()}
    sub = idp.account(**claims)
    s, r, _ = idp_login(srv, sub)
    assert r.status_code == 422 and f'data-kode="{code}"' in r.text, (r.status_code, r.text[-800:])
    assert "akun instansi" in r.text.lower()
    assert not signed_in(srv, s) and links(srv, sub) == []
    assert srv.sql("SELECT count(*) FROM learners WHERE nip = :n", n=nip)[0][0] == 0


def test_no_password_matches_an_account_without_one():
    """An erased learner's empty hash must not accept the dummy hash's password (it did)."""
    assert not verify_password("", "netralitas-dummy-password")
    assert not verify_password(None, "netralitas-dummy-password")


def test_a_provider_that_is_down_gives_an_error_page(tmp_path):
    with socket.socket() as sock:  # a port with nobody listening on it
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = {"OIDC_ISSUER": dead, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET}
    for live in start_live(tmp_path, f"sqlite:///{tmp_path / 'quiz.sqlite'}", **config):
        r = requests.get(live.url + "/masuk/oidc", allow_redirects=False, timeout=30)
        assert r.status_code == 503 and 'data-kode="oidc_unavailable"' in r.text
        assert "NIP dan kata sandi" in r.text
