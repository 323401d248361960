"""A live workshop end to end in Debian's chromium: one trainer, a projector board, three phones.

The room runs on the real course content with the three longest questions of module 2 (scenario,
four long choices, a long explanation and several rules): the board must still fit a projector at
1366x768 and at 1920x1080 with no scrolling. Screenshots of the board go to ``$TEST_OUTPUT_DIR/lokakarya``
(else the test's tmp folder). The trainer downloads the report, and its letters must be the room's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from playwright.sync_api import expect

from quiz_server import db
from quiz_server.db import normalise_url
from quiz_server.services import accounts
from tests.conftest import CONTENT
from tests.server.conftest import Live, start_live

pytestmark = pytest.mark.browser

TRAINER_PASSWORD = "pelatih-rahasia-123"
LEARNER_PASSWORD = "rahasia-sekali-123"
NAMES = ("Ani Suryani", "Bagus Pratama", "Citra Dewi")
PROJECTORS = ({"width": 1366, "height": 768}, {"width": 1920, "height": 1080})
# The board's script marks the viewport it last fitted itself to (after a resize or a redraw).
FITTED = "([w, h]) => document.body.dataset.fitted === `${w}x${h}`"


@pytest.fixture
def room_site(tmp_path: Path) -> Iterator[Live]:
    yield from start_live(tmp_path, f"sqlite:///{tmp_path / 'quiz.sqlite'}", CONTENT, WORKSHOP_STREAM_SECONDS=10)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("TEST_OUTPUT_DIR") or tmp_path) / "lokakarya"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _context(browser, **kw):
    context = browser.new_context(locale="id-ID", **kw)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.errors = []
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return context, page


def _longest_questions(live: Live, quiz_id: str, n: int) -> list[tuple[str, list[str]]]:
    """The ``n`` wordiest questions of a quiz (what a projector has to fit), each with its choice ids."""
    rows = live.sql(
        "SELECT id, scenario, text, choices, explanation FROM questions "
        "WHERE quiz_id = :q AND graded = :t AND active = :t",
        q=quiz_id,
        t=True,
    )

    def size(row) -> int:
        _id, scenario, text, choices, explanation = row
        return len(scenario or "") + len(text) + sum(len(c["text"]) for c in json.loads(choices)) + len(explanation)

    picked = sorted(rows, key=size)[-n:]
    return [(row[0], [c["id"] for c in json.loads(row[3])]) for row in picked]


def _set_draw(live: Live, workshop_id: int, questions: list[tuple[str, list[str]]]) -> None:
    """The room asks exactly these questions, choices in reverse bank order (so letters must be the room's)."""
    draw = [
        {"q": qid, "choices": [[f"{i:02x}{k:06x}", cid] for k, cid in enumerate(reversed(cids))]}
        for i, (qid, cids) in enumerate(questions)
    ]
    workshops = sa.table("workshops", sa.column("id", sa.Integer), sa.column("questions", sa.JSON))
    eng = sa.create_engine(normalise_url(live.db_url))
    try:
        with eng.begin() as conn:
            conn.execute(sa.update(workshops).where(workshops.c.id == workshop_id).values(questions=draw))
    finally:
        eng.dispose()


def _projector_shots(board, shots: Path, name: str) -> None:
    """At each projector size: everything on one screen (the page's own fit step has run), and a screenshot."""
    for size in PROJECTORS:
        board.set_viewport_size(size)
        board.wait_for_function(FITTED, arg=[size["width"], size["height"]], timeout=5000)
        board.screenshot(path=str(shots / f"papan-{name}-{size['width']}x{size['height']}.png"))
        assert board.evaluate("document.documentElement.scrollHeight") <= size["height"]
        # The answer count and the last choice are on the screen, not below the fold.
        for selector in (".papan-menjawab", ".papan-pilihan li:last-child"):
            if board.locator(selector).count():
                box = board.locator(selector).bounding_box()
                assert box["y"] + box["height"] <= size["height"], (name, size, selector)


def _room_choices(phone) -> list[str]:
    """The choices as the phone shows them: 'A. text', in order."""
    labels = phone.locator("fieldset.soal .pilihan label").all_inner_texts()
    return [re.sub(r"\s+", " ", t).strip() for t in labels]


def test_live_workshop_with_three_phones(room_site, browser, shots):
    site = room_site
    url = site.url
    with db.unit_of_work(site.app) as uow:
        accounts.create_staff(uow, username="widyaiswara", role="trainer", password=TRAINER_PASSWORD, instansi_id=None)
        uow.commit()

    trainer_ctx, control = _context(browser, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    control.goto(f"{url}/staf/masuk")
    control.get_by_label("Nama pengguna").fill("widyaiswara")
    control.get_by_label("Kata sandi").fill(TRAINER_PASSWORD)
    control.get_by_role("button", name="Masuk").click()
    expect(control.get_by_role("heading", name="Lokakarya saya")).to_be_visible()
    control.get_by_label("Judul", exact=True).fill("Netralitas ASN di Bengkalis")
    control.get_by_label("Tempat", exact=True).fill("Aula Kantor Bupati")
    control.get_by_label("Kuis", exact=True).select_option("m02")
    control.get_by_label("Jumlah soal (mode langsung)").fill("3")
    control.get_by_role("button", name="Buat lokakarya").click()
    code = control.locator(".gabung .kode").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code)
    workshop_id = int(control.url.rsplit("/", 1)[1])
    _set_draw(site, workshop_id, _longest_questions(site, "m02", 3))
    expect(control.locator("img.qr")).to_have_js_property("complete", True)
    assert control.locator("img.qr").evaluate("img => img.naturalWidth") > 200  # the PNG decoded
    expect(control.locator(".gabung")).to_contain_text(f"{url}/join")  # the public address (here: the server's)

    board = trainer_ctx.new_page()
    board.errors = []
    board.on("console", lambda msg: msg.type == "error" and board.errors.append(msg.text))
    board.goto(control.url + "/papan")
    expect(board.locator(".kode-besar")).to_have_text(code)
    expect(board.locator("img.qr")).to_have_js_property("complete", True)
    _projector_shots(board, shots, "gabung")

    phones = []
    for name in NAMES:
        learner, _api = site.register(name=name, password=LEARNER_PASSWORD)
        ctx, phone = _context(browser, viewport={"width": 390, "height": 844})
        phone.goto(f"{url}/masuk")
        phone.get_by_label("NIP", exact=True).fill(learner["nip"])
        phone.get_by_label("Kata sandi", exact=True).fill(LEARNER_PASSWORD)
        phone.get_by_role("button", name="Masuk").click()
        phone.goto(f"{url}/join?code={code}")
        phone.get_by_role("button", name="Gabung").click()
        expect(phone.get_by_role("heading", name="Anda sudah bergabung")).to_be_visible()
        phones.append((ctx, phone))
    # The board and the control screen learn about each arrival by themselves.
    expect(board.locator("[data-peserta]")).to_have_text("3", timeout=3000)
    expect(control.locator(".daftar-hadir li")).to_have_count(3, timeout=3000)

    seen: list[list[str]] = []  # per question, the choices as the room saw them
    picked: list[Counter] = []  # per question, how many phones picked each "X. text"
    primary = control.locator(".kendali .tombol:not(.kedua)")
    for n in range(3):
        expect(primary).to_have_count(1)  # one primary action at a time
        expect(primary).to_have_text("Mulai soal pertama" if n == 0 else "Soal berikutnya")
        primary.click()
        expect(board.get_by_text(f"Soal {n + 1} dari 3")).to_be_visible(timeout=3000)
        if n == 2:  # the wordiest question of the three
            _projector_shots(board, shots, "soal")
        tally: Counter = Counter()
        for i, (_, phone) in enumerate(phones):
            expect(phone.get_by_text(f"Soal {n + 1} dari 3")).to_be_visible(timeout=5000)  # the page reloads itself
            choices = _room_choices(phone)
            if i == 0:
                seen.append(choices)
            assert choices == seen[n]  # everyone in the room sees one order
            k = (n + i) % len(choices)
            phone.locator("fieldset.soal .pilihan input").nth(k).check()
            phone.get_by_role("button", name="Kirim jawaban").click()
            expect(phone.get_by_text("Jawaban Anda sudah terkirim")).to_be_visible()
            tally[choices[k]] += 1
        picked.append(tally)
        expect(board.locator("[data-menjawab]")).to_have_text("3", timeout=2500)
        on_board = [re.sub(r"\s+", " ", t).strip() for t in board.locator(".pilihan-papan li").all_inner_texts()]
        assert on_board == seen[n]

        expect(primary).to_have_text("Tutup jawaban dan tampilkan sebaran")
        if n == 0:
            control.screenshot(path=str(shots / "kendali-1280x900.png"), full_page=True)
        primary.click()
        expect(board.locator(".sebaran li").first).to_be_visible(timeout=3000)
        counts = [int(re.match(r"(\d+)", t).group(1)) for t in board.locator(".sebaran-angka").all_inner_texts()]
        assert sum(counts) == 3
        expect(board.get_by_text("Jawaban benar")).to_have_count(0)  # the key waits for the explanation

        expect(primary).to_have_text("Tampilkan pembahasan")
        primary.click()
        expect(board.get_by_role("heading", name="Pembahasan")).to_be_visible(timeout=3000)
        expect(board.locator(".pembahasan cite").first).to_be_visible()
        if n == 2:
            _projector_shots(board, shots, "pembahasan")
        for _, phone in phones:
            expect(phone.get_by_text(re.compile("^Jawaban Anda (benar|belum tepat)$"))).to_be_visible(timeout=5000)

    # After the last explanation the next step is closing, and it asks first.
    expect(primary).to_have_text("Tutup sesi dan catat hasil…")
    primary.click()
    expect(control.get_by_role("heading", name=re.compile("^Tutup sesi"))).to_be_visible()
    control.screenshot(path=str(shots / "tutup-1280x900.png"))
    control.get_by_role("button", name="Ya, tutup sesi").click()
    expect(board.get_by_role("heading", name="Sesi selesai. Terima kasih!")).to_be_visible(timeout=3000)
    _projector_shots(board, shots, "selesai")
    for _, phone in phones:
        expect(phone.get_by_role("heading", name="Lokakarya selesai")).to_be_visible(timeout=5000)
        expect(phone.get_by_text(re.compile(r"Nilai sesi ini: \d benar dari 3 soal"))).to_be_visible()

    # The trainer's report calls every choice by the room's letter, in the room's order.
    control.goto(f"{url}/pelatih/lokakarya/{workshop_id}/hasil")
    with control.expect_download() as got:
        control.get_by_role("link", name="Unduh CSV soal").click()
    rows = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
    with control.expect_download() as got:
        control.get_by_role("link", name="Unduh XLSX").click()
    book = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
    sheet = book["Semua soal"]  # every question, in the room's order
    header = [c.value for c in sheet[1]]
    xlsx = {r[header.index("Soal ke-")]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert list(xlsx) == [1, 2, 3]
    assert sorted(int(r["Soal ke-"]) for r in rows) == [1, 2, 3]
    scenario_of = dict(site.sql("SELECT id, scenario FROM questions WHERE quiz_id = 'm02'"))
    assert any(r["Situasi"] for r in rows)
    for r in rows:
        n = int(r["Soal ke-"]) - 1
        cells = r["Pilihan (jumlah pemilih)"].split("\n")
        assert [re.sub(r" \(\d+\)$", "", c) for c in cells] == seen[n]
        assert {re.sub(r" \(\d+\)$", "", c): int(re.search(r"\((\d+)\)$", c).group(1)) for c in cells} == {
            c: picked[n][c] for c in seen[n]
        }
        assert r["Situasi"] == (scenario_of[r["ID soal"]] or "")  # a scenario question's situation is in it
        assert xlsx[n + 1][header.index("Pilihan (jumlah pemilih)")] == r["Pilihan (jumlah pemilih)"]
        assert (xlsx[n + 1][header.index("Situasi")] or "") == r["Situasi"]  # an empty cell reads as None
    control.screenshot(path=str(shots / "hasil-1280x900.png"), full_page=True)

    assert site.sql("SELECT count(*) FROM attempts")[0][0] == 0  # a live room uses up nobody's attempt
    assert site.sql("SELECT count(*) FROM workshop_participants WHERE recorded_at IS NOT NULL")[0][0] == 3
    for page in (control, board, *(p for _, p in phones)):
        assert page.errors == [], page.errors  # no CSP violation, no script error
    for ctx, _ in phones:
        ctx.close()
    trainer_ctx.close()
