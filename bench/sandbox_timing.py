"""sandbox_up_s (with and without Terraform) and demo_s, as a user runs them.

Every run uses the bench's own state folder (RUNBOOK_STATE_DIR), so it never meets a
sandbox someone else started, and keeps it between runs as a user's `.runbook/` would be
kept: Terraform's working copy and its provider are warm after the first run.

With Terraform, `sandbox up` is timed inside the `runbook demo` runs (until the demo's own
`sandbox up` prints "Sandbox ready"): the same code path, and it keeps `make bench` within
its time budget, since each Terraform apply to moto takes most of a minute.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from typing import Any

from bench.floors import runbook_command
from bench.stats import figure, skipped

READY_LINE = "Sandbox ready."
TERRAFORM_LINE = "Applying terraform/"
TIMEOUT_S = 900


def _run(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        cmd,
        env=env,
        check=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def up_without_terraform(env: dict[str, str], runs: int, log: Any = print) -> dict[str, Any]:
    runbook = runbook_command()
    values = []
    for r in range(runs):
        values.append(_run([*runbook, "sandbox", "up", "--no-terraform"], env))
        _run([*runbook, "sandbox", "down"], env)
        log(f"  sandbox up --no-terraform {r + 1}: {values[-1]:.2f}s")
    return figure(values, "s", target=None, met=None, command="runbook sandbox up --no-terraform")


def demo(env: dict[str, str], runs: int, out: str, log: Any = print) -> dict[str, Any]:
    """{"demo_s": ..., "with_terraform": ...}: total demo time, and its sandbox-up part."""
    cmd = [*runbook_command(), "demo", "--out", out]
    totals: list[float] = []
    ups: list[float] = []
    used_terraform = False
    for r in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if TERRAFORM_LINE in line:
                used_terraform = True
            if ready is None and READY_LINE in line:
                ready = time.perf_counter() - started
        code = proc.wait(timeout=TIMEOUT_S)
        totals.append(time.perf_counter() - started)
        if code != 0:
            raise RuntimeError(f"runbook demo exited {code}")
        if ready is not None:
            ups.append(ready)
        log(f"  runbook demo {r + 1}: {totals[-1]:.1f}s (sandbox up {ready or 0:.1f}s)")
    demo_fig = figure(totals, "s", target=None, met=None, command="runbook demo", venv="warm")
    if used_terraform and ups:
        up_fig = figure(
            ups,
            "s",
            target=None,
            met=None,
            command="runbook sandbox up",
            measured="inside the runbook demo runs, until 'Sandbox ready'",
        )
    else:
        why = "no terraform binary on PATH" if shutil.which("terraform") is None else "unused"
        up_fig = skipped(why)
    return {"demo_s": demo_fig, "with_terraform": up_fig}
