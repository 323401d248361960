"""HR and admin report pages over real HTTP: staff login, dashboard, list of people not done, downloads,
roster upload with its row errors, and the national page."""

from __future__ import annotations

import html
import io
import re

import openpyxl

from tests.server.conftest import next_nip
from tests.server.test_pages import TOKEN_RE, Web
from tests.server.test_reports import PASSWORD, _setup_bengkalis, roster_csv, roster_rows, staff


def staff_web(live, username: str) -> Web:
    web = Web(live.url)
    r = web.submit("/staf/masuk", "/staf/masuk", {"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return web


def upload_page(web: Web, data: bytes, name: str = "pegawai.csv"):
    token = TOKEN_RE.search(web.get("/hr/daftar-pegawai").text).group(1)
    return web.http.post(
        web.base + "/hr/daftar-pegawai", data={"csrf_token": token}, files={"file": (name, data)}, timeout=30
    )


def test_staff_login_lands_hr_on_the_dashboard_and_keeps_others_out(live):
    _setup_bengkalis(live)
    assert live.api().get("/hr/", allow_redirects=False).headers["Location"].startswith("/staf/masuk")
    web = Web(live.url)
    bad = web.submit("/staf/masuk", "/staf/masuk", {"username": "hr-bkl", "password": "salah"})
    assert bad.status_code == 422 and "Nama pengguna atau kata sandi salah." in bad.text
    web = staff_web(live, "hr-bkl")
    page = web.get("/hr/")
    assert page.url == live.url + "/hr/" and page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    # Learners and other staff roles cannot open HR pages.
    learner, _ = live.register(instansi_id="bkn")  # kab-bengkalis has a roster now; this NIP is not on it
    lw = Web(live.url)
    lw.login(learner["nip"])
    assert lw.get("/hr/").status_code == 403
    staff(live, "pelatih", "trainer")
    assert staff_web(live, "pelatih").get("/hr/peserta").status_code == 403


def test_dashboard_shows_totals_charts_and_filters_by_unit(live):
    _setup_bengkalis(live)
    web = staff_web(live, "hr-bkl")
    page = web.get("/hr/").text
    assert "37,5% pegawai sudah selesai" in page
    assert "3 dari 8 orang lulus semua modul atau tersertifikasi. 4 orang belum mulai." in page
    assert page.count('<svg class="batang"') == 1 + 2 + 1  # the whole instansi, two units, one module
    assert re.search(r'role="img" aria-label="Keuangan: 75% selesai"', page)
    assert "style=" not in page and "<script" not in page  # the CSP allows neither
    assert 'href="/hr/unduh.xlsx"' in page and 'href="/hr/unduh.csv"' in page
    assert "1 peserta terdaftar atas nama instansi ini tetapi tidak ada di daftar pegawai" in page

    umum = web.get("/hr/", params={"unit": "Umum", "from": "2026-01-01"})
    assert '<option value="Umum" selected>' in umum.text and "0% pegawai sudah selesai" in umum.text
    assert 'href="/hr/unduh.xlsx?unit=Umum&amp;from=2026-01-01"' in umum.text
    bad = web.get("/hr/", params={"from": "kemarin"})
    assert bad.status_code == 422 and "TTTT-BB-HH" in bad.text

    r = web.get("/hr/unduh.xlsx", params={"unit": "Keuangan"})
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert len(list(book["Peserta"].iter_rows(min_row=2))) == 4
    actions = live.sql("SELECT detail FROM audit_log WHERE action = 'report_export'")
    assert len(actions) == 1


def test_people_not_done_are_paged_and_searchable(live):
    hr = staff(live, "hr-bkl", "hr", "kab-bengkalis")
    rows = [(next_nip(), f"Pegawai {i:03d}", "Umum" if i % 2 else "Keuangan", "Staf") for i in range(120)]
    rows.append((next_nip(), "Siti <b>Aminah</b>", "Umum", "Staf"))
    assert hr.post("/api/v1/roster", files={"file": ("p.csv", roster_csv(rows))}).status_code == 200
    web = staff_web(live, "hr-bkl")
    first = web.get("/hr/peserta").text
    assert "121 orang belum selesai" in first and "Halaman 1 dari 3" in first
    assert first.count('<tr><th scope="row">') == 50
    assert 'rel="next"' in first and 'rel="prev"' not in first
    last = web.get("/hr/peserta", params={"halaman": 3}).text
    assert last.count('<tr><th scope="row">') == 21 and 'rel="prev"' in last
    found = web.get("/hr/peserta", params={"q": "aminah"}).text
    assert "1 orang belum selesai" in found and html.escape("Siti <b>Aminah</b>") in found
    by_nip = web.get("/hr/peserta", params={"q": rows[7][0][:12]}).text
    assert rows[7][0] in by_nip
    keuangan = web.get("/hr/peserta", params={"unit": "Keuangan", "status": "belum_mulai"}).text
    assert "60 orang belum selesai" in keuangan


def test_roster_upload_page_lists_row_errors_and_imports_nothing(live):
    staff(live, "hr-bkl", "hr", "kab-bengkalis")
    web = staff_web(live, "hr-bkl")
    good = [(next_nip(), "Ani", "Umum", "Staf"), (next_nip(), "Budi", "Umum", "Staf")]
    r = upload_page(web, roster_csv([*good, ("123", "Citra", "Umum", "")]))
    assert r.status_code == 422
    assert "Berkas ditolak: 1 baris bermasalah" in r.text
    assert "<td>4</td><td>NIP</td><td>NIP harus 18 angka (yang diisi 3 angka).</td>" in r.text
    assert "<td>4</td><td>jabatan</td>" not in r.text  # a blank jabatan is allowed (test_hr_pages.py)
    assert roster_rows(live) == []
    ok = upload_page(web, roster_csv(good))
    assert ok.status_code == 200 and "2 pegawai (2 baru" in ok.text
    assert "Pemerintah Kabupaten Bengkalis: 2 pegawai pada daftar, terakhir diunggah" in ok.text
    assert len(roster_rows(live)) == 2
    # Without the form's CSRF token nothing happens.
    forged = web.http.post(live.url + "/hr/daftar-pegawai", files={"file": ("p.csv", roster_csv(good[:1]))}, timeout=30)
    assert forged.status_code == 400 and len(roster_rows(live)) == 2


def test_admin_national_page_hides_small_groups(live):
    _setup_bengkalis(live)
    staff(live, "admin1", "admin")
    web = Web(live.url)
    page = web.submit("/staf/masuk", "/staf/masuk", {"username": "admin1", "password": PASSWORD})
    assert page.status_code == 200 and page.url == live.url + "/admin/laporan"  # where an admin lands
    assert "Pemerintah Kabupaten Bengkalis" in page.text
    assert "Data per " in page.text and " WIB" in page.text  # the rollups' time (issue #19)
    assert '<abbr title="kurang dari 5 orang, disembunyikan">&lt;5</abbr>' in page.text
    assert "Pegawai lulus" not in page.text  # no names
    assert staff_web(live, "hr-bkl").get("/admin/laporan").status_code == 403
