"""`make lab`: the sandbox plus JupyterLab on loopback, with the sandbox's environment.

Ctrl-C stops JupyterLab, and the sandbox too when this command started it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from runbook_lib import paths
from runbook_lib.sandbox import labwork, provision
from runbook_lib.sandbox import server as sandbox

# Defaults for the runbook's own lab only (JupyterLab "overrides": a user's own setting
# still wins). No "Would you like to get notified about official Jupyter news?" pop-up
# over the onboarding notebook, and no update check: the lab is a tool, not a news feed.
SETTINGS_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def first_notebook(root: Path) -> str:
    """The notebook the lab opens, relative to the folder it serves."""
    for name in ("00_onboarding.ipynb", "02_status.ipynb"):
        if (root / "notebooks" / name).exists():
            return f"notebooks/{name}"
    return "notebooks"


def write_app_settings(folder: Path | None = None) -> Path:
    """An application settings folder holding overrides.json: the installed one's
    overrides (if any) with the runbook's on top. Passed as --LabApp.app_settings_dir, so
    only this lab sees it; the installed JupyterLab is left as it is."""
    folder = folder or paths.state_dir() / "lab" / "settings"
    folder.mkdir(parents=True, exist_ok=True)
    overrides: dict[str, dict] = {}
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    if installed.is_file():
        try:
            overrides = json.loads(installed.read_text(encoding="utf-8"))
        except ValueError:
            overrides = {}  # a broken file there is not ours to fix; ours still applies
    for plugin, values in SETTINGS_OVERRIDES.items():
        overrides.setdefault(plugin, {}).update(values)
    (folder / "overrides.json").write_text(json.dumps(overrides, indent=2) + "\n")
    return folder


def lab_command(port: int, token: str, settings_dir: Path, root: Path) -> list[str]:
    """JupyterLab on loopback only, with a token, serving root (the working copies: never
    the checkout, whose notebooks are templates)."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        f"--LabApp.app_settings_dir={settings_dir}",
    ]
    if os.geteuid() == 0:  # containers and CI run as root; JupyterLab refuses without this
        cmd.append("--allow-root")
    return cmd


def main() -> int:
    started_here = sandbox.read_info() is None
    info = provision.up(log=print)
    env = {k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}
    env.update(info.env())
    root = labwork.prepare(log=print)
    port = sandbox.free_port()
    token = secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}/lab/tree/{first_notebook(root)}?token={token}"
    cmd = lab_command(port, token, write_app_settings(), root)
    print(
        f"\nJupyterLab: {url}\n"
        "It serves working copies in .runbook/lab/work/notebooks/: edit and save them freely;"
        " notebooks/ (the templates) is never changed.\n"
        f"Ctrl-C stops it{' and the sandbox' if started_here else ''}.\n"
    )
    proc = subprocess.Popen(cmd, env=env)
    # a terminal's Ctrl-C and a supervisor's SIGTERM end the session the same way
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0
    finally:
        if started_here:
            sandbox.down(log=print)


if __name__ == "__main__":
    sys.exit(main())
