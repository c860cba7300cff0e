"""The stakeholder reports in a real browser: Debian's Chromium, headless, driven by playwright.

The pipeline runs on a tiny app whose code carries HTML/JS payloads (in a file name, a
snippet, a route path, a secret). Each page is opened from file:// with every non-file
request blocked; it must load with no console error and no failed request, draw its
charts, show the headline figures of summary.json, and show the payloads as text
without running them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from audit.pipeline import run_pipeline

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
EVIL_APP = ROOT / "tests" / "report" / "evil_app"
EVIL_FILE = "x<img src=x onerror=window.__pwned=5>.py"
PAGES = ["index.html", "01_map.html", "02_breakdown.html", "03_mitigate.html", "04_deploy.html"]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` (apt-get install chromium) installs it")
    base = tmp_path_factory.mktemp("browser")
    app = base / "evil_app"
    shutil.copytree(EVIL_APP, app, ignore=shutil.ignore_patterns("__pycache__"))
    (app / EVIL_FILE).write_text('print("<script>window.__pwned=4</script>")\n')
    out = base / "out"
    summary = run_pipeline(app, out / "target", out, parameters={"semgrep": False, "batch_size": 1},
                           log=lambda message: None)
    assert summary["ok"], summary.get("error")
    return out


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


class PageVisit:
    """Open one report from disk, recording everything that would mean it is not self-contained or safe."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.blocked: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", self._only_files)
        self.page.goto(path.as_uri(), wait_until="load")

    def _only_files(self, route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def assert_clean(self):
        assert self.console_errors == []
        assert self.failed == []
        assert self.blocked == []
        assert self.dialogs == []
        assert self.page.evaluate("typeof window.__pwned") == "undefined"
        assert self.page.evaluate("document.querySelectorAll('script').length") == 0

    def images_drawn(self) -> list[int]:
        return self.page.evaluate("Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_offline_cleanly_and_draws_its_charts(reports, browser, name):
    visit = PageVisit(browser, reports / name)
    try:
        visit.assert_clean()
        widths = visit.images_drawn()
        if name in ("index.html", "01_map.html", "02_breakdown.html", "04_deploy.html"):
            assert widths, f"{name}: no chart"
        assert all(w > 0 for w in widths), f"{name}: an image did not render: {widths}"
    finally:
        visit.page.close()


def test_payloads_from_the_audited_code_show_as_text(reports, browser):
    visit = PageVisit(browser, reports / "01_map.html")
    try:
        text = visit.page.inner_text("body")
        assert "x<img src=x onerror=window.__pwned=5>.py" in text  # a file name
        assert 'print("<script>window.__pwned=1</script>", script)' in text  # a snippet
        assert "GET /api/items/<script>" in text  # a route path
        visit.assert_clean()
    finally:
        visit.page.close()
    visit = PageVisit(browser, reports / "03_mitigate.html")
    try:
        visit.page.click("summary >> text=routes.py")  # open a diff: still only text
        assert "<script>window.__pwned=1</script>" in visit.page.inner_text("body")
        visit.assert_clean()
    finally:
        visit.page.close()


def test_headline_figures_equal_summary_json(reports, browser, tmp_path):
    summary = json.loads((reports / "summary.json").read_text())
    before = json.loads((reports / "map" / "summary.json").read_text())["by_category"]
    after = json.loads((reports / "target_map" / "summary.json").read_text())["by_category"]
    visit = PageVisit(browser, reports / "index.html")
    try:
        shown = visit.page.eval_on_selector_all(
            "li[data-category]",
            "items => items.map(li => [li.dataset.category, li.querySelector('.before').textContent,"
            " li.querySelector('.after').textContent, li.querySelector('.label').textContent])")
        assert shown, "no headline figures"
        assert {c: (int(b), int(a)) for c, b, a, _ in shown} == \
            {h["category"]: (h["before"], h["after"]) for h in summary["headline"]}
        assert {c: int(b) for c, b, _, _ in shown if int(b)} == before
        assert {c: int(a) for c, _, a, _ in shown if int(a)} == after
        assert all(label.strip() and "-" not in label.split()[0] for *_, label in shown)  # plain words
        assert visit.page.text_content("#findings-before") == str(summary["findings_before"])
        visit.assert_clean()
        shot = tmp_path / "index.png"
        visit.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        keep = ROOT / "reports" / "screenshots"
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, keep / "index.png")  # for a reviewer (reports/ is not committed)
    finally:
        visit.page.close()
