"""The trainer notes page /pelatih/catatan over real HTTP: who may read it, what it shows, and that no
learner page ever shows a trainer note.

The mini course has no trainer notes, so each test runs on a copy with notes added to the lesson, a
case, every question, both exercises and one rule, and with a second module to filter by.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from quiz_server import db
from quiz_server.services import accounts
from tests.conftest import MINI
from tests.server.conftest import Live, start_live
from tests.server.test_pages import Web, answer_form

PASSWORD = "pelatih-rahasia-123"
MARK = "CATATAN-PELATIH"  # in every trainer note of the copy, and in no learner text
RULE_NOTE = f"{MARK} aturan: kutipan di berita tidak sama dengan salinan JDIH <b>tebal</b>."
QUOTE = "PNS dilarang memberikan dukungan kepada calon Presiden/Wakil Presiden"


def _edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _add_notes(folder: Path, module_id: str) -> None:
    lesson = folder / "lesson.md"
    note = f"{MARK} pelajaran {module_id}: bahas dulu contoh seragam dinas."
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("\n---\n", f"\ntrainer_note: {json.dumps(note)}\n---\n", 1),
        encoding="utf-8",
    )

    def questions(data):
        for q in data["questions"]:
            q["trainer_note"] = f"{MARK} soal {q['id']}: kunci bergantung pada tahap pemilu."

    def cases(data):
        data["cases"][0]["trainer_note"] = f"{MARK} kasus {data['cases'][0]['id']}: sumber berbeda soal tanggal."

    def exercises(data):
        data["classification"]["trainer_note"] = f"{MARK} klasifikasi {module_id}: s3 sengaja tidak melanggar."
        data["case_analysis"]["trainer_note"] = f"{MARK} analisis {module_id}: nilai penalarannya."

    _edit_yaml(folder / "questions.yaml", questions)
    _edit_yaml(folder / "cases.yaml", cases)
    _edit_yaml(folder / "exercises.yaml", exercises)


def noted_course(dest: Path) -> Path:
    """A copy of the mini course with trainer notes everywhere and a second module m02."""
    shutil.copytree(MINI, dest)
    second = dest / "modules" / "02-salinan"
    shutil.copytree(dest / "modules" / "01-contoh", second)
    for path in second.iterdir():
        path.write_text(path.read_text(encoding="utf-8").replace("m01", "m02"), encoding="utf-8")
    _edit_yaml(
        dest / "course.yaml",
        lambda c: c["modules"].append({"id": "m02", "dir": "02-salinan", "title": "Modul salinan"}),
    )
    _add_notes(dest / "modules" / "01-contoh", "m01")
    _add_notes(second, "m02")

    def rules(data):
        rule = next(r for r in data["rules"] if r["id"] == "pp94-2021-p5n2")
        rule["confidence"] = "primary"
        rule["official_text"] = {
            "source": "https://peraturan.bpk.go.id/Details/175659/pp-no-94-tahun-2021",
            "quote": QUOTE,
            "checked_on": "2026-12-01",
        }
        rule["note"] = RULE_NOTE

    _edit_yaml(dest / "regulations.yaml", rules)
    return dest


@pytest.fixture
def live(tmp_path: Path, db_url: str) -> Iterator[Live]:
    yield from start_live(tmp_path, db_url, content=noted_course(tmp_path / "content"))


def trainer(live: Live, username: str = "pelatih1", role: str = "trainer") -> Web:
    with db.unit_of_work(live.app) as uow:
        accounts.create_staff(uow, username=username, role=role, password=PASSWORD, instansi_id=None)
        uow.commit()
    web = Web(live.url)
    r = web.submit("/staf/masuk", "/staf/masuk", {"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return web


def test_trainer_reads_every_kind_of_note_linked_from_the_workshop_list(live):
    web = trainer(live)
    index = web.get("/pelatih/")
    assert 'href="/pelatih/catatan"' in index.text
    page = web.get("/pelatih/catatan")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = html.unescape(page.text)
    assert "<h1>Catatan pelatih</h1>" in page.text
    for module_id in ("m01", "m02"):
        assert f"{MARK} pelajaran {module_id}: bahas dulu contoh seragam dinas." in text
        assert f"{MARK} soal {module_id}-q001: kunci bergantung pada tahap pemilu." in text
        assert f"{MARK} kasus {module_id}-k01: sumber berbeda soal tanggal." in text
        assert f"{MARK} klasifikasi {module_id}: s3 sengaja tidak melanggar." in text
        assert f"{MARK} analisis {module_id}: nilai penalarannya." in text
    # Each note comes with its item's id and a line of the learner text it belongs to.
    assert "<h4>m01-q001</h4>" in page.text and "Pertanyaan nomor 1?" in page.text
    assert "Seragam dinas di kampanye: Seorang PNS datang ke kampanye" in text
    # The rule: citation, confidence label, note (escaped), official source and quote, in each module citing it.
    assert "Aturan yang dikutip" in page.text
    assert page.text.count("<cite>PP 94/2021 Pasal 5 huruf n angka 2</cite>") == 2
    assert "Keyakinan: <strong>teks primer</strong>" in page.text
    assert html.escape(RULE_NOTE, quote=False) in page.text and "<b>tebal</b>" not in page.text
    assert 'href="https://peraturan.bpk.go.id/Details/175659/pp-no-94-tahun-2021"' in page.text
    assert QUOTE in page.text and "dicek 1 Desember 2026" in page.text
    # Rules without a note (p5n4, p5n1) are not listed.
    assert "Pasal 5 huruf n angka 4" not in page.text
    # An admin reads it too.
    assert trainer(live, "admin1", "admin").get("/pelatih/catatan").status_code == 200


def test_module_filter(live):
    web = trainer(live)
    page = web.get("/pelatih/catatan?modul=m02")
    assert page.status_code == 200
    assert '<option value="m02" selected>Modul salinan</option>' in page.text
    assert f"{MARK} soal m02-q001" in page.text and "m01-" not in page.text
    assert page.text.count('class="modul-catatan"') == 1
    everything = web.get("/pelatih/catatan?modul=")
    assert everything.text.count('class="modul-catatan"') == 2
    assert f"{MARK} soal m01-q001" in everything.text and f"{MARK} soal m02-q001" in everything.text
    assert web.get("/pelatih/catatan?modul=tidak-ada").status_code == 404


def test_an_edited_note_shows_without_a_restart(live):
    web = trainer(live)
    assert "dicek ulang" not in web.get("/pelatih/catatan?modul=m01").text
    content = Path(live.app.config["CONTENT_PATH"])
    questions = content / "modules" / "01-contoh" / "questions.yaml"
    questions.write_text(
        questions.read_text(encoding="utf-8").replace("kunci bergantung", "kunci dicek ulang"), encoding="utf-8"
    )
    later = questions.stat().st_mtime + 5  # a coarse file-system clock must still see a newer file
    os.utime(questions, (later, later))
    assert f"{MARK} soal m01-q001: kunci dicek ulang" in web.get("/pelatih/catatan?modul=m01").text


def test_learners_and_anonymous_are_kept_out(live):
    anon = Web(live.url).get("/pelatih/catatan", allow_redirects=False)
    assert anon.status_code == 302 and anon.headers["Location"].startswith("/staf/masuk")
    learner = Web(live.url)
    learner.register()
    refused = learner.get("/pelatih/catatan")
    assert refused.status_code == 403 and MARK not in refused.text


def test_no_learner_page_shows_a_trainer_note(live):
    pages = {"welcome": Web(live.url).get("/")}
    web = Web(live.url)
    web.register()
    pages["dashboard"] = web.get("/")
    attempt = web.submit("/", "/kuis/m01/mulai", {})
    assert re.search(r"/percobaan/[0-9a-f]{32}$", attempt.url)
    pages["attempt"] = attempt
    attempt_id = attempt.url.rsplit("/", 1)[1]
    result = web.submit(f"/percobaan/{attempt_id}", f"/percobaan/{attempt_id}/kirim", answer_form(attempt.text))
    assert result.url.endswith("/hasil")
    pages["result"] = result
    pages["dashboard after"] = web.get("/")
    # Every question of the copy has a note, so every drawn question would betray one.
    assert "Pertanyaan nomor" in result.text
    for name, r in pages.items():
        assert r.status_code == 200, name
        assert MARK not in html.unescape(r.text), name
