"""`make lab`'s JupyterLab started for real: no news pop-up over the onboarding."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from runbook_lib.sandbox import lab
from runbook_lib.sandbox import server as sandbox

NOTIFICATION = "@jupyterlab/apputils-extension:notification"
START_TIMEOUT_S = 90  # a deadline for a loaded machine, not a measurement


def _get_json(url: str, proc: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return json.loads(resp.read())
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"JupyterLab did not answer:\n{log.read_text()}") from None
            time.sleep(0.2)


@pytest.mark.slow
def test_the_runbook_lab_serves_fetch_news_false(tmp_path):
    """The setting as the JupyterLab front end gets it from the server the lab starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTER"))}
    env.update(
        {
            "RUNBOOK_STATE_DIR": str(tmp_path / "state"),
            "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),  # no one's own choice
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        }
    )
    port, token = sandbox.free_port(), secrets.token_hex(16)
    settings = lab.write_app_settings(tmp_path / "state" / "settings")
    cmd = lab.lab_command(port, token, settings, tmp_path)
    log = tmp_path / "lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/lab/api/settings/{NOTIFICATION}?token={token}"
        setting = _get_json(url, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert setting["schema"]["properties"]["fetchNews"]["default"] == "false"
    assert setting["schema"]["properties"]["checkForUpdates"]["default"] is False
