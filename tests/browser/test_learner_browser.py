"""A learner in a real browser: register, take a quiz on the mini course, read the feedback."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.mailsink import code_in
from tests.server.conftest import next_nip

pytestmark = pytest.mark.browser

PASSWORD = "rahasia-sekali-123"


def _json(value):
    return value if isinstance(value, list | dict) else json.loads(value)


def _key(site, attempt_id: str) -> list[str]:
    """The shown ids of every correct choice of the attempt."""
    out = []
    for entry in _json(site.sql("SELECT draw FROM attempts WHERE id = :id", id=attempt_id)[0][0]):
        choices = _json(site.sql("SELECT choices FROM questions WHERE id = :id", id=entry["q"])[0][0])
        right = {c["id"] for c in choices if c["correct"]}
        out += [shown for shown, cid in entry["choices"] if cid in right]
    return out


def test_learner_registers_takes_a_quiz_and_reads_feedback(site, page):
    page.goto(site.url + "/")
    page.get_by_role("link", name="Daftar").first.click()
    expect(page.get_by_role("heading", name="Daftar sebagai peserta")).to_be_visible()

    # Keyboard users land on the skip link first, and it shows a focus ring.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Lewati ke isi utama")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert skip.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"

    nip = next_nip()
    email = f"budi{nip}@example.go.id"
    page.get_by_label("PNS (NIP)").check()
    page.get_by_label("NIP", exact=True).fill(nip)
    page.get_by_label("Nama lengkap").fill("Budi Santoso")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Instansi", exact=True).select_option("kab-bengkalis")
    page.get_by_label("Unit kerja").fill("Bagian Umum")
    page.get_by_label("Kata sandi", exact=True).fill(PASSWORD)
    page.get_by_label("Ulangi kata sandi").fill(PASSWORD)
    mark = site.mail.mark()
    page.get_by_role("button", name="Daftar").click()
    # The code from the mail (tests/browser/test_registration_browser.py walks this step in full).
    page.get_by_label("Kode verifikasi").fill(code_in(site.mail.wait_for(email, since=mark)))
    page.get_by_role("button", name="Selesaikan pendaftaran").click()

    expect(page.get_by_role("heading", name="Kemajuan saya")).to_be_visible()
    expect(page.get_by_text("Pendaftaran berhasil")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Mulai kuis")).click()

    expect(page).to_have_url(re.compile(r"/percobaan/[0-9a-f]{32}$"))
    questions = page.locator("fieldset.soal")
    expect(questions).to_have_count(5)
    # Answered with the key (read from the database, as a grader would), so the attempt passes and the
    # course's review options show the key and explanations (before passing they wait: see
    # tests/server/test_review_options.py).
    attempt_id = page.url.rsplit("/", 1)[1]
    for shown in _key(site, attempt_id):
        page.locator(f'input[value="{shown}"]').check()
    page.get_by_role("button", name="Kirim jawaban").click()

    expect(page).to_have_url(re.compile(r"/percobaan/[0-9a-f]{32}/hasil$"))
    expect(page.get_by_role("heading", name=re.compile("^Hasil: "))).to_be_visible()
    expect(page.get_by_text("Lulus", exact=True).first).to_be_visible()
    items = page.locator("li.hasil-soal")
    expect(items).to_have_count(5)
    expect(items.first.get_by_text("Penjelasan:")).to_be_visible()
    expect(items.first.locator("cite").first).to_have_text("PP 94/2021 Pasal 5 huruf n angka 2")
    assert page.get_by_text("Jawaban benar", exact=True).count() >= 5  # the key, now that the quiz is passed
    assert page.errors == []  # no CSP violation, no missing resource
