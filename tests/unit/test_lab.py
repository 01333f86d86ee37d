"""`make lab`'s JupyterLab: loopback, token, and no news pop-up over the onboarding."""

from __future__ import annotations

import json

from runbook_lib.sandbox import lab

NOTIFICATION = "@jupyterlab/apputils-extension:notification"


def test_the_command_listens_on_loopback_with_a_token(tmp_path):
    cmd = lab.lab_command(8888, "tok", tmp_path)
    assert "--ip=127.0.0.1" in cmd and "--IdentityProvider.token=tok" in cmd
    assert f"--LabApp.app_settings_dir={tmp_path}" in cmd


def test_the_settings_folder_turns_the_news_off(tmp_path):
    folder = lab.write_app_settings(tmp_path / "settings")
    overrides = json.loads((folder / "overrides.json").read_text())
    assert overrides[NOTIFICATION]["fetchNews"] == "false"
