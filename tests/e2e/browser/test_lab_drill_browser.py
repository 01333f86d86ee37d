"""The incident drill in JupyterLab, as an on-call engineer does it, with autosave ON.

A reset is planted on the sandbox's own counter by `runbook sandbox drill`'s code (a
deploy's PutItem writes 0 over the count, then visits land). The lab is laid out as
`make lab` lays it out (fresh working copies, never the repo's notebooks/), and the drill
goes: 02 Run All (the verdict on screen), 07 Run All (a dry run), 07 with `dry_run = False`
and `confirm` typed into its parameters cell, 02 again, 03 with its defaults (a message, not
a traceback). Afterwards the repo's notebooks/ is as it was, the edits are in the working
copies, and a saved copy cannot run headless. After the repair, 02 is green with the repair
named (a WARN row), not red for the rest of the window.

Screenshots of each step go to docs/lab-drill-*.png when RUNBOOK_UPDATE_SCREENSHOT is set.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runbook_lib.sandbox import drill as sandboxdrill
from runbook_lib.sandbox import labwork, provision
from runbook_lib.sandbox import server as sandbox
from tests.e2e.browser import labkit
from tests.e2e.browser.labkit import ERROR_OUTPUTS, PANEL, Lab

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - skipped by labkit.BROWSER_MARKS with the reason
    expect = None  # type: ignore[assignment]

ROOT = labkit.ROOT
WIDTH, HEIGHT = 1280, 900  # the window
SEED_DAYS = 2  # history before the drill's
# Autosave on, every second: whatever the user types lands on disk, as in `make lab`.
LAB_SETTINGS = {
    **labkit.LAB_SETTINGS,
    "@jupyterlab/docmanager-extension/plugin": {"autosave": True, "autosaveInterval": 1},
}
RUN_ALL_TIMEOUT_MS = 120_000
pytestmark = labkit.BROWSER_MARKS


@dataclass(frozen=True)
class Drill:
    lab: Lab
    table: str
    recovered: int  # before + visits since: what the confirmed 07 writes
    work: Path
    env: dict[str, str]


def _git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--", "notebooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _plant(info: sandbox.SandboxInfo) -> tuple[str, int]:
    """`runbook sandbox drill`'s reset on the sandbox's own counter: (table, what 07 sets)."""
    planted = sandboxdrill.drill(info, log=lambda _m: None)
    return planted.target.table, planted.expected_recovered


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    base = tmp_path_factory.mktemp("drill")
    pid, url = sandbox.start_server(log_path=base / "moto.log")
    try:
        info = sandbox.SandboxInfo(url=url, pid=pid)
        provision.provision(info, days=SEED_DAYS, use_terraform=False, log=lambda _m: None)
        table, recovered = _plant(info)
        env = labkit.lab_env(base, info.env())
        labkit.write_settings(base / "settings", LAB_SETTINGS)
        with pytest.MonkeyPatch.context() as mp:  # the lab's state folder, as `make lab`'s
            mp.setenv("RUNBOOK_STATE_DIR", env["RUNBOOK_STATE_DIR"])
            work = labwork.prepare(log=lambda _m: None)
        cmd = labkit.lab_command(work, base / "app-settings")
        with labkit.running_lab(cmd, work, env, base / "lab.log") as lab:
            yield Drill(lab=lab, table=table, recovered=recovered, work=work, env=env)
    finally:
        sandbox.stop_pid(pid)


def _open(page: Page, drill: Drill, name: str) -> None:
    labkit.open_notebook(page, drill.lab, f"notebooks/{name}.ipynb")


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    shot = page.screenshot(path=str(tmp_path / f"lab-drill-{name}.png"))
    if labkit.UPDATE_SCREENSHOTS:
        (ROOT / "docs" / f"lab-drill-{name}.png").write_bytes(shot)


def _verdict_on_screen(page: Page, *texts: str) -> str:
    """A verdict block is in the viewport where Run All left the reader; its text."""
    blocks = page.locator(f"{PANEL} .runbook-verdict-block")
    seen = [b for b in blocks.all() if _in_viewport(page, b)]
    assert seen, "no verdict block on screen after Run All"
    text = seen[-1].inner_text()
    for wanted in texts:
        assert wanted in text, text
    return text


def _in_viewport(page: Page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 60) <= HEIGHT


def _no_traceback(page: Page) -> None:
    tracebacks = page.locator(f"{PANEL} {ERROR_OUTPUTS}", has_text="Traceback")
    assert tracebacks.count() == 0, "\n".join(tracebacks.all_inner_texts())


def _type_into_parameters(page: Page, lines: list[str]) -> None:
    """Append lines to the parameters cell, as a user types them (later lines win)."""
    editor = page.locator(f"{PANEL} .jp-CodeCell").first.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+End")
    for line in lines:
        page.keyboard.press("Enter")
        page.keyboard.type(line)


def test_the_drill_in_the_lab_leaves_the_repo_clean(drill: Drill, tmp_path: Path) -> None:
    before = _git_status()
    with labkit.browser_page(tmp_path / "chromium", WIDTH, HEIGHT) as page:
        _open(page, drill, "02_status")
        labkit.run_all_and_wait(page, RUN_ALL_TIMEOUT_MS)
        _no_traceback(page)
        text = _verdict_on_screen(page, "PROBLEM FOUND", "dropped")
        assert "[FAIL]" in text  # the failing check's row is where the eye is
        _shot(page, tmp_path, "1-status")

        _open(page, drill, "07_recover")
        labkit.run_all_and_wait(page, RUN_ALL_TIMEOUT_MS)
        _no_traceback(page)
        text = _verdict_on_screen(page, "PROBLEM FOUND")
        assert "parameters cell" in text, text  # the next step in the lab's terms
        _shot(page, tmp_path, "2-recover-dry-run")

        typed = ["dry_run = False", f'confirm = "{drill.table}"']
        _type_into_parameters(page, typed)
        labkit.run_all_and_wait(page, RUN_ALL_TIMEOUT_MS)
        _no_traceback(page)
        text = _verdict_on_screen(page, "OK", "Undo", f"{drill.recovered:,}")
        _shot(page, tmp_path, "3-recovered")
        # autosave lands in the working copy; opening the next notebook leaves this page,
        # which would drop an edit not saved yet. Every typed line whole: an autosave made
        # while confirm's quotes were being typed holds a cell that does not parse (seen in
        # CI), and a later one replaces it
        copy = drill.work / "notebooks" / "07_recover.ipynb"
        for line in typed:
            labkit.wait_for_parameters(copy, line, timeout_s=60)

        _open(page, drill, "02_status")
        labkit.run_all_and_wait(page, RUN_ALL_TIMEOUT_MS)
        _no_traceback(page)
        text = _verdict_on_screen(page, "OK", "repaired")  # the closed incident is green
        assert "[FAIL]" not in text and "[WARN]" in text, text
        _shot(page, tmp_path, "4-status-after")

        _open(page, drill, "03_set_count")
        labkit.run_all_and_wait(page, RUN_ALL_TIMEOUT_MS)
        _no_traceback(page)
        errors = page.locator(f"{PANEL} {ERROR_OUTPUTS}")
        expect(errors).to_have_count(1)
        message = errors.inner_text()
        assert "new_value" in message and "parameters cell" in message, message
        assert "-p new_value" not in message, message
        errors.scroll_into_view_if_needed()
        _shot(page, tmp_path, "5-set-count-defaults")

    for line in typed:  # and they stayed there
        labkit.wait_for_parameters(copy, line, timeout_s=60)
    assert _git_status() == before, "the lab changed the repo's notebooks/"
    refused = subprocess.run(
        [sys.executable, "-m", "runbook_lib.cli", "run", str(copy)],
        env=drill.env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2, refused.stderr  # a saved copy cannot run headless
    assert "`dry_run = False`" in refused.stderr and "Nothing ran" in refused.stderr
