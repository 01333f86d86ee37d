"""`runbook run 02_status` against a sandbox that is not running: one line, exit 1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# ---- could not look: NOT CHECKED, never "fine"; an unreachable endpoint is one line -------


def _closed_port_url() -> str:
    """A loopback URL nothing listens on: bound, read, closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.notebook
def test_runbook_run_against_a_stopped_sandbox_is_one_line_and_exit_1(tmp_path):
    """GIVEN AWS_ENDPOINT_URL pointing at a closed loopback port (a stale sandbox shell)
    WHEN `runbook run 02_status` runs THEN one line says so, exit 1, never UNHEALTHY."""
    url = _closed_port_url()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNBOOK_")}
    env.update(
        AWS_ENDPOINT_URL=url,
        RUNBOOK_TABLE="resume-VisitorCount",
        RUNBOOK_STATE_DIR=str(tmp_path / "state"),
        RUNBOOK_HOME=os.environ.get("RUNBOOK_HOME", str(ROOT)),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "runbook_lib.cli", "run", "02_status", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    expected = (
        f"02_status: cannot reach {url}: the sandbox is not running; run `runbook sandbox up` "
        "or unset AWS_ENDPOINT_URL"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (proc.stdout + proc.stderr).strip().splitlines() == [expected]
