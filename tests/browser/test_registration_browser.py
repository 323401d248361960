"""Registering on a phone in a real browser: the form, the code from the test's SMTP server, the
dashboard. Nothing on the way says whether the NIP was already registered."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.mailsink import code_in
from tests.server.conftest import next_nip

pytestmark = pytest.mark.browser

PASSWORD = "rahasia-sekali-123"


def test_registration_on_a_phone_form_then_mailed_code_then_dashboard(site, page):
    nip = next_nip()
    email = f"hp{nip}@example.go.id"
    page.goto(site.url + "/daftar")
    page.get_by_label("NIP", exact=True).fill(nip)
    page.get_by_label("Nama lengkap").fill("Sri Wahyuni")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Instansi", exact=True).select_option("kab-bengkalis")
    page.get_by_label("Unit kerja").fill("Dinas Kesehatan")
    page.get_by_label("Kata sandi", exact=True).fill(PASSWORD)
    page.get_by_label("Ulangi kata sandi").fill(PASSWORD)
    mark = site.mail.mark()
    page.get_by_role("button", name="Daftar").click()

    expect(page.get_by_role("heading", name="Masukkan kode verifikasi")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone, no sideways scroll
    code_field = page.get_by_label("Kode verifikasi")
    assert code_field.get_attribute("inputmode") == "numeric"
    assert code_field.get_attribute("autocomplete") == "one-time-code"
    code = code_in(site.mail.wait_for(email, since=mark))
    assert site.sql("SELECT count(*) FROM learners")[0][0] == 0  # no account before the code

    code_field.fill(f"{(int(code) + 1) % 10**6:06d}")
    page.get_by_role("button", name="Selesaikan pendaftaran").click()
    expect(page.get_by_role("alert")).to_contain_text("Kode verifikasi salah")
    page.get_by_label("Kode verifikasi").fill(code)
    page.get_by_role("button", name="Selesaikan pendaftaran").click()

    expect(page.get_by_role("heading", name="Kemajuan saya")).to_be_visible()
    expect(page.get_by_text("Pendaftaran berhasil. Selamat datang, Sri Wahyuni!")).to_be_visible()
    assert site.sql("SELECT count(*) FROM learners WHERE nip = :n", n=nip)[0][0] == 1
    # No CSP violation and no missing resource; the one 422 is the wrong code's answer.
    assert [e for e in page.errors if "status of 422" not in e] == [] and len(page.errors) <= 1
