"""00_onboarding run through JupyterLab's own UI, in headless Chromium.

The test starts its own sandbox and JupyterLab on a free loopback port with a token, serving
a COPY of the notebook from a temporary root with autosave off, so the committed notebook
never gets outputs.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from runbook_lib.notebook.results import RESULT_MIME, result_from_notebook
from runbook_lib.sandbox import server as sandbox
from tests.conftest import own_sandbox
from tests.e2e.browser import labkit
from tests.e2e.browser.labkit import ERROR_OUTPUTS, Lab

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - skipped by labkit.BROWSER_MARKS with the reason
    expect = None  # type: ignore[assignment]

ROOT = labkit.ROOT
NOTEBOOK = ROOT / "notebooks" / "00_onboarding.ipynb"
SCREENSHOT = ROOT / "docs" / "onboarding-screenshot.png"
# autosave off: the served copy is saved once, by the test, to read the outputs back
LAB_SETTINGS = {
    **labkit.LAB_SETTINGS,
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}
RUN_ALL_TIMEOUT_MS = 150_000  # the live reset demo runs terraform apply twice (~20 s)
SEED_DAYS = 7  # the notebook plots 7 days by default: a full picture for the screenshot
pytestmark = labkit.BROWSER_MARKS


@pytest.fixture(scope="module")
def lab_sandbox(
    state_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sandbox.SandboxInfo]:
    """A sandbox of the test's own: moto server, table, seeded history and backup."""
    with own_sandbox(tmp_path_factory.mktemp("lab-sandbox"), days=SEED_DAYS) as info:
        yield info


@pytest.fixture(scope="module")
def lab(
    lab_sandbox: sandbox.SandboxInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    """JupyterLab on loopback with the sandbox's environment, serving a temporary root."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy2(NOTEBOOK, root / "notebooks" / NOTEBOOK.name)
    labkit.write_settings(base / "settings", LAB_SETTINGS)
    env = labkit.lab_env(base, lab_sandbox.env())
    with labkit.running_lab(
        labkit.lab_command(root, base / "app-settings"), root, env, base / "lab.log"
    ) as running:
        yield running


def test_onboarding_runs_clean_in_jupyterlab(lab: Lab, tmp_path: Path) -> None:
    committed = NOTEBOOK.read_bytes()
    served = lab.root / "notebooks" / NOTEBOOK.name
    with labkit.browser_page(tmp_path / "chromium-profile", 1440, 1000) as page:
        page.goto(lab.notebook_url(f"notebooks/{NOTEBOOK.name}"))
        panel = page.locator(".jp-NotebookPanel")
        expect(panel.locator(".jp-CodeCell").first).to_be_visible(timeout=60_000)
        labkit.wait_idle(page, 60_000)

        labkit.run_all_and_wait(page, RUN_ALL_TIMEOUT_MS)

        tracebacks = panel.locator(ERROR_OUTPUTS, has_text="Traceback")
        assert tracebacks.count() == 0, "\n".join(tracebacks.all_inner_texts())
        last = panel.locator(".jp-CodeCell").last
        expect(last.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"))
        verdict = panel.locator(".runbook-verdict")
        expect(verdict).to_be_visible()
        expect(verdict).to_contain_text("HEALTHY")
        plot_cell = panel.locator(".jp-CodeCell", has_text="plots.history_figure")
        figure = plot_cell.locator(".jp-OutputArea-output img")
        expect(figure).to_have_count(1)
        assert figure.get_attribute("src").startswith("data:image/png")

        labkit.collapse_left_sidebar(page)
        plot_cell.scroll_into_view_if_needed()
        shot = page.screenshot(path=str(tmp_path / SCREENSHOT.name))
        if labkit.UPDATE_SCREENSHOTS:  # refresh the README's picture
            SCREENSHOT.write_bytes(shot)

        # Save the served copy: the outputs as the UI produced them, read back below.
        panel.locator('[data-command="docmanager:save"]').click()
        labkit.wait_for_file_text(served, RESULT_MIME, timeout_s=15)

    executed = nbformat.read(served, as_version=4)
    errors = [
        o
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert not errors, errors
    result = result_from_notebook(executed)
    assert result is not None and result["healthy"] is True
    assert NOTEBOOK.read_bytes() == committed, "the committed notebook must stay output-free"
