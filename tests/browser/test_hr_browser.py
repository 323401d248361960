"""HR in a real browser: log in, filter the dashboard by unit, download the XLSX and open it; on a
laptop, fill in the roster template, upload it and read the wide tables. Screenshots at 390x844,
1280x800 and 1366x768 go to ``$TEST_OUTPUT_DIR/hr`` (the test's temporary folder without it)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.server.conftest import next_nip
from tests.server.test_reports import PASSWORD, _setup_bengkalis, roster_rows, staff

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


# What real staff lists hold: titles and degrees in names, long unit and position names.
LONG_ROWS = [
    ("Dr. Hj. Siti Nurhaliza Rahmawati Kusumaningrum, S.Sos., M.Si.", "Bidang Pengadaan, Pemberhentian dan "
     "Informasi Kepegawaian", "Analis Sumber Daya Manusia Aparatur Ahli Muda"),
    ("Muhammad Rizky Pratama Wicaksono, S.Kom.", "Sekretariat Daerah Bagian Organisasi dan Tata Laksana", ""),
]  # fmt: skip


def _staff_signed_in(browser, site, username: str, width: int, height: int):
    """A fresh browser context signed in at /staf/masuk: (context, page, console errors)."""
    context = browser.new_context(locale="id-ID", viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(site.url + "/staf/masuk")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    return context, page, errors


def _shot(page, out: Path, name: str) -> None:
    w = page.viewport_size["width"]
    h = page.viewport_size["height"]
    page.screenshot(path=str(out / f"{name}-{w}x{h}.png"), full_page=True)


def _last_column_fits(page, width: int) -> None:
    table = page.locator("table.tabel-peserta")
    box = table.bounding_box()
    assert box and box["x"] + box["width"] <= width, f"the not-done table ends at {box} on a {width} px screen"
    last = table.locator("thead th").last
    expect(last).to_have_text("Terakhir mengerjakan kuis")
    head = last.bounding_box()
    assert head and head["x"] + head["width"] <= width
    region = page.locator(".gulir").first
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), "the table scrolls sideways on a laptop"


def test_hr_on_a_laptop_uploads_the_template_and_reads_the_wide_tables(browser, site, tmp_path):
    out = Path(os.environ.get("TEST_OUTPUT_DIR") or tmp_path) / "hr"
    out.mkdir(parents=True, exist_ok=True)
    _setup_bengkalis(site)
    kept = roster_rows(site)  # the eight people already on the roster stay, with their records
    context, page, errors = _staff_signed_in(browser, site, "hr-bkl", 1280, 800)
    page.get_by_role("navigation", name="Menu HR").get_by_role("link", name="Daftar pegawai").click()

    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh templat XLSX").click()
    assert download.value.suggested_filename == "templat-daftar-pegawai.xlsx"
    template = tmp_path / "templat.xlsx"
    download.value.save_as(template)
    book = openpyxl.load_workbook(template)
    sheet = book["Daftar pegawai"]
    for nip, name, unit, position in kept:
        sheet.append([nip, name, unit, position, ""])
    new = [(next_nip(), *row) for row in LONG_ROWS]
    for nip, name, unit, position in new:
        sheet.append([nip, name, unit, position, "PNS"])
    filled = tmp_path / "daftar-pegawai-bengkalis.xlsx"
    book.save(filled)
    page.get_by_label("Berkas daftar pegawai (.csv atau .xlsx)").set_input_files(str(filled))
    page.get_by_role("button", name="Unggah").click()
    expect(page.get_by_role("status")).to_contain_text("10 pegawai (2 baru")
    expect(page.get_by_text(re.compile(r"terakhir diunggah \d+ \w+ \d{4}, \d{2}\.\d{2} WIB"))).to_be_visible()
    assert len(roster_rows(site)) == 10
    _shot(page, out, "daftar-pegawai")

    page.get_by_role("link", name="Ringkasan").click()
    expect(page.get_by_role("heading", name="30% pegawai sudah selesai")).to_be_visible()
    _shot(page, out, "ringkasan")
    page.get_by_role("link", name="Lihat yang belum selesai").click()
    expect(page.get_by_role("heading", name="Pegawai yang belum selesai")).to_be_visible()
    expect(page.get_by_role("rowheader", name=LONG_ROWS[0][0])).to_be_visible()
    _last_column_fits(page, 1280)
    _shot(page, out, "belum-selesai")

    page.get_by_role("link", name="Ringkasan").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh XLSX").click()
    report = tmp_path / download.value.suggested_filename
    download.value.save_as(report)
    people = list(openpyxl.load_workbook(report)["Peserta"].iter_rows(min_row=2, values_only=True))
    assert {p[0] for p in people} == {row[0] for row in kept} | {row[0] for row in new}

    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for path, name in (
            ("/hr/", "ringkasan"),
            ("/hr/peserta", "belum-selesai"),
            ("/hr/daftar-pegawai", "daftar-pegawai"),
        ):
            page.goto(site.url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{path} scrolls sideways"
            _shot(page, out, name)
        page.goto(site.url + "/hr/peserta")
        if width > 1000:
            _last_column_fits(page, width)
        else:  # on a phone the table scrolls inside its region, not the page
            assert page.locator(".gulir").first.evaluate("e => e.scrollWidth > e.clientWidth")
    assert errors == []  # no CSP violation, no missing resource
    context.close()


def test_admin_reads_the_national_tables_without_clipping(browser, site, tmp_path):
    out = Path(os.environ.get("TEST_OUTPUT_DIR") or tmp_path) / "admin"
    out.mkdir(parents=True, exist_ok=True)
    _setup_bengkalis(site)
    staff(site, "admin1", "admin")
    context, page, errors = _staff_signed_in(browser, site, "admin1", 1366, 768)
    expect(page.get_by_role("heading", name="Laporan nasional")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Data per \d+ \w+ \d{4}, \d{2}\.\d{2} WIB"))).to_be_visible()
    expect(page.get_by_role("rowheader", name="Pemerintah Kabupaten Bengkalis")).to_be_visible()
    for width, height in ((1366, 768), (1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(site.url + "/admin/laporan")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
        regions = page.locator(".gulir")
        for i in range(regions.count()):
            fits = regions.nth(i).evaluate("e => e.scrollWidth <= e.clientWidth")
            # On a laptop or projector every column is in view; on a phone the table scrolls in its region.
            assert fits or width < 1000, f"table {i} is clipped at {width} px"
        _shot(page, out, "laporan-nasional")
    assert errors == []
    context.close()
