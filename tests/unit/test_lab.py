"""`make lab`'s JupyterLab: loopback, token, and no news pop-up over the onboarding."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

from runbook_lib.sandbox import lab

NOTIFICATION = "@jupyterlab/apputils-extension:notification"
START_TIMEOUT_S = 90  # a deadline for a loaded machine, not a measurement


def test_the_command_listens_on_loopback_with_a_token(tmp_path):
    cmd = lab.lab_command(8888, "tok", tmp_path)
    assert "--ip=127.0.0.1" in cmd and "--IdentityProvider.token=tok" in cmd
    assert f"--LabApp.app_settings_dir={tmp_path}" in cmd


def test_the_settings_folder_turns_the_news_off(tmp_path):
    folder = lab.write_app_settings(tmp_path / "settings")
    overrides = json.loads((folder / "overrides.json").read_text())
    assert overrides[NOTIFICATION]["fetchNews"] == "false"


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
