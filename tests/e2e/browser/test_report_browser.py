"""The status report in headless Chromium: its verdict is on the first screen (within the
first 600 px of a 1280x900 window) and opening it asks the network for nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook_lib.notebook import runner

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the browser tier installs it
    sync_playwright = None  # type: ignore[assignment]

from tests.e2e.browser import labkit
from tests.e2e.browser.labkit import CHROMIUM, CHROMIUM_ARGS

FIRST_SCREEN_PX = 600
pytestmark = [*labkit.BROWSER_MARKS, pytest.mark.notebook]


def test_status_verdict_is_on_the_first_screen_and_nothing_is_fetched(live42, tmp_path):
    out = runner.run_notebook("02_status", {"table_name": live42.table}, tmp_path)
    requested: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def refuse(route):  # any request but the report file itself is a defect
                requested.append(route.request.url)
                route.abort()

            page.route(lambda url: not url.startswith("file:"), refuse)
            page.goto(Path(out.html_path).as_uri())
            verdict = page.locator("#runbook-verdict .runbook-verdict-line")
            box = verdict.bounding_box()
            text = verdict.inner_text()
        finally:
            browser.close()
    assert box is not None and box["y"] + box["height"] <= FIRST_SCREEN_PX, box
    assert text.startswith("HEALTHY"), text
    assert requested == [], f"the report fetched {requested}"
