"""A live workshop end to end in Debian's chromium: one trainer, a projector board, three phones."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from quiz_server import db
from quiz_server.services import accounts
from tests.server.conftest import Live, next_nip, start_live

pytestmark = pytest.mark.browser

TRAINER_PASSWORD = "pelatih-rahasia-123"
LEARNER_PASSWORD = "rahasia-sekali-123"
NAMES = ("Ani Suryani", "Bagus Pratama", "Citra Dewi")


@pytest.fixture
def room_site(tmp_path: Path) -> Iterator[Live]:
    yield from start_live(tmp_path, f"sqlite:///{tmp_path / 'quiz.sqlite'}", WORKSHOP_STREAM_SECONDS=10)


def _context(browser, **kw):
    context = browser.new_context(locale="id-ID", **kw)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.errors = []
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return context, page


def _join(page, url: str, code: str, name: str) -> None:
    page.goto(f"{url}/join?code={code}")
    expect(page.get_by_label("Kode lokakarya")).to_have_value(code)
    page.get_by_label("NIP", exact=True).fill(next_nip())
    page.get_by_role("button", name="Lanjut").click()
    expect(page.get_by_text("NIP ini belum terdaftar")).to_be_visible()
    page.get_by_label("Nama lengkap").fill(name)
    page.get_by_label("Email").fill("peserta@example.go.id")
    page.get_by_label("Instansi").select_option("kab-bengkalis")
    page.get_by_label("Unit kerja").fill("Bagian Umum")
    page.get_by_label("Kata sandi", exact=True).fill(LEARNER_PASSWORD)
    page.get_by_label("Ulangi kata sandi").fill(LEARNER_PASSWORD)
    page.get_by_role("button", name="Daftar dan gabung").click()
    expect(page.get_by_role("heading", name="Anda sudah bergabung")).to_be_visible()


def test_live_workshop_with_three_phones(room_site, browser):
    url = room_site.url
    with db.unit_of_work(room_site.app) as uow:
        accounts.create_staff(uow, username="widyaiswara", role="trainer", password=TRAINER_PASSWORD, instansi_id=None)
        uow.commit()

    trainer_ctx, control = _context(browser, viewport={"width": 1280, "height": 900})
    control.goto(f"{url}/staf/masuk")
    control.get_by_label("Nama pengguna").fill("widyaiswara")
    control.get_by_label("Kata sandi").fill(TRAINER_PASSWORD)
    control.get_by_role("button", name="Masuk").click()
    expect(control.get_by_role("heading", name="Lokakarya saya")).to_be_visible()
    control.get_by_label("Judul", exact=True).fill("Netralitas ASN di Bengkalis")
    control.get_by_label("Tempat", exact=True).fill("Aula Kantor Bupati")
    control.get_by_label("Kuis", exact=True).select_option("m01")
    control.get_by_label("Jumlah soal (mode langsung)").fill("2")
    control.get_by_role("button", name="Buat lokakarya").click()
    code = control.locator(".gabung .kode").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code)
    expect(control.locator("img.qr")).to_have_js_property("complete", True)
    assert control.locator("img.qr").evaluate("img => img.naturalWidth") > 200  # the PNG decoded

    board = trainer_ctx.new_page()
    board.errors = []
    board.on("console", lambda msg: msg.type == "error" and board.errors.append(msg.text))
    board.goto(control.url + "/papan")
    expect(board.locator(".kode-besar")).to_have_text(code)

    phones = []
    for name in NAMES:
        ctx, phone = _context(browser, viewport={"width": 390, "height": 844})
        _join(phone, url, code, name)
        phones.append((ctx, phone))
    # The board and the control screen learn about each arrival by themselves.
    expect(board.locator("[data-peserta]")).to_have_text("3", timeout=3000)
    expect(control.locator(".daftar-hadir li")).to_have_count(3, timeout=3000)

    control.get_by_role("button", name="Mulai soal pertama").click()
    expect(board.get_by_text("Soal 1 dari 2")).to_be_visible(timeout=3000)
    for _, phone in phones:
        expect(phone.get_by_text("Soal 1 dari 2")).to_be_visible(timeout=5000)  # the page reloads itself
        phone.locator("input[name=choice]").first.check()
        phone.get_by_role("button", name="Kirim jawaban").click()
        expect(phone.get_by_text("Jawaban Anda sudah terkirim")).to_be_visible()
    expect(board.locator("[data-menjawab]")).to_have_text("3", timeout=2500)

    control.get_by_role("button", name="Tutup jawaban dan tampilkan sebaran").click()
    bars = board.locator(".sebaran li")
    expect(bars.first).to_be_visible(timeout=3000)
    counts = [int(re.match(r"(\d+)", t).group(1)) for t in board.locator(".sebaran-angka").all_inner_texts()]
    assert sum(counts) == 3
    expect(board.get_by_text("Jawaban benar")).to_have_count(0)  # the key waits for the explanation

    control.get_by_role("button", name="Tampilkan pembahasan").click()
    expect(board.get_by_role("heading", name="Pembahasan")).to_be_visible(timeout=3000)
    expect(board.locator(".pembahasan cite").first).to_be_visible()
    for _, phone in phones:
        expect(phone.get_by_text(re.compile("^Jawaban Anda (benar|belum tepat)$"))).to_be_visible(timeout=5000)

    control.get_by_role("button", name="Soal berikutnya").click()
    expect(board.get_by_text("Soal 2 dari 2")).to_be_visible(timeout=3000)
    first_phone = phones[0][1]
    expect(first_phone.get_by_text("Soal 2 dari 2")).to_be_visible(timeout=5000)
    first_phone.locator("input[name=choice]").first.check()
    first_phone.get_by_role("button", name="Kirim jawaban").click()
    expect(board.locator("[data-menjawab]")).to_have_text("1", timeout=2500)

    control.get_by_role("button", name="Tutup sesi dan catat hasil").click()
    expect(board.get_by_role("heading", name="Sesi selesai. Terima kasih!")).to_be_visible(timeout=3000)
    for _, phone in phones:
        expect(phone.get_by_role("heading", name="Lokakarya selesai")).to_be_visible(timeout=5000)
    first_phone.get_by_role("link", name="Lihat hasil dan pembahasan").click()
    expect(first_phone.get_by_role("heading", name=re.compile("^Hasil: "))).to_be_visible()

    attempts = room_site.sql("SELECT count(*) FROM attempts WHERE workshop_id IS NOT NULL")[0][0]
    assert attempts == 3  # every phone's answers are now an attempt in that learner's record
    for page in (control, board, *(p for _, p in phones)):
        assert page.errors == [], page.errors  # no CSP violation, no script error
    for ctx, _ in phones:
        ctx.close()
    trainer_ctx.close()
