"""What the browser tests share: Debian's chromium through Playwright, a JupyterLab of the
test's own on a free loopback port, and the few UI gestures a user makes (Run All, save).

Debian's `chromium` package drives the browser (test tools' own browser downloads do not
work here). .ci/run installs it and sets RUNBOOK_REQUIRE_BROWSER=1: there a missing browser
is a failure, not a skip, so CI can never pass without having driven JupyterLab.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runbook_lib.sandbox import lab
from runbook_lib.sandbox import server as sandbox

try:
    from playwright.sync_api import Page, expect, sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # pragma: no cover - skipped below with the reason
    sync_playwright = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[3]
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
# JupyterLab user settings for the tests: every cell in the DOM, the notebook's kernel
# started without asking, no news fetch. Autosave is each test's choice.
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/notebook-extension/tracker": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,  # no "Select Kernel" dialog
    },
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}
LAB_START_TIMEOUT_S = 60
# The notebook on screen: other open notebooks stay in the DOM, hidden.
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# Run All queues every cell at once ([*]); a failing cell stops the rest (back to [ ]).
# Done: a cell ran since the click (a count above the highest before it) and none waits.
_PROMPTS = f"[...document.querySelectorAll('{PANEL} .jp-InputPrompt')].map(p => p.textContent)"
HIGHEST_COUNT = f"""() => Math.max(0, ...{_PROMPTS}
    .map(t => (t.match(/\\[(\\d+)\\]/) || [0, 0])[1]).map(Number))"""
RUN_FINISHED = f"""(before) => {{
    const prompts = {_PROMPTS};
    const counts = prompts.map(t => Number((t.match(/\\[(\\d+)\\]/) || [0, 0])[1]));
    return Math.max(0, ...counts) > before && !prompts.some(t => t.includes('[*]'));
}}"""
ERROR_OUTPUTS = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'

_REQUIRED = bool(os.environ.get("RUNBOOK_REQUIRE_BROWSER"))
# Read at import: the suite's autouse fixture strips RUNBOOK_* from each test's environment.
# Set, the browser tests refresh the README's pictures in docs/.
UPDATE_SCREENSHOTS = bool(os.environ.get("RUNBOOK_UPDATE_SCREENSHOT"))
BROWSER_MARKS = [
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

    def notebook_url(self, relative: str, *, alone: bool = False) -> str:
        """The lab opening relative; `alone`: in a reset workspace, so no tab restored from
        before takes the focus while it loads (kernels keep running on the server)."""
        reset = "reset&" if alone else ""
        return f"{self.url}/lab/tree/{relative}?{reset}token={self.token}"


def write_settings(folder: Path, settings: dict[str, dict[str, Any]]) -> None:
    for plugin, values in settings.items():
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


@contextlib.contextmanager
def running_lab(cmd: list[str], root: Path, env: dict[str, str], log: Path) -> Iterator[Lab]:
    """JupyterLab started from cmd (its --port and token read back from it), stopped after."""
    port = next(a.split("=", 1)[1] for a in cmd if a.startswith("--port="))
    token = next(a.split("=", 1)[1] for a in cmd if a.startswith("--IdentityProvider.token="))
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


def lab_command(root: Path, settings: Path) -> list[str]:
    """`make lab`'s own JupyterLab command (runbook_lib.sandbox.lab), serving root, on a free
    loopback port with a fresh token; its application settings written under settings."""
    port, token = sandbox.free_port(), secrets.token_hex(16)
    return lab.lab_command(port, token, lab.write_app_settings(settings), root)


def lab_env(base: Path, sandbox_env: dict[str, str]) -> dict[str, str]:
    """The process environment less AWS_/RUNBOOK_, plus the sandbox's and folders of base."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RUNBOOK_"))}
    env.update(sandbox_env)
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
    return env


@contextlib.contextmanager
def browser_page(profile: Path, width: int, height: int) -> Iterator[Page]:
    """The visible tab of a headless Chromium; a failure leaves failure.png beside profile."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": width, "height": height},
        )
        page = browser.pages[0] if browser.pages else browser.new_page()
        try:
            yield page
        except Exception:
            page.screenshot(path=str(profile.parent / "failure.png"))  # what the UI showed
            raise
        finally:
            browser.close()


def open_notebook(page: Page, lab: Lab, relative: str) -> None:
    """Open one notebook on its own and wait until it is the lab's current, idle document."""
    page.goto(lab.notebook_url(relative, alone=True))
    current = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    expect(current).to_have_text(re.compile(re.escape(Path(relative).name)), timeout=60_000)
    expect(page.locator(PANEL)).to_have_count(1, timeout=30_000)
    expect(page.locator(f"{PANEL} .jp-CodeCell").first).to_be_visible(timeout=60_000)
    wait_idle(page, 60_000)
    collapse_left_sidebar(page)


def wait_idle(page: Page, timeout_ms: int) -> None:
    """The status bar says the notebook's kernel is up and idle."""
    status = page.locator("#jp-main-statusbar")
    expect(status).to_contain_text(re.compile(r"Python 3.*\| Idle"), timeout=timeout_ms)


def wait_for_file_text(path: Path, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in path.read_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} was not saved with {text!r} within {timeout_s}s")
        time.sleep(0.2)


def wait_for_parameters(path: Path, line: str, timeout_s: float) -> None:
    """Wait until the notebook at path is saved with `line` in its parameters cell (its
    outputs may say the same words; a file caught mid-write is read again)."""
    deadline = time.monotonic() + timeout_s
    while line not in _parameters_source(path):
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} was not saved with {line!r} in its parameters cell")
        time.sleep(0.2)


def _parameters_source(path: Path) -> str:
    try:
        cells = json.loads(path.read_text()).get("cells", [])
    except ValueError:
        return ""
    for cell in cells:
        if "parameters" in (cell.get("metadata") or {}).get("tags", []):
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else str(source)
    return ""


def collapse_left_sidebar(page: Page) -> None:
    """Clicking the open sidebar tab closes it: the notebook gets the whole width."""
    tab = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if tab.count():
        tab.click()


def run_all_cells(page: Page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


STARTED = f"""(before) => {{
    const prompts = {_PROMPTS};
    const counts = prompts.map(t => Number((t.match(/\\[(\\d+)\\]/) || [0, 0])[1]));
    return Math.max(0, ...counts) > before || prompts.some(t => t.includes('[*]'));
}}"""


def run_all_and_wait(page: Page, timeout_ms: int) -> None:
    """Run All on the notebook on screen, then wait until it ran and the kernel is idle.

    A click on the Run menu made while the lab is still restoring its tabs can land on no
    notebook; Run All marks every cell queued at once, so no change within a few seconds
    means the click did nothing, and it is made again (never twice for one run)."""
    before = page.evaluate(HIGHEST_COUNT)
    for attempt in range(3):
        page.locator(f"{PANEL} .jp-Notebook").first.click(position={"x": 5, "y": 5})
        run_all_cells(page)
        try:
            page.wait_for_function(STARTED, arg=before, timeout=10_000, polling=100)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    page.wait_for_function(RUN_FINISHED, arg=before, timeout=timeout_ms, polling=250)
    wait_idle(page, 30_000)
