"""The instansi field of /daftar and /join's register step with ~700 agencies: a search that works with
JavaScript off (templates/learner/_instansi_field.html, views/learner.search_instansi). One server for
the module, on SQLite: the agencies are loaded once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import create_engine, insert

from quiz_server.db import normalise_url
from quiz_server.models import Instansi
from tests.server.conftest import Live, next_nip, start_live
from tests.server.test_workshops import create, make_trainer

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
OPTION_RE = re.compile(r'<option value="([^"]+)"( selected)?>')
PROVINCES = ["Aceh", "Riau", "Jambi", "Bali", "Papua", "Maluku", "Banten"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("instansi")
    for live in start_live(tmp, f"sqlite:///{tmp / 'quiz.sqlite'}"):
        rows = [
            {"id": f"uji-{p.lower()}-{n:03d}", "name": f"Pemerintah Kabupaten Uji {n:03d} Provinsi {p}"}
            for p in PROVINCES
            for n in range(100)
        ]
        engine = create_engine(normalise_url(live.db_url))
        with engine.begin() as conn:
            conn.execute(insert(Instansi), rows)
        engine.dispose()
        yield live


def options(page: str) -> list[str]:
    select = page[page.index('<select id="instansi_id"') : page.index("</select>", page.index('id="instansi_id"'))]
    return [v for v, _ in OPTION_RE.findall(select)]


def selected(page: str) -> list[str]:
    return [v for v, sel in OPTION_RE.findall(page) if sel]


def test_the_search_narrows_700_agencies_with_javascript_off(site):
    everyone = requests.get(site.url + "/daftar", timeout=30).text
    assert len(options(everyone)) >= 700 and "<script" not in everyone
    assert 'name="cari"' in everyone and 'name="cari_instansi"' in everyone

    riau = requests.get(site.url + "/daftar", params={"cari": "riau 04"}, timeout=30).text
    assert options(riau) == [f"uji-riau-{n:03d}" for n in range(100) if "04" in f"{n:03d}"]  # 004, 040..049
    assert "11 instansi cocok" in riau and 'value="riau 04"' in riau

    one = requests.get(site.url + "/daftar", params={"cari": "UJI 007 provinsi BALI"}, timeout=30).text
    assert options(one) == ["uji-bali-007"] and selected(one) == ["uji-bali-007"]

    none = requests.get(site.url + "/daftar", params={"cari": "Atlantis"}, timeout=30).text
    assert len(options(none)) >= 700 and "Tidak ada instansi yang cocok" in none


def test_the_search_button_keeps_typed_values_and_registers_no_one(site):
    web = requests.Session()
    token = TOKEN_RE.search(web.get(site.url + "/daftar", timeout=30).text).group(1)
    nip = next_nip()
    email = f"siti.{nip}@example.go.id"
    typed = {"nip_kind": "pns", "nip": nip, "name": "Siti Aminah", "email": email, "unit": "Umum"}
    r = web.post(
        site.url + "/daftar",
        data={
            "csrf_token": token,
            **typed,
            "password": "rahasia-sekali-123",
            "cari": "jambi 099",
            "cari_instansi": "1",
        },
        timeout=30,
    )
    assert r.status_code == 200 and r.url == site.url + "/daftar"
    assert options(r.text) == ["uji-jambi-099"] and selected(r.text) == ["uji-jambi-099"]
    for value in (nip, "Siti Aminah", email):
        assert f'value="{value}"' in r.text
    assert "rahasia-sekali-123" not in r.text and 'class="galat"' not in r.text
    assert site.sql("SELECT count(*) FROM learners WHERE nip = :n", n=nip)[0][0] == 0
    assert site.sql("SELECT count(*) FROM pending_registrations")[0][0] == 0
    assert site.mail.messages_to(email) == []


def test_the_join_register_step_searches_too(site):
    ws = create(make_trainer(site, "pelatih-cari"))
    phone = requests.Session()
    token = TOKEN_RE.search(phone.get(site.url + f"/join?code={ws['join_code']}", timeout=30).text).group(1)
    form = phone.post(
        site.url + "/join", data={"step": "new", "code": ws["join_code"], "csrf_token": token}, timeout=30
    )
    assert form.status_code == 200 and len(options(form.text)) >= 700
    nip = next_nip()
    r = phone.post(
        site.url + "/join",
        data={
            "step": "register",
            "code": ws["join_code"],
            "csrf_token": token,
            "nip_kind": "pns",
            "nip": nip,
            "name": "Budi",
            "cari": "papua 012",
            "cari_instansi": "1",
        },
        timeout=30,
    )
    assert r.status_code == 200 and options(r.text) == ["uji-papua-012"]
    assert 'value="Budi"' in r.text and 'name="step" value="register"' in r.text
    assert site.sql("SELECT count(*) FROM learners WHERE nip = :n", n=nip)[0][0] == 0
