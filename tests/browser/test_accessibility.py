"""Every page a learner, trainer, HR person, admin or visitor can reach passes axe-core (WCAG 2.1 A and AA)
with no serious or critical violation.

The pages are not listed by hand: for each role the test follows the same-origin links from that
role's start pages (breadth first), so a page added later is checked without editing this file.
axe-core is the npm package (tests/browser/axe/package.json, installed by `make test`), injected into
Debian's Chromium by Playwright.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.server.access_world import build

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MAX_PAGES_PER_ROLE = 40
# Links a crawl must not follow: they end the session, change state or download files.
SKIP = re.compile(r"^/(static/|keluar|api/)|/aliran$|\.(csv|xlsx|pdf|json|png|svg)(\?|$)|/laporan\.|/unduh")

START = {
    "anon": ["/", "/masuk", "/daftar", "/staf/masuk", "/join", "/sertifikat/{code}", "/tidak-ada-halaman-ini"],
    "learner": ["/", "/percobaan/{attempt}"],
    "trainer": ["/pelatih/", "/pelatih/lokakarya/{workshop}", "/pelatih/lokakarya/{workshop}/papan"],
    "hr": ["/hr/", "/hr/peserta"],
    "admin": ["/admin/laporan"],
}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core tidak terpasang: jalankan `npm ci --prefix {AXE.parents[2]}` (make test melakukannya)")
    return AXE.read_text(encoding="utf-8")


def _same_origin_links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        url = urljoin(page.url, href)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != base:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not SKIP.search(path):
            out.append(path)
    return out


def _crawl(browser, world, role: str, axe_source: str, viewport: dict) -> tuple[dict, list[str]]:
    # The pages' CSP forbids inline scripts, rightly; only the injected axe script is let through.
    context = browser.new_context(locale="id-ID", viewport=viewport, bypass_csp=True)
    cookies = [
        {"name": c.name, "value": c.value, "url": world.url} for c in world.web[role].cookies if c.value is not None
    ]
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    page.set_default_timeout(15_000)
    found: dict[str, list[dict]] = {}
    seen: set[str] = set()
    queue = deque(p.format(**world.ids) for p in START[role])
    try:
        while queue and len(seen) < MAX_PAGES_PER_ROLE:
            path = queue.popleft()
            # One page per route shape: /percobaan/abc and /percobaan/def are the same template.
            shape = re.sub(r"/[0-9a-f]{8,}|/\d+|/[A-Za-z0-9_-]{16,}", "/:id", path.split("?")[0])
            if shape in seen:
                continue
            seen.add(shape)
            page.goto(world.url + path)
            page.add_script_tag(content=axe_source)
            result = page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                TAGS,
            )
            bad = [
                {
                    "id": v["id"],
                    "impact": v["impact"],
                    "help": v["help"],
                    "nodes": [n["target"] for n in v["nodes"][:3]],
                }
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if bad:
                found[path] = bad
            queue.extend(_same_origin_links(page, world.url))
    finally:
        context.close()
    return found, sorted(seen)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from tests.server.conftest import start_live

    tmp = tmp_path_factory.mktemp("a11y")
    gen = start_live(tmp, f"sqlite:///{tmp / 'quiz.sqlite'}")
    live = next(gen)
    try:
        yield build(live)
    finally:
        gen.close()


# Violations rarely depend on the width (labels, contrast, names); the phone is where most learners
# are, the projector is the trainer's room.
CASES = [(role, "phone") for role in START] + [("trainer", "projector"), ("admin", "projector")]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "projector": {"width": 1366, "height": 768}}


@pytest.mark.parametrize(("role", "viewport"), CASES, ids=[f"{r}-{v}" for r, v in CASES])
def test_every_reachable_page_passes_axe(browser, world, axe_source, role, viewport):
    found, visited = _crawl(browser, world, role, axe_source, VIEWPORTS[viewport])
    assert len(visited) >= len(START[role]), visited
    assert found == {}, found
