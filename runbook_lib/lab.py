"""`make lab`: the sandbox plus JupyterLab on loopback, with the sandbox's environment.

Ctrl-C stops JupyterLab, and the sandbox too when this command started it.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys

from . import paths, sandbox


def first_notebook() -> str:
    folder = paths.notebooks_dir()
    for name in ("00_onboarding.ipynb", "02_status.ipynb"):
        if (folder / name).exists():
            return f"notebooks/{name}"
    return "notebooks"


def main() -> int:
    started_here = sandbox.read_info() is None
    info = sandbox.up(log=print)
    env = {k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}
    env.update(info.env())
    port = sandbox.free_port()
    token = secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}/lab/tree/{first_notebook()}?token={token}"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={paths.project_root()}",
        f"--IdentityProvider.token={token}",
    ]
    if os.geteuid() == 0:  # containers and CI run as root; JupyterLab refuses without this
        cmd.append("--allow-root")
    print(f"\nJupyterLab: {url}\nCtrl-C stops it{' and the sandbox' if started_here else ''}.\n")
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
