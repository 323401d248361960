"""The course in Voila, served by ``python -m netralitas.voila_app`` (the README's command), in Debian's
chromium: every visitor is their own learner, "Lanjut ke" works in both serving modes, the first widget
shows for a fresh visitor (how fast: bench/voila_bench.py), and screenshots of a module page at 390x844,
1280x800 and 1366x768 go to ``$TEST_OUTPUT_DIR/voila`` (the test's temporary folder without it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.notebooks.conftest import PASSWORD, free_port
from tests.server.conftest import Live, start_live

pytestmark = pytest.mark.browser

NOTEBOOK = "notebooks/01-mengapa-netral.ipynb"
NEXT = "02-larangan-pp94.ipynb"
SIZES = [(390, 844), (1280, 800), (1366, 768)]
# The speed aim (first widget within 5 s on localhost, issue 16) is measured by bench/voila_bench.py and
# recorded in docs/benchmarks.md; a timed assertion here would fail whenever the suite loads both cores.


class Voila:
    def __init__(self, url: str, log: Path, config: Path) -> None:
        self.url, self.log, self.config = url, log, config

    def pools_filled(self) -> int:
        """How often Voila has put a pre-started kernel in the pool (once at start, once per visit)."""
        return self.log.read_text().count("is filled with")

    def wait_for_pool(self, at_least: int) -> None:
        deadline = time.monotonic() + 60
        while self.pools_filled() < at_least:
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.2)  # poll interval of the deadline loop above


def _voila(tmp: Path, quiz: Live, bundle: Path, *args: str) -> Iterator[Voila]:
    config = tmp / "learners"  # one config folder for every visitor, as on a real Voila server
    port = free_port()
    env = {
        **os.environ,
        "NETRALITAS_SERVER": quiz.url,
        "NETRALITAS_CONFIG_DIR": str(config),
        "NETRALITAS_LEARNER_BUNDLE": str(bundle),  # the kernel reads the bundle, never content/
    }
    log_path = tmp / "voila.log"
    log = log_path.open("w")
    cmd = [
        sys.executable,
        "-m",
        "netralitas.voila_app",
        *args,
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if requests.head(url, timeout=2).status_code < 500:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or too busy starting to answer
                pass
            assert time.monotonic() < deadline, "Voila did not start within 60 s"
            time.sleep(0.2)  # poll interval of the deadline loop above
        yield Voila(url, log_path, config)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def quiz_site(tmp_path_factory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("quiz")
    # The real content: the notebook's quiz "m01" and its lesson come from it.
    yield from start_live(tmp, f"sqlite:///{tmp / 'quiz.sqlite'}", ROOT / "content")


@pytest.fixture(scope="module")
def single(quiz_site, learner_bundle, tmp_path_factory) -> Iterator[Voila]:
    """One module, as in a workshop: ``voila notebooks/01-....ipynb`` (kernels pre-started)."""
    yield from _voila(tmp_path_factory.mktemp("single"), quiz_site, learner_bundle, NOTEBOOK)


@pytest.fixture(scope="module")
def folder(quiz_site, learner_bundle, tmp_path_factory) -> Iterator[Voila]:
    """The whole course: ``voila notebooks/`` (no pre-started kernels here: ten would slow the suite)."""
    yield from _voila(
        tmp_path_factory.mktemp("folder"), quiz_site, learner_bundle, "notebooks/", "--preheat_kernel=False"
    )


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("TEST_OUTPUT_DIR") or tmp_path) / "voila"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _visitor(browser, width: int = 390, height: int = 844):
    context = browser.new_context(locale="id-ID", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, page


def _log_in(page, nip: str) -> None:
    page.get_by_placeholder("18 angka").first.fill(nip)
    page.locator("input[type=password]").first.fill(PASSWORD)
    page.locator("button[title=Masuk]").click()
    expect(page.get_by_text(re.compile(rf"Anda masuk sebagai .*NIP {nip}"))).to_be_visible(timeout=20_000)


def test_each_visitor_is_their_own_learner(browser, single, quiz_site):
    learner, _ = quiz_site.register(password=PASSWORD)
    first_ctx, first = _visitor(browser)
    second_ctx, second = _visitor(browser)
    try:
        first.goto(single.url, timeout=60_000)
        expect(first.get_by_text("Belum masuk.").first).to_be_visible(timeout=60_000)
        _log_in(first, learner["nip"])
        assert not (single.config / "token.json").exists()  # the token stays in that visitor's kernel

        quiz = first.locator(".netralitas-quiz")
        quiz.get_by_role("button", name="Mulai percobaan").click()
        expect(quiz.get_by_text(re.compile(r"^Soal 1 dari 10$"))).to_be_visible(timeout=20_000)
        quiz.locator("input[type=checkbox]").first.check()
        quiz.get_by_role("button", name="Kirim jawaban").click()
        quiz.get_by_role("button", name="Ya, kirim sekarang").click()  # nine left unanswered, on purpose
        expect(quiz.get_by_text(re.compile(r"^Hasil: .* dari 10 "))).to_be_visible(timeout=20_000)
        expect(quiz.get_by_text(re.compile(r"^Aturan: ")).first).to_be_visible()  # cited rules at once
        expect(quiz.get_by_text("Jawaban benar:")).to_have_count(0)  # default review options

        # Another browser on the same server, after the first logged in: nobody is logged in there.
        second.goto(single.url, timeout=60_000)
        expect(second.get_by_text("Belum masuk.").first).to_be_visible(timeout=60_000)
        expect(second.locator(".netralitas-quiz").get_by_role("button", name="Mulai percobaan")).to_have_count(0)
        assert learner["nip"] not in second.locator("body").inner_text()
    finally:
        first_ctx.close()
        second_ctx.close()
    assert quiz_site.sql("SELECT count(*) FROM attempts WHERE submitted_at IS NOT NULL")[0][0] == 1


def test_first_widget_shows_for_a_fresh_visitor_on_an_already_started_server(browser, single):
    single.wait_for_pool(1)
    warm_ctx, warm = _visitor(browser)  # someone visited before: the server is warm, its pool refills
    filled = single.pools_filled()
    warm.goto(single.url, timeout=60_000)
    expect(warm.locator(".jupyter-widgets").first).to_be_visible(timeout=60_000)
    warm_ctx.close()
    single.wait_for_pool(filled + 1)

    context, page = _visitor(browser)  # a first visit: an empty browser cache
    try:
        page.goto(single.url, timeout=60_000)
        widget = page.locator(".jupyter-widgets").first
        widget.wait_for(state="visible", timeout=60_000)
        # A pre-started kernel served this visit: the pool refilled behind it.
        single.wait_for_pool(filled + 2)
    finally:
        context.close()


def test_folder_mode_links_to_the_next_module_and_back(browser, folder):
    context, page = _visitor(browser)
    try:
        page.goto(folder.url + "voila/render/01-mengapa-netral.ipynb", timeout=60_000)
        nav = page.locator(".netralitas-nav")
        expect(nav).to_be_visible(timeout=60_000)
        nav.get_by_role("link", name=re.compile(r"^Modul 2: ")).click()
        expect(page).to_have_url(re.compile(re.escape(f"/voila/render/{NEXT}") + "$"))
        expect(page.get_by_text(re.compile(r"^Modul 2 dari 8"))).to_be_visible(timeout=60_000)
        page.locator(".netralitas-nav").get_by_role("link", name="Kembali ke halaman awal").click()
        expect(page).to_have_url(re.compile(r"/voila/render/00-mulai\.ipynb$"))
        modules = page.locator(".netralitas-nav").get_by_role("link", name=re.compile(r"^Modul \d: "))
        expect(modules).to_have_count(8, timeout=60_000)
    finally:
        context.close()


def test_single_notebook_mode_names_the_next_module_without_a_broken_link_at_every_size(browser, single, shots):
    for width, height in SIZES:
        context, page = _visitor(browser, width, height)
        try:
            page.goto(single.url, timeout=60_000)
            expect(page.locator(".netralitas-quiz")).to_be_visible(timeout=60_000)
            nav = page.locator(".netralitas-nav")
            expect(nav).to_contain_text("Lanjut ke Modul 2: ")
            expect(nav).to_contain_text("mintalah alamat kursus lengkap kepada pelatih")
            expect(page.locator("a[href$='.ipynb']")).to_have_count(0)  # nothing that would answer 403
            page.screenshot(path=str(shots / f"modul-01-{width}x{height}.png"))
            # Voila scrolls inside the page, so a full-page shot shows no more: scroll to the quiz instead.
            page.locator(".netralitas-nav").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"modul-01-{width}x{height}-akhir.png"))
            # Nothing wider than the screen: no sideways scrolling on a phone.
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        finally:
            context.close()
