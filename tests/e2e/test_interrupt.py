"""Ctrl-C during `runbook sandbox up`: one line, exit 130, and no Terraform or provider
process, no state lock and no moto server left behind.

When to press is decided by events, not by time: the test stops the sandbox's moto server
(SIGSTOP) as soon as `up` names it, so Terraform blocks on its first call holding its
state lock; the lock file appearing is the moment to press Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.sandboxstack import default_workdir
from tests.terminal import interruptible

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.skipif(
        find_terraform() is None,
        reason="no terraform binary on PATH (set RUNBOOK_TERRAFORM to use another one)",
    ),
]
STARTED = re.compile(r"moto server started at \S+ \(pid (\d+)\)")
WAIT_S = 300  # an upper bound for terraform init on a slow machine, not a timing assertion


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return not re.search(r"^State:\s+Z", status, re.M)  # a zombie has exited


def _processes_in(folder: Path) -> list[str]:
    """Live processes working in folder (Terraform and its providers run in the stack's
    copy there)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or not _alive(int(proc.name)):
            continue
        try:
            cwd = os.readlink(proc / "cwd")
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cwd.startswith(str(folder)):
            found.append(f"{proc.name}: {cmdline[:120]}")
    return found


def test_ctrl_c_during_sandbox_up_leaves_nothing_running(tmp_path):
    state = tmp_path / "state"
    env = {**os.environ, "RUNBOOK_STATE_DIR": str(state)}
    exe = Path(sys.executable).with_name("runbook")
    proc = subprocess.Popen(
        [str(exe), "sandbox", "up", "--days", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    # the stack's state lock (`init` takes another, briefly, under .terraform/)
    lock = state / default_workdir().name / ".terraform.tfstate.lock.info"
    moto_pid, seen = None, []
    try:
        while moto_pid is None:
            line = proc.stderr.readline()
            assert line, f"`sandbox up` ended before starting moto: {''.join(seen)}"
            seen.append(line)
            match = STARTED.search(line)
            moto_pid = int(match.group(1)) if match else None
        os.kill(moto_pid, signal.SIGSTOP)  # Terraform's first call to it now hangs
        deadline = time.monotonic() + WAIT_S
        while not lock.exists():
            assert proc.poll() is None, "sandbox up ended before Terraform took its lock"
            assert time.monotonic() < deadline, "Terraform never took its state lock"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        os.kill(moto_pid, signal.SIGCONT)
        _out, err = proc.communicate(timeout=WAIT_S)
    finally:
        if moto_pid is not None and _alive(moto_pid):
            os.kill(moto_pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
    err = "".join(seen) + err
    assert proc.returncode == 130, err
    assert err.rstrip().splitlines()[-1] == "runbook: interrupted", err
    assert "Traceback" not in err
    assert _processes_in(state) == [], "a Terraform or provider process outlived Ctrl-C"
    assert not lock.exists(), "the state lock was left behind"
    assert not _alive(moto_pid), "the sandbox's moto server was left running"
