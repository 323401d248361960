"""Time to the first widget of a module page in Voila, as a learner's browser sees it (issue 16: under 5 s
on localhost).

Starts a quiz server (SQLite, the real content), the README's Voila command (`python -m
netralitas.voila_app notebooks/01-mengapa-netral.ipynb`) and Debian's Chromium through Playwright. Each
visit is a fresh browser context (empty cache, not logged in), as a new learner. One warm-up visit, then
``--visits`` measured ones; prints each time, the median and the worst, and the bytes transferred.

    .venv/bin/python bench/voila_bench.py [--visits 5] [--notebook notebooks/01-mengapa-netral.ipynb]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, machine, server

CHROMIUM = "/usr/bin/chromium"
AIM_SECONDS = 5.0


def _wait_http(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"Voila stopped (exit {proc.returncode})")
        try:
            if requests.head(url, timeout=2).status_code < 500:
                return
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or too busy starting to answer
            pass
        time.sleep(0.2)  # poll interval
    raise SystemExit(f"{url} did not answer within {seconds} s")


def _visit(browser, url: str) -> tuple[float, int]:
    context = browser.new_context(locale="id-ID", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sizes: list[int] = []
    page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"]))  # bytes as transferred
    try:
        start = time.monotonic()
        page.goto(url, timeout=120_000)
        page.locator(".jupyter-widgets").first.wait_for(state="visible", timeout=120_000)
        return time.monotonic() - start, sum(sizes)
    finally:
        context.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--visits", type=int, default=5)
    ap.add_argument("--notebook", default="notebooks/01-mengapa-netral.ipynb")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp, server(workers=2) as (quiz, _db):
        port = free_port()
        env = {
            **os.environ,
            "NETRALITAS_SERVER": quiz,
            "NETRALITAS_CONFIG_DIR": str(Path(tmp) / "learners"),
            "NETRALITAS_LEARNER_BUNDLE": str(ROOT / "notebooks" / "bundle"),
        }
        cmd = [sys.executable, "-m", "netralitas.voila_app", args.notebook, "--no-browser", f"--port={port}"]
        log = (Path(tmp) / "voila.log").open("w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            _wait_http(url, proc)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                _visit(browser, url)  # warm-up: the server's first render
                times, weights = [], []
                for i in range(args.visits):
                    seconds, weight = _visit(browser, url)
                    times.append(seconds)
                    weights.append(weight)
                    print(f"visit {i + 1}: first widget after {seconds:.2f} s, {weight / 1e6:.2f} MB transferred")
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    median, worst = statistics.median(times), max(times)
    print(f"first widget: median {median:.2f} s, worst {worst:.2f} s (aim: under {AIM_SECONDS:.0f} s)")
    return 0 if median < AIM_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
