"""Credential lifecycle over HTTP (SQLite and PostgreSQL): logout revokes, password change and reset
end every other session, admins reset and disable accounts through the real CLI, HR grants extra
attempts, and the password policy holds everywhere. One server per database for the module; every
test makes its own accounts."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from netralitas.client import QuizClient
from netralitas.errors import Conflict
from quiz_server import db
from quiz_server.models import Staff
from quiz_server.models.base import utcnow
from quiz_server.services import lifecycle
from quiz_server.services.accounts import create_staff
from quiz_server.services.credentials import issue_token
from quiz_server.services.passwords import learner_password_problem, staff_password_problem
from tests import mailsink
from tests.conftest import MINI
from tests.server.conftest import PG_URL, _pg_schema_url, next_nip, start_live
from tests.server.test_certification import take_quiz

STAFF_PASSWORD = "kata-sandi-staf-panjang"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def srv(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lifecycle")
    # The per-address reset budget is shared by every test of the module (one client address).
    config = {"RATE_LIMIT_RESET_ADDRESS": (200, 3600)}
    if request.param == "sqlite":
        yield from start_live(tmp, f"sqlite:///{tmp / 'quiz.sqlite'}", **config)
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    for url in _pg_schema_url():
        yield from start_live(tmp, url, **config)


_staff_names = iter(range(1, 10_000))


def staff(live, role: str, instansi: str | None = None) -> tuple[str, str]:
    """A fresh staff account made as `netralitas users add` does; returns (username, API token)."""
    name = f"{role}-lc{next(_staff_names)}"
    with db.unit_of_work(live.app) as uow:
        create_staff(uow, username=name, role=role, password=STAFF_PASSWORD, instansi_id=instansi)
        uow.commit()
    return name, login(live, username=name, password=STAFF_PASSWORD).json()["token"]


def login(live, *, password: str, nip: str | None = None, username: str | None = None) -> requests.Response:
    body = {"nip": nip, "password": password} if nip else {"username": username, "password": password}
    return live.api().post("/api/v1/auth/token", json=body)


def csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def web_login(live, path: str, field: str, who: str, password: str) -> requests.Session:
    s = requests.Session()
    r = s.post(
        live.url + path,
        data={field: who, "password": password, "csrf_token": csrf(s.get(live.url + path, timeout=30).text)},
        timeout=30,
    )
    assert r.status_code == 200, r.status_code
    return s


def signed_in(s: requests.Session, live, path: str = "/akun/kata-sandi") -> bool:
    return s.get(live.url + path, allow_redirects=False, timeout=30).status_code == 200


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audited(live, action: str, target: str) -> int:
    return len(live.sql("SELECT id FROM audit_log WHERE action = :a AND target = :t", a=action, t=target))


# -- logout ---------------------------------------------------------------------------------------


def test_a_revoked_token_is_refused_at_once(srv):
    learner, api = srv.register()
    other = login(srv, nip=learner["nip"], password="rahasia-sekali-123").json()["token"]
    assert api.get("/api/v1/me/progress").status_code == 200
    r = requests.delete(srv.url + "/api/v1/auth/token", headers=bearer(api.token), timeout=30)
    assert r.status_code == 204 and r.content == b""
    refused = api.get("/api/v1/me/progress")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert requests.delete(srv.url + "/api/v1/auth/token", headers=bearer(api.token), timeout=30).status_code == 401
    assert requests.delete(srv.url + "/api/v1/auth/token", timeout=30).status_code == 401
    assert srv.api(other).get("/api/v1/me/progress").status_code == 200  # only the token it was called with
    assert srv.sql("SELECT count(*) FROM audit_log WHERE action = 'logout' AND target = 'api'")[0][0] >= 1


def test_notebook_logout_revokes_on_the_server_and_always_forgets_the_token(srv, tmp_path):
    learner, _ = srv.register()
    client = QuizClient(srv.url, tmp_path / "cfg", retries=0)
    client.login(learner["nip"], "rahasia-sekali-123")
    token = client.token
    assert srv.api(token).get("/api/v1/me/progress").status_code == 200
    assert client.logout() is True
    assert not (tmp_path / "cfg" / "token.json").exists()
    assert srv.api(token).get("/api/v1/me/progress").status_code == 401

    offline = QuizClient("http://127.0.0.1:9", tmp_path / "offline", retries=0, timeout=(1.0, 1.0))
    offline._save_token("token-tersimpan", nip=learner["nip"])
    assert offline.logout() is False  # the widget then says the token stays valid on the server
    assert not (tmp_path / "offline" / "token.json").exists()


def test_web_logout_ends_the_session_row(srv):
    learner, _ = srv.register()
    s = web_login(srv, "/masuk", "nip", learner["nip"], "rahasia-sekali-123")
    stolen = requests.Session()
    stolen.cookies.update(s.cookies)
    assert signed_in(stolen, srv)
    page = s.get(srv.url + "/akun/kata-sandi", timeout=30).text
    assert s.post(srv.url + "/keluar", data={"csrf_token": csrf(page)}, timeout=30).status_code == 200
    assert not signed_in(stolen, srv)  # the old cookie names a deleted row


# -- password change ------------------------------------------------------------------------------


def test_password_change_keeps_this_token_and_ends_every_other_session(srv):
    learner, api = srv.register()
    nip, old, new = learner["nip"], "rahasia-sekali-123", "teh-manis-di-sore-hari"
    other = login(srv, nip=nip, password=old).json()["token"]
    web = web_login(srv, "/masuk", "nip", nip, old)

    def change(current: str, new_password: str) -> requests.Response:
        return api.post("/api/v1/auth/password", json={"current_password": current, "new_password": new_password})

    wrong = change("bukan-sandinya-123", new)
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "wrong_password"
    for weak in ("pendek-9c", "password1234", f"x{nip}y"):
        r = change(old, weak)
        assert r.status_code == 422 and r.json()["error"]["code"] == "weak_password", (weak, r.text)
    assert srv.api(other).get("/api/v1/me/progress").status_code == 200  # refusals changed nothing

    ok = change(old, new)
    assert ok.status_code == 200, ok.text
    assert ok.json()["sessions_revoked"] == 2
    assert api.get("/api/v1/me/progress").status_code == 200
    assert srv.api(other).get("/api/v1/me/progress").status_code == 401
    assert not signed_in(web, srv)
    assert login(srv, nip=nip, password=old).status_code == 401
    assert login(srv, nip=nip, password=new).status_code == 200
    assert audited(srv, "password_changed", f"learner:{learner['id']}") == 1


def test_staff_change_their_password_on_the_web_and_other_sessions_die(srv):
    name, token = staff(srv, "trainer")
    web = web_login(srv, "/staf/masuk", "username", name, STAFF_PASSWORD)
    assert web.get(srv.url + "/akun/kata-sandi", allow_redirects=False, timeout=30).status_code == 403
    page = web.get(srv.url + "/staf/kata-sandi", timeout=30)
    assert page.status_code == 200 and "Paling sedikit 12 karakter" in page.text
    form = {"csrf_token": csrf(page.text), "current_password": STAFF_PASSWORD}
    weak = web.post(srv.url + "/staf/kata-sandi", data=form | {"new_password": "a" * 12, "new_password2": "a" * 12})
    assert weak.status_code == 422 and "seragam" in weak.text
    new = "jeruk-nipis-dan-madu-7"
    r = web.post(srv.url + "/staf/kata-sandi", data=form | {"new_password": new, "new_password2": new}, timeout=30)
    assert r.status_code == 200 and "Kata sandi sudah diganti" in r.text
    assert signed_in(web, srv, "/staf/kata-sandi")  # this browser stays signed in
    assert srv.api(token).get("/api/v1/workshops").status_code == 401
    assert login(srv, username=name, password=new).status_code == 200


# -- password reset by email ----------------------------------------------------------------------


def test_reset_request_answers_the_same_whether_the_nip_is_registered(srv):
    learner, _ = srv.register()
    mark = srv.mail.mark()
    known = srv.api().post("/api/v1/auth/password-reset", json={"nip": learner["nip"]})
    unknown = srv.api().post("/api/v1/auth/password-reset", json={"nip": next_nip()})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    skip = {"Date"}
    assert {k: v for k, v in known.headers.items() if k not in skip} == {
        k: v for k, v in unknown.headers.items() if k not in skip
    }
    msg = srv.mail.wait_for(learner["email"], since=mark)
    assert "/atur-ulang-sandi?t=" in mailsink.link_in(msg)
    # The web form too: one page for both.
    s = requests.Session()
    token = csrf(s.get(srv.url + "/lupa-sandi", timeout=30).text)
    pages = [
        s.post(srv.url + "/lupa-sandi", data={"nip": nip, "csrf_token": token}, timeout=30)
        for nip in (learner["nip"], next_nip())
    ]
    assert pages[0].status_code == pages[1].status_code == 200
    assert pages[0].text == pages[1].text
    assert pages[0].headers["Referrer-Policy"] == "no-referrer"


def test_reset_link_sets_a_new_password_once_and_revokes_every_token(srv):
    learner, api = srv.register()
    nip, old, new = learner["nip"], "rahasia-sekali-123", "kopi-tubruk-tanpa-gula"
    mark = srv.mail.mark()
    assert srv.api().post("/api/v1/auth/password-reset", json={"nip": nip}).status_code == 202
    link = mailsink.link_in(srv.mail.wait_for(learner["email"], since=mark))
    assert link.startswith(srv.url + "/atur-ulang-sandi?t=")
    raw = parse_qs(urlsplit(link).query)["t"][0]
    stored = srv.sql("SELECT token_hash FROM password_resets WHERE learner_id = :i", i=learner["id"])
    assert stored == [(hashlib.sha256(raw.encode()).hexdigest(),)]  # only the digest is kept

    def confirm(password: str) -> requests.Response:
        return srv.api().post("/api/v1/auth/password-reset/confirm", json={"token": raw, "new_password": password})

    weak = confirm("qwertyuiop123")
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    assert api.get("/api/v1/me/progress").status_code == 200  # a refused reset changes nothing
    done = confirm(new)
    assert done.status_code == 200, done.text
    assert srv.api(done.json()["token"]).get("/api/v1/me/progress").status_code == 200  # signed in
    assert api.get("/api/v1/me/progress").status_code == 401
    assert login(srv, nip=nip, password=old).status_code == 401
    assert login(srv, nip=nip, password=new).status_code == 200
    again = confirm("lagi-dan-lagi-sandinya")
    assert again.status_code == 422 and again.json()["error"]["code"] == "invalid_reset_token"
    assert srv.api().get(f"/atur-ulang-sandi?t={raw}").status_code == 410
    assert audited(srv, "password_reset", f"learner:{learner['id']}") == 1


def test_reset_link_expires_after_30_minutes(srv):
    learner, _ = srv.register()
    links = {}
    for minutes in (31, 29):
        with db.unit_of_work(srv.app) as uow:
            when = utcnow() - dt.timedelta(minutes=minutes)  # an explicit clock instead of waiting
            mail = lifecycle.request_reset(uow, learner["nip"], link_base="http://x/atur-ulang-sandi", now=when)
            uow.commit()
        links[minutes] = re.search(r"\?t=(\S+)", mail.body).group(1)
    body = {"token": links[31], "new_password": "sudah-terlambat-sekali"}
    late = srv.api().post("/api/v1/auth/password-reset/confirm", json=body)
    assert late.status_code == 422 and late.json()["error"]["code"] == "invalid_reset_token"
    assert srv.api().get(f"/atur-ulang-sandi?t={links[31]}").status_code == 410
    assert srv.api().get(f"/atur-ulang-sandi?t={links[29]}").status_code == 200
    body = {"token": links[29], "new_password": "masih-sempat-rupanya"}
    assert srv.api().post("/api/v1/auth/password-reset/confirm", json=body).status_code == 200


def test_reset_requests_are_throttled_per_nip_whatever_its_spelling(srv):
    learner, _ = srv.register()
    for nip in (learner["nip"], next_nip()):
        spaced = f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"
        answers = [
            srv.api().post("/api/v1/auth/password-reset", json={"nip": n}).status_code
            for n in (nip, spaced, f" {nip} ", nip)
        ]
        assert answers == [202, 202, 202, 429], (nip, answers)


# -- admin CLI ------------------------------------------------------------------------------------


def cli(srv, tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "NETRALITAS_INSTANCE": str(tmp_path / "instance"),
        "NETRALITAS_CONTENT": str(MINI),
        "DATABASE_URL": srv.db_url,
    }
    return subprocess.run(
        [str(BIN / "netralitas"), "users", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_cli_resets_a_lost_admin_password_and_disables_staff(srv, tmp_path):
    admin, token = staff(srv, "admin")
    with db.unit_of_work(srv.app) as uow, pytest.raises(Conflict) as exc:  # `users add` of a lost admin
        create_staff(uow, username=admin, role="admin", password="kata-sandi-admin-2", instansi_id=None)
    assert exc.value.code == "user_exists" and f"netralitas users reset-password {admin}" in exc.value.message

    reset = cli(srv, tmp_path, "reset-password", admin)
    assert reset.returncode == 0, reset.stderr
    new = re.search(r"hanya ditampilkan sekali\): (\S+)", reset.stdout).group(1)
    assert staff_password_problem(new, admin) is None
    assert srv.api(token).get("/api/v1/reports/national").status_code == 401  # at once
    assert login(srv, username=admin, password=STAFF_PASSWORD).status_code == 401
    assert login(srv, username=admin, password=new).status_code == 200

    trainer, t_token = staff(srv, "trainer")
    web = web_login(srv, "/staf/masuk", "username", trainer, STAFF_PASSWORD)
    assert cli(srv, tmp_path, "disable", trainer).returncode == 0
    assert srv.api(t_token).get("/api/v1/workshops").status_code == 401
    assert not signed_in(web, srv, "/staf/kata-sandi")
    with db.unit_of_work(srv.app) as uow:  # a token that outlived the disabling (e.g. a race) is refused too
        staff_id = uow.session.scalar(select(Staff.id).where(Staff.username == trainer))
        late = issue_token(uow.write(), kind="api", staff_id=staff_id)
        uow.commit()
    assert srv.api(late).get("/api/v1/workshops").status_code == 401
    refused = login(srv, username=trainer, password=STAFF_PASSWORD)
    wrong = login(srv, username=trainer, password="bukan-ini-sandinya")
    assert refused.status_code == wrong.status_code == 401 and refused.json() == wrong.json()
    listed_run = cli(srv, tmp_path, "list")
    listed = listed_run.stdout
    assert listed_run.returncode == 0, listed_run.stderr
    assert re.search(rf"^{trainer}\ttrainer\t-\tnonaktif", listed, re.M) and re.search(
        rf"^{admin}\tadmin\t-\taktif", listed, re.M
    )
    assert cli(srv, tmp_path, "enable", trainer).returncode == 0
    assert login(srv, username=trainer, password=STAFF_PASSWORD).status_code == 200

    # A learner by NIP: the same service the command calls, in process (each CLI run costs seconds).
    learner, l_api = srv.register()
    with db.unit_of_work(srv.app) as uow:
        assert (
            lifecycle.admin_reset_password(uow, learner["nip"], "sandi-baru-dari-admin") == f"peserta {learner['nip']}"
        )
        uow.commit()
    assert l_api.get("/api/v1/me/progress").status_code == 401
    assert login(srv, nip=learner["nip"], password="sandi-baru-dari-admin").status_code == 200
    assert srv.sql("SELECT count(*) FROM audit_log WHERE action = 'password_reset_by_admin'")[0][0] >= 2


# -- attempt grants -------------------------------------------------------------------------------


def test_hr_of_the_learners_instansi_grants_extra_attempts(srv):
    learner, api = srv.register(instansi_id="kab-bengkalis")
    for _ in range(3):  # the mini course allows 3
        take_quiz(srv, api, right=False)
    full = api.post("/api/v1/quizzes/m01/attempts", json={})
    assert full.status_code == 409 and full.json()["error"]["code"] == "attempt_limit_reached"

    _, hr = staff(srv, "hr", "kab-bengkalis")
    _, other_hr = staff(srv, "hr", "bkn")
    _, trainer = staff(srv, "trainer")
    path = f"/api/v1/learners/{learner['nip']}/attempt-grants"
    body = {"quiz_id": "m01", "extra": 1, "reason": "Listrik padam saat percobaan ketiga"}
    assert srv.api(other_hr).post(path, json=body).status_code == 404
    assert srv.api(other_hr).post("/api/v1/learners/199001012015031999/attempt-grants", json=body).status_code == 404
    assert srv.api(trainer).post(path, json=body).status_code == 403
    assert api.post(path, json=body).status_code == 403
    assert srv.api(hr).post(path, json=body | {"reason": "  "}).status_code == 422
    assert srv.api(hr).post(path, json=body | {"quiz_id": "m99"}).status_code == 404
    assert srv.api(hr).post(path, json=body | {"extra": 11}).status_code == 422
    assert api.post("/api/v1/quizzes/m01/attempts", json={}).status_code == 409  # refusals granted nothing

    r = srv.api(hr).post(path, json=body)
    assert r.status_code == 201, r.text
    module = api.get("/api/v1/me/progress").json()["modules"][0]
    assert module["attempts_allowed"] == 4
    assert [g["reason"] for g in module["grants"]] == [body["reason"]]
    web = web_login(srv, "/masuk", "nip", learner["nip"], "rahasia-sekali-123")
    assert f"Anda mendapat 1 kesempatan tambahan dari HR: {body['reason']}" in web.get(srv.url + "/", timeout=30).text

    take_quiz(srv, api, right=False)  # the fourth attempt
    assert api.post("/api/v1/quizzes/m01/attempts", json={}).status_code == 409  # exactly N more
    assert audited(srv, "attempt_grant", f"learner:{learner['id']}") == 1


def test_hr_grant_form_is_scoped_to_its_own_instansi(srv):
    learner, api = srv.register(instansi_id="kab-bengkalis")
    own, _ = staff(srv, "hr", "kab-bengkalis")
    other, _ = staff(srv, "hr", "bkn")
    form = {"nip": learner["nip"], "quiz_id": "m01", "extra": "2", "reason": "Mutasi unit kerja"}
    for name, expected in ((other, 404), (own, 200)):
        s = web_login(srv, "/staf/masuk", "username", name, STAFF_PASSWORD)
        page = s.get(srv.url + "/hr/kesempatan-tambahan", timeout=30)
        assert page.status_code == 200
        r = s.post(srv.url + "/hr/kesempatan-tambahan", data=form | {"csrf_token": csrf(page.text)}, timeout=30)
        assert r.status_code == expected, (name, r.status_code)
    assert "Mutasi unit kerja" in r.text  # the own HR's list of recent grants
    assert api.get("/api/v1/me/progress").json()["modules"][0]["attempts_allowed"] == 5


# -- password policy ------------------------------------------------------------------------------


def test_password_policy_rules():
    nip = "199001012015031001"
    assert learner_password_problem("sembilan9", nip) == "Kata sandi minimal 10 karakter."
    assert "terlalu umum" in learner_password_problem("Password123", nip)
    assert "NIP" in learner_password_problem(f"sandi{nip}", nip)
    assert learner_password_problem("sepuluh-10", nip) is None
    assert staff_password_problem("panjang-11c", "hr1") == "Kata sandi minimal 12 karakter."
    for weak in ("aaaaaaaaaaaa", "123456789012", "pelatih-satu-2026", "qwertyuiop123"):
        assert staff_password_problem(weak, "pelatih-satu") is not None, weak
    assert staff_password_problem("kursi-meja-lemari-9", "pelatih-satu") is None


def test_registration_and_staff_creation_apply_the_policy(srv):
    body = {"nip": next_nip(), "name": "Peserta", "email": "p@example.go.id", "instansi_id": "kab-bengkalis"}
    r = srv.api().post("/api/v1/learners", json=body | {"unit": "Umum", "password": "sembilan9"})
    assert r.status_code == 422
    with db.unit_of_work(srv.app) as uow:
        for weak in ("sebelas-11c", "password1234", "aaaaaaaaaaaa"):
            with pytest.raises(Exception) as exc:  # the kind is checked below
                create_staff(
                    uow, username=f"lemah-{next(_staff_names)}", role="trainer", password=weak, instansi_id=None
                )
            assert getattr(exc.value, "code", None) == "weak_password", weak
