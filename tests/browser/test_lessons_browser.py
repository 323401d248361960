"""A learner reads module 1's lesson and a case on a phone (390x844) in Debian's Chromium, with
JavaScript off, and opens the verdict; screenshots at 390x844, 1280x800 and 1366x768 go to
``$TEST_OUTPUT_DIR/materi`` (the test's temporary folder without it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CONTENT
from tests.server.conftest import Live, start_live

SIZES = [(390, 844), (1280, 800), (1366, 768)]


@pytest.fixture
def course_site(tmp_path: Path) -> Iterator[Live]:
    yield from start_live(tmp_path, f"sqlite:///{tmp_path / 'quiz.sqlite'}", content=CONTENT)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("TEST_OUTPUT_DIR") or tmp_path) / "materi"
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_a_phone_reads_the_lesson_and_opens_a_cases_verdict_without_javascript(browser, course_site, shots):
    context = browser.new_context(locale="id-ID", viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(course_site.url + "/")
    page.get_by_role("link", name="Lihat materi").click()
    page.get_by_role("link", name="Mengapa ASN harus netral").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Mengapa ASN harus netral"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the lesson scrolls sideways on a phone"
    page.screenshot(path=str(shots / "materi-m01-390x844.png"))
    page.screenshot(path=str(shots / "materi-m01-390x844-penuh.png"), full_page=True)

    page.get_by_role("link", name="Baca studi kasus").first.click()
    case = page.locator("section.kasus").first
    verdict = case.locator("details.putusan")
    assert not verdict.evaluate("d => d.open")
    assert not case.get_by_text("Putusan:").is_visible()
    verdict.locator("summary").click()
    assert verdict.evaluate("d => d.open") and case.get_by_text("Putusan:").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    case.screenshot(path=str(shots / "kasus-m01-k01-terbuka-390x844.png"))
    rule_link = case.locator("ul.aturan a").first
    rule_link.click()
    assert page.url.startswith(course_site.url + "/aturan/")
    assert page.get_by_role("heading", name="Ringkasan").is_visible()
    page.screenshot(path=str(shots / "aturan-390x844.png"), full_page=True)
    context.close()

    for width, height in SIZES[1:]:
        wide = browser.new_context(locale="id-ID", viewport={"width": width, "height": height})
        pg = wide.new_page()
        pg.goto(course_site.url + "/modul/m01")
        pg.screenshot(path=str(shots / f"materi-m01-{width}x{height}.png"))
        pg.goto(course_site.url + "/modul/m01/kasus")
        pg.locator("details.putusan summary").first.click()
        pg.screenshot(path=str(shots / f"kasus-m01-{width}x{height}.png"))
        assert pg.evaluate("document.documentElement.scrollWidth") <= width
        wide.close()
    assert len(list(shots.glob("*.png"))) == 8
