"""A module notebook served by Voila, in Debian's chromium: answer a quiz question, read the feedback."""

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
from tests.notebooks.conftest import fast_client, free_port, register
from tests.server.conftest import Live, start_live

pytestmark = pytest.mark.browser

NOTEBOOK = "notebooks/01-mengapa-netral.ipynb"


@pytest.fixture
def quiz_site(tmp_path: Path) -> Iterator[Live]:
    # The real content: the notebook's quiz "m01" and its lesson come from it.
    yield from start_live(tmp_path, f"sqlite:///{tmp_path / 'quiz.sqlite'}", ROOT / "content")


@pytest.fixture
def voila(quiz_site: Live, learner_bundle: Path, tmp_path: Path) -> Iterator[str]:
    config = tmp_path / "learner"
    register(fast_client(quiz_site.url, config))  # a saved token, as after logging in via 00-mulai
    port = free_port()
    env = {
        **os.environ,
        "NETRALITAS_SERVER": quiz_site.url,
        "NETRALITAS_CONFIG_DIR": str(config),
        "NETRALITAS_LEARNER_BUNDLE": str(learner_bundle),  # the kernel reads the bundle, never content/
    }
    log = (tmp_path / "voila.log").open("w")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "voila"),
            NOTEBOOK,
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "voila.log").read_text()
            try:
                if requests.head(url, timeout=2).status_code < 500:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "Voila did not start within 60 s"
            time.sleep(0.2)  # poll interval of the deadline loop above
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_voila_quiz_question_then_feedback(voila, quiz_site, page):
    page.goto(voila, timeout=90_000)
    quiz = page.locator(".netralitas-quiz")
    start = quiz.get_by_role("button", name="Mulai percobaan")
    expect(start).to_be_visible(timeout=90_000)  # Voila runs the whole notebook before widgets appear
    expect(page.get_by_role("heading", name="Mengapa ASN harus netral")).to_be_visible()
    start.click()

    expect(quiz.get_by_text(re.compile(r"^Soal 1 dari 10$"))).to_be_visible(timeout=20_000)
    quiz.locator("input[type=checkbox]").first.check()
    quiz.get_by_role("button", name="Kirim jawaban").click()
    quiz.get_by_role("button", name="Ya, kirim sekarang").click()  # nine left unanswered, on purpose

    expect(quiz.get_by_text(re.compile(r"^Hasil: .* dari 10 "))).to_be_visible(timeout=20_000)
    expect(quiz.get_by_text(re.compile(r"^Aturan: ")).first).to_be_visible()  # cited rules at once
    # Default review options: the correct choice only once the quiz is passed or the attempts are used up.
    expect(quiz.get_by_text("Jawaban benar:")).to_have_count(0)
    assert quiz_site.sql("SELECT count(*) FROM attempts WHERE submitted_at IS NOT NULL")[0][0] == 1
