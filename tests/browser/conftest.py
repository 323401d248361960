"""A real quiz server on SQLite and Debian's chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CONTENT
from tests.notebooks.conftest import build_bundle
from tests.server.conftest import Live, start_live

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Live]:
    yield from start_live(tmp_path, f"sqlite:///{tmp_path / 'quiz.sqlite'}")


@pytest.fixture(scope="session")
def learner_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The learner bundle of content/, built once per session: what the notebooks' widgets read."""
    return build_bundle(CONTENT, tmp_path_factory.mktemp("bundle") / "real")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium Debian tidak ada di /usr/bin/chromium (pasang dengan: apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A phone-sized page; console errors (a CSP violation, for one) are collected on ``page.errors``."""
    context = browser.new_context(locale="id-ID", viewport={"width": 390, "height": 844})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    pg.errors = []
    pg.on("console", lambda msg: msg.type == "error" and pg.errors.append(msg.text))
    yield pg
    context.close()
