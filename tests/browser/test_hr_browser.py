"""HR in a real browser: log in, filter the dashboard by unit, download the XLSX and open it."""

from __future__ import annotations

import re

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.server.test_reports import PASSWORD, _setup_bengkalis

pytestmark = pytest.mark.browser


def test_hr_logs_in_filters_by_unit_and_downloads_the_xlsx(site, page, tmp_path):
    _, nips = _setup_bengkalis(site)
    page.goto(site.url + "/hr/")
    expect(page).to_have_url(re.compile(r"/staf/masuk\?next="))  # sent to the staff login first
    page.get_by_label("Nama pengguna").fill("hr-bkl")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()

    expect(page.get_by_role("heading", name="Laporan penyelesaian pelatihan")).to_be_visible()
    expect(page.get_by_role("heading", name="37,5% pegawai sudah selesai")).to_be_visible()
    expect(page.get_by_role("img", name="Keuangan: 75% selesai")).to_be_visible()

    page.get_by_label("Unit", exact=True).select_option("Keuangan")
    page.get_by_role("button", name="Terapkan").click()
    expect(page).to_have_url(re.compile(r"unit=Keuangan"))
    expect(page.get_by_role("heading", name="75% pegawai sudah selesai")).to_be_visible()
    expect(page.get_by_label("Unit", exact=True)).to_have_value("Keuangan")

    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh XLSX").click()
    assert download.value.suggested_filename == "laporan-kab-bengkalis.xlsx"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    assert book.sheetnames == ["Ringkasan", "Peserta"]
    people = list(book["Peserta"].iter_rows(min_row=2, values_only=True))
    assert {p[0] for p in people} == {nips[k] for k in ("lulus", "gagal", "sertifikat", "dicabut")}
    assert {p[2] for p in people} == {"Keuangan"}
    summary = list(book["Ringkasan"].iter_rows(values_only=True))
    assert summary[2][:2] == ("Unit", "Keuangan")
    assert page.errors == []  # no CSP violation, no missing resource
