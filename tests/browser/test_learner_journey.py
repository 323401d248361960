"""The web learner's whole path on one server with the real course (content/, eight modules), in
Debian's Chromium on a phone (390x844): register (the form, then the 6-digit code from the test's SMTP
server), read module 1's lesson and open a case's verdict, pass every quiz, see the certificate on the
dashboard, download its PDF and open its verify page from the dashboard.

Screenshots of each step go to ``$TEST_OUTPUT_DIR/peserta`` (the test's temporary folder without it),
at 390x844, and for the dashboard, a result page and the verify page also at 1280x800 and 1366x768.
The right answers are read on the test's side from the server's database, as a grader would; the
learner's pages never carry them before the attempt is submitted.
"""

from __future__ import annotations

import base64
import json
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from tests.conftest import CONTENT
from tests.mailsink import code_in
from tests.server.conftest import Live, next_nip, start_live

pytestmark = pytest.mark.browser

PASSWORD = "rahasia-sekali-123"
NAME = "Ratna Kusumawati"
PHONE = {"width": 390, "height": 844}
WIDE = [{"width": 1280, "height": 800}, {"width": 1366, "height": 768}]


@pytest.fixture
def course_site(tmp_path: Path) -> Iterator[Live]:
    yield from start_live(tmp_path, f"sqlite:///{tmp_path / 'quiz.sqlite'}", content=CONTENT)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("TEST_OUTPUT_DIR") or tmp_path) / "peserta"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _json(value):
    return value if isinstance(value, list | dict) else json.loads(value)


def right_answers(site: Live, attempt_id: str) -> list[str]:
    """The shown ids of every correct choice of the attempt, from the server's database."""
    out = []
    for entry in _json(site.sql("SELECT draw FROM attempts WHERE id = :id", id=attempt_id)[0][0]):
        choices = _json(site.sql("SELECT choices FROM questions WHERE id = :id", id=entry["q"])[0][0])
        right = {c["id"] for c in choices if c["correct"]}
        out += [shown for shown, cid in entry["choices"] if cid in right]
    return out


def pdf_text(data: bytes) -> str:
    """The strings the PDF's content streams draw (``(...) Tj``), each stream decoded by its filters
    (ReportLab writes ``/Filter [ /ASCII85Decode /FlateDecode ]``)."""
    shown = []
    for head, body in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", data, re.S):
        if b"/ASCII85Decode" in head:
            body = base64.a85decode(body.strip().removesuffix(b"~>"))
        if b"/FlateDecode" in head:
            body = zlib.decompress(body)
        shown += [s.decode("latin-1") for s in re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", body)]
    return "\n".join(shown)


class Steps:
    """Screenshots named in walking order; ``wide`` adds the laptop and projector sizes."""

    def __init__(self, page: Page, out: Path) -> None:
        self.page, self.out, self.n = page, out, 0

    def shot(self, name: str, *, wide: bool = False) -> None:
        self.n += 1
        stem = f"{self.n:02d}-{name}"
        self.page.screenshot(path=str(self.out / f"{stem}-390x844.png"))  # first: kept when the check fails
        assert self.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{stem} scrolls sideways"
        if not wide:
            return
        self.page.screenshot(path=str(self.out / f"{stem}-390x844-penuh.png"), full_page=True)
        for size in WIDE:
            self.page.set_viewport_size(size)
            assert self.page.evaluate("document.documentElement.scrollWidth") <= size["width"]
            self.page.screenshot(path=str(self.out / f"{stem}-{size['width']}x{size['height']}.png"))
        self.page.set_viewport_size(PHONE)


def pass_quiz(site: Live, page: Page) -> None:
    """On an attempt page: answer every question right and send."""
    expect(page).to_have_url(re.compile(r"/percobaan/[0-9a-f]{32}$"))
    for shown in right_answers(site, page.url.rsplit("/", 1)[1]):
        page.locator(f'input[value="{shown}"]').check()
    page.get_by_role("button", name="Kirim jawaban").click()
    expect(page).to_have_url(re.compile(r"/percobaan/[0-9a-f]{32}/hasil$"))
    expect(page.locator("section.ringkasan").get_by_text("Lulus", exact=True)).to_be_visible()


def test_a_learner_registers_on_a_phone_reads_passes_every_quiz_and_gets_a_certificate(course_site, page, shots):
    site, steps = course_site, Steps(page, shots)
    quizzes = [title for (title,) in site.sql("SELECT title FROM quizzes ORDER BY position")]
    assert len(quizzes) == 8
    first_module = yaml.safe_load((CONTENT / "course.yaml").read_text(encoding="utf-8"))["modules"][0]["title"]

    # Register: the form (finding the instansi with the no-JavaScript search), then the mailed code.
    page.goto(site.url + "/")
    steps.shot("beranda")
    page.get_by_role("link", name="Daftar").first.click()
    nip = next_nip()
    email = f"ratna{nip}@example.go.id"
    page.get_by_label("NIP", exact=True).fill(nip)
    page.get_by_label("Nama lengkap").fill(NAME)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Cari instansi").fill("Bengkalis")
    page.get_by_role("button", name="Cari", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("cocok dengan")
    expect(page.get_by_label("Nama lengkap")).to_have_value(NAME)  # the search kept what was typed
    page.get_by_label("Instansi", exact=True).select_option("kab-bengkalis")
    page.get_by_label("Unit kerja").fill("Bagian Umum")
    page.get_by_label("Kata sandi", exact=True).fill(PASSWORD)
    page.get_by_label("Ulangi kata sandi").fill(PASSWORD)
    steps.shot("daftar-isi")
    mark = site.mail.mark()
    page.get_by_role("button", name="Daftar", exact=True).click()
    expect(page.get_by_role("heading", name="Masukkan kode verifikasi")).to_be_visible()
    steps.shot("daftar-kode")
    page.get_by_label("Kode verifikasi").fill(code_in(site.mail.wait_for(email, since=mark)))
    page.get_by_role("button", name="Selesaikan pendaftaran").click()
    expect(page.get_by_role("heading", name="Kemajuan saya")).to_be_visible()
    expect(page.get_by_text(f"Selamat datang, {NAME}")).to_be_visible()
    expect(page.locator("#sertifikat")).to_be_visible()
    assert page.get_by_text("Sertifikat terbit otomatis begitu Anda lulus kuis semua modul.").is_visible()
    steps.shot("dasbor-awal", wide=True)

    # Module 1, from the dashboard's next step: the lesson, a case with its verdict opened, the quiz.
    next_step = page.locator("section.lanjut")
    expect(next_step.get_by_role("heading", name="Langkah berikutnya")).to_be_in_viewport()
    next_step.get_by_role("link", name="Buka materi modul 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first_module)
    steps.shot("materi-modul-1")
    page.get_by_role("link", name="Baca studi kasus").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Studi kasus: {first_module}")
    case = page.locator("section.kasus").first
    expect(case.get_by_text("Putusan:")).to_be_hidden()
    case.locator("details.putusan summary").click()
    expect(case.get_by_text("Putusan:")).to_be_visible()
    case.scroll_into_view_if_needed()
    steps.shot("kasus-putusan-terbuka")
    page.get_by_role("button", name="Kerjakan kuis modul 1").click()
    expect(page.locator("fieldset.soal")).to_have_count(10)
    steps.shot("kuis-modul-1")
    pass_quiz(site, page)
    steps.shot("hasil-modul-1", wide=True)

    # Every other module: on from each result page to the next lesson, and its quiz from there.
    for n in range(2, len(quizzes) + 1):
        page.get_by_role("link", name="Lanjut ke modul berikutnya").click()
        expect(page.get_by_text(f"Modul {n} dari {len(quizzes)}")).to_be_visible()
        page.get_by_role("button", name=f"Kerjakan kuis modul {n}").click()
        pass_quiz(site, page)
    expect(page.get_by_role("link", name="Lanjut ke modul berikutnya")).to_have_count(0)  # the last one

    # The dashboard: all eight passed, the certificate with its download and verify link.
    page.get_by_role("link", name="Kembali ke beranda").click()
    expect(page.locator("section.lanjut")).to_have_count(0)  # no next step left
    expect(page.get_by_text("Modul lulus: 8 dari 8")).to_be_visible()
    issued = page.locator("section.sertifikat").get_by_role("status")
    expect(issued).to_contain_text("Sertifikat Anda telah terbit")
    expect(issued).to_contain_text(re.compile(r"berlaku sampai \d{1,2} [A-Z][a-z]+ \d{4}\."))
    page.locator("section.sertifikat").scroll_into_view_if_needed()
    steps.shot("dasbor-sertifikat", wide=True)

    with page.expect_download() as got:
        page.get_by_role("link", name="Unduh sertifikat (PDF)").click()
    download = got.value
    assert download.suggested_filename.endswith(".pdf")
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    assert NAME in text and "SERTIFIKAT" in text and "Netralitas Aparatur Sipil Negara" in text
    (shots / "sertifikat.pdf").write_bytes(pdf)

    page.get_by_role("link", name="Periksa keabsahan").click()
    expect(page.get_by_role("heading", name="Periksa sertifikat")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Sah")
    expect(page.get_by_role("heading", name=NAME)).to_be_visible()
    page.get_by_text("Untuk pemeriksa: periksa berkas PDF tanpa internet").click()  # a long command: it wraps
    expect(page.get_by_text("netralitas certificate verify")).to_be_visible()
    steps.shot("periksa-sertifikat", wide=True)

    assert page.errors == []  # no CSP violation, no missing resource, on any page of the path
    assert len(list(shots.glob("*.png"))) == 6 + 4 * 4
