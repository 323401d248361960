"""The web learner's path to a certificate, over HTTP on SQLite and PostgreSQL: dashboard progress and
certificate status in the words of the course's track, attempt history (a worse retry keeps the passing
attempt's feedback reachable), the wrong-answer summary, dates in one format, and the instansi search."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import MINI, on_exercises_track
from tests.server.conftest import Live, start_live

PASSWORD = "rahasia-sekali-123"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
DATE_RE = r"\d{1,2} (Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|Desember) \d{4}"


class Browser:
    """Cookies and CSRF tokens, as a browser with JavaScript off."""

    def __init__(self, live: Live) -> None:
        self.live, self.http = live, requests.Session()

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.live.url + path, timeout=30)

    def post(self, page: str, action: str, data: dict) -> requests.Response:
        token = TOKEN_RE.search(self.get(page).text).group(1)
        return self.http.post(self.live.url + action, data={"csrf_token": token, **data}, timeout=30)

    def sign_in(self) -> Browser:
        person, _ = self.live.register()
        r = self.post("/masuk", "/masuk", {"nip": person["nip"].replace(" ", ""), "password": PASSWORD})
        assert r.url == self.live.url + "/", r.url
        return self

    def take_quiz(self, *, right: int | None = None, quiz_id: str = "m01") -> requests.Response:
        """Start (or resume) and submit: the first ``right`` questions answered right, the rest wrong."""
        page = self.post("/", f"/kuis/{quiz_id}/mulai", {})
        attempt_id = page.url.rsplit("/", 1)[1]
        form = {}
        for n, entry in enumerate(_draw(self.live, attempt_id)):
            key = _key(self.live, entry)
            good = right is None or n < right
            form[f"q-{entry['id']}"] = key if good else [next(s for s, _ in entry["choices"] if s not in key)]
        return self.post(f"/percobaan/{attempt_id}", f"/percobaan/{attempt_id}/kirim", form)


def _json(value):
    return value if isinstance(value, list | dict) else json.loads(value)


def _draw(live: Live, attempt_id: str) -> list[dict]:
    return _json(live.sql("SELECT draw FROM attempts WHERE id = :id", id=attempt_id)[0][0])


def _key(live: Live, entry: dict) -> list[str]:
    choices = _json(live.sql("SELECT choices FROM questions WHERE id = :id", id=entry["q"])[0][0])
    right = {c["id"] for c in choices if c.get("correct")}
    return [shown for shown, cid in entry["choices"] if cid in right]


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_the_quizzes_track_leads_to_the_certificate_and_keeps_every_attempts_feedback(live):
    web = Browser(live).sign_in()
    home = web.get("/").text
    assert '<progress id="kemajuan-modul" max="1" value="0">' in home
    assert "Sertifikat terbit otomatis begitu Anda lulus kuis semua modul." in text_of(home)
    assert "notebook" not in home.lower()
    assert 'href="/modul/m01"' in home

    attempt = web.post("/", "/kuis/m01/mulai", {}).text  # the take_quiz below resumes this attempt
    for legend in re.findall(r"<legend>(.*?)</legend>", attempt, re.S):
        if "Situasi:" in legend:  # the situation comes before the question it sets up
            assert legend.index('class="skenario"') < legend.index('class="tanya"')
    assert "Situasi:" in attempt
    passed = web.take_quiz()
    assert "100%" in passed.text and "Semua 5 soal dijawab benar." in text_of(passed.text)
    worse = web.take_quiz(right=2)  # a retry after passing: allowed, and worse
    assert "Belum lulus" in worse.text

    home = web.get("/").text
    assert '<progress id="kemajuan-modul" max="1" value="1">' in home
    assert "Sertifikat Anda telah terbit" in home and 'href="/sertifikat.pdf"' in home
    code = re.search(r'href="/sertifikat/([A-Z0-9]+)"', home).group(1)
    assert re.search(rf"berlaku sampai {DATE_RE}\.", text_of(home))
    assert web.get("/sertifikat.pdf").content.startswith(b"%PDF")
    verify = web.get(f"/sertifikat/{code}")
    assert verify.status_code == 200 and "Sah" in verify.text

    history = re.findall(r'href="/percobaan/([0-9a-f]+)/hasil">Percobaan ke-(\d)</a>: ([\d,]+%)', home)
    assert [(n, pct) for _, n, pct in history] == [("1", "100%"), ("2", "40%")]
    assert len(re.findall(rf"{DATE_RE}, \d{{2}}\.\d{{2}} WIB", home)) == 2
    first = web.get(f"/percobaan/{history[0][0]}/hasil")
    assert "100%" in first.text and '<span class="tanda kunci">Jawaban benar</span>' in first.text


def test_the_result_page_sums_up_wrong_answers_at_the_top(live):
    web = Browser(live).sign_in()
    page = web.take_quiz(right=2).text
    summary = re.search(r'<div class="ringkasan-salah">(.*?)</div>', page, re.S).group(1)
    assert "Jawaban salah (3 dari 5)" in text_of(summary)
    links = re.findall(r'href="#(soal-\d)"', summary)
    assert len(links) == 3
    for anchor in links:
        item = re.search(rf'<li class="hasil-soal ([a-z]+)" id="{anchor}">', page)
        assert item and item.group(1) == "salah"
    assert page.index("ringkasan-salah") < page.index("Umpan balik per soal")
    assert page.count('class="hasil-soal benar"') == 2


@pytest.fixture
def strict_live(tmp_path: Path, db_url: str) -> Iterator[Live]:
    """The exercises track, and correctness withheld until the quiz closes."""
    content = on_exercises_track(MINI, tmp_path / "content")
    course = yaml.safe_load((content / "course.yaml").read_text(encoding="utf-8"))
    course["review"] = {"correctness": "when_closed"}
    (content / "course.yaml").write_text(yaml.safe_dump(course, allow_unicode=True), encoding="utf-8")
    yield from start_live(tmp_path, db_url, content=content)


def test_hidden_correctness_is_neutral_and_the_exercises_track_names_the_notebooks(strict_live):
    web = Browser(strict_live).sign_in()
    assert "latihan notebook" in web.get("/").text
    page = web.take_quiz(right=2).text
    assert "Belum lulus" in page and "ringkasan-salah" not in page and "Jawaban salah" not in page
    assert 'class="hasil-soal benar"' not in page and 'class="hasil-soal salah"' not in page
    assert page.count('<li class="hasil-soal" id="soal-') == 5
    assert "Kuis yang belum lulus (1)" in text_of(web.get("/").text)
    web.take_quiz()
    home = text_of(web.get("/").text)
    assert "Semua kuis lulus." in home and "Latihan notebook yang belum dinilai lulus (1)" in home
    assert "Sertifikat Anda telah terbit" not in home
