"""A learner who forgot the password, in a real browser on a phone: ask on /lupa-sandi, read the mail
from the test SMTP server, open the link, set a new password, and sign in with it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import mailsink

pytestmark = pytest.mark.browser

OLD = "rahasia-sekali-123"
NEW = "nasi-uduk-dan-teh-hangat"


def test_forgotten_password_path(site, page):
    learner, api = site.register()
    page.goto(site.url + "/masuk")
    page.get_by_role("link", name="Lupa kata sandi?").click()
    expect(page.get_by_role("heading", name="Lupa kata sandi")).to_be_visible()
    mark = site.mail.mark()
    page.get_by_label("NIP").fill(learner["nip"])
    page.get_by_role("button", name="Kirim tautan").click()
    expect(page.get_by_text("Bila NIP itu terdaftar")).to_be_visible()

    link = mailsink.link_in(site.mail.wait_for(learner["email"], since=mark))
    page.goto(link)
    expect(page.get_by_role("heading", name="Atur ulang kata sandi")).to_be_visible()
    page.get_by_label("Kata sandi baru", exact=True).fill(NEW)
    page.get_by_label("Ulangi kata sandi baru").fill(NEW + "x")
    page.get_by_role("button", name="Simpan dan masuk").click()
    expect(page.get_by_text("Ulangi kata sandi baru yang sama persis").first).to_be_visible()
    page.get_by_label("Kata sandi baru", exact=True).fill(NEW)
    page.get_by_label("Ulangi kata sandi baru").fill(NEW)
    page.get_by_role("button", name="Simpan dan masuk").click()
    expect(page.get_by_role("heading", name="Kemajuan saya")).to_be_visible()
    expect(page.get_by_text("Kata sandi baru sudah disimpan")).to_be_visible()
    assert api.get("/api/v1/me/progress").status_code == 401  # the old token died with the old password

    # Sign out, then sign in with the new password; the old one is refused.
    page.get_by_role("button", name="Keluar").click()
    page.goto(site.url + "/masuk")
    page.get_by_label("NIP").fill(learner["nip"])
    page.get_by_label("Kata sandi").fill(OLD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_text("NIP atau kata sandi salah.")).to_be_visible()
    page.get_by_label("Kata sandi").fill(NEW)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Kemajuan saya")).to_be_visible()

    # The spent link now only offers a new one.
    page.goto(link)
    expect(page.get_by_text(re.compile("tidak berlaku lagi"))).to_be_visible()
    # 4xx answers (the mismatch, the wrong password, the spent link) are logged as failed loads;
    # anything else (a CSP violation, a script error) is a fault.
    assert [e for e in page.errors if not e.startswith("Failed to load resource")] == []
