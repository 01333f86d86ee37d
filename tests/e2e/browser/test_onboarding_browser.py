"""00_onboarding run through JupyterLab's own UI, in headless Chromium.

Debian's `chromium` package drives the browser (test tools' own browser downloads do not
work here) through Playwright for Python. The test starts its own sandbox and JupyterLab on
a free loopback port with a token, serving a COPY of the notebook from a temporary root with
autosave off, so the committed notebook never gets outputs.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from runbook_lib.notebook.results import RESULT_MIME, result_from_notebook
from runbook_lib.sandbox import server as sandbox
from tests.conftest import own_sandbox

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - skipped below with the reason
    sync_playwright = None

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "00_onboarding.ipynb"
SCREENSHOT = ROOT / "docs" / "onboarding-screenshot.png"
CHROMIUM = shutil.which("chromium")
# Headless, no sandboxing (containers), and no background connections: offline machines
# would see them refused noisily.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# JupyterLab user settings for the test: no autosave, every cell in the DOM, the notebook's
# kernel started without asking, no news fetch.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,  # no "Select Kernel" dialog
    },
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}
LAB_START_TIMEOUT_S = 60
# Run All queues every cell at once ([*]); a failing cell stops the rest (back to [ ]).
ANY_PROMPT_RUN = """() => [...document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt')]
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""
NONE_PENDING = """() => ![...document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt')]
    .some(p => p.textContent.includes('[*]'))"""
ERROR_OUTPUTS = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
RUN_ALL_TIMEOUT_MS = 150_000  # the live reset demo runs terraform apply twice (~20 s)
SEED_DAYS = 7  # the notebook plots 7 days by default: a full picture for the screenshot

# .ci/run installs both and sets RUNBOOK_REQUIRE_BROWSER=1: there a missing browser is a
# failure, not a skip, so CI can never pass without having driven JupyterLab.
_REQUIRED = bool(os.environ.get("RUNBOOK_REQUIRE_BROWSER"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None and not _REQUIRED,
        reason="no `chromium` on PATH (Debian: apt-get install chromium)",
    ),
    pytest.mark.skipif(
        sync_playwright is None and not _REQUIRED,
        reason="playwright is not importable (pip install playwright)",
    ),
]


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    root: Path

    def notebook_url(self, relative: str) -> str:
        return f"{self.url}/lab/tree/{relative}?token={self.token}"


@pytest.fixture(scope="module")
def lab_sandbox(
    state_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sandbox.SandboxInfo]:
    """A sandbox of the test's own: moto server, table, seeded history and backup."""
    with own_sandbox(tmp_path_factory.mktemp("lab-sandbox"), days=SEED_DAYS) as info:
        yield info


def _write_settings(folder: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _wait_for_lab(url: str, token: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + LAB_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"JupyterLab did not answer on {url}:\n{log.read_text()}")


@pytest.fixture(scope="module")
def lab(
    lab_sandbox: sandbox.SandboxInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    """JupyterLab on loopback with the sandbox's environment, serving a temporary root."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy2(NOTEBOOK, root / "notebooks" / NOTEBOOK.name)
    _write_settings(base / "settings")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RUNBOOK_"))}
    env.update(lab_sandbox.env())
    env.update(
        {
            "RUNBOOK_HOME": str(ROOT),  # docs/ and terraform/ come from the checkout
            "RUNBOOK_STATE_DIR": str(base / "state"),
            "RUNBOOK_BACKUPS": str(base / "backups"),
            "RUNBOOK_REPORTS": str(base / "reports"),
            "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
            "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        }
    )
    port, token = sandbox.free_port(), secrets.token_hex(16)
    log = base / "jupyterlab.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    if os.geteuid() == 0:  # containers and CI images often run as root
        cmd.append("--allow-root")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_lab(url, token, proc, log)
        yield Lab(url=url, token=token, root=root)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_idle(page: Page, timeout_ms: int) -> None:
    """The status bar says the notebook's kernel is up and idle."""
    status = page.locator("#jp-main-statusbar")
    expect(status).to_contain_text(re.compile(r"Python 3.*\| Idle"), timeout=timeout_ms)


def _wait_for_file_text(path: Path, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in path.read_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} was not saved with {text!r} within {timeout_s}s")
        time.sleep(0.2)


def _collapse_left_sidebar(page: Page) -> None:
    """Clicking the open sidebar tab closes it: the notebook gets the whole width."""
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()


def _run_all_cells(page: Page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def test_onboarding_runs_clean_in_jupyterlab(lab: Lab, tmp_path: Path) -> None:
    committed = NOTEBOOK.read_bytes()
    served = lab.root / "notebooks" / NOTEBOOK.name
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1440, "height": 1000},
        )
        page = browser.pages[0] if browser.pages else browser.new_page()  # the visible tab
        try:
            page.goto(lab.notebook_url(f"notebooks/{NOTEBOOK.name}"))
            panel = page.locator(".jp-NotebookPanel")
            expect(panel.locator(".jp-CodeCell").first).to_be_visible(timeout=60_000)
            _wait_idle(page, 60_000)

            _run_all_cells(page)
            page.wait_for_function(ANY_PROMPT_RUN, timeout=30_000, polling=250)
            page.wait_for_function(NONE_PENDING, timeout=RUN_ALL_TIMEOUT_MS, polling=250)
            _wait_idle(page, 30_000)

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

            _collapse_left_sidebar(page)
            plot_cell.scroll_into_view_if_needed()
            shot = page.screenshot(path=str(tmp_path / SCREENSHOT.name))
            if os.environ.get("RUNBOOK_UPDATE_SCREENSHOT"):  # refresh the README's picture
                SCREENSHOT.write_bytes(shot)

            # Save the served copy: the outputs as the UI produced them, read back below.
            panel.locator('[data-command="docmanager:save"]').click()
            _wait_for_file_text(served, RESULT_MIME, timeout_s=15)
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))  # what the UI showed
            raise
        finally:
            browser.close()

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
