"""notebook_overhead_ratio: `runbook run 02_status` against the plain script, side by side.

Both are whole commands in fresh processes, against the same sandbox, in alternating order
each round; the ratio is taken per round (notebook seconds / script seconds), then its
median, min and max. The breakdown comes from `bench.timeline` runs of the same notebook.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import figure, summary

TARGET = 1.5
HEAVY = ("pandas", "matplotlib")
TIMEOUT_S = 300


def runbook_command() -> list[str]:
    """The `runbook` console script of this venv (what a scheduler runs)."""
    exe = Path(sys.executable).with_name("runbook")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "runbook_lib.cli"]


def _timed_run(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return seconds, proc.returncode


def _status_imports(env: dict[str, str]) -> list[str]:
    """Heavy modules the 02_status cells import (their imports, in a fresh interpreter)."""
    code = (
        "import json, sys\n"
        "from runbook_lib import notebook, status\n"
        "from runbook_lib.results import record_result\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def measure(env: dict[str, str], runs: int, log: Any = print) -> dict[str, Any]:
    script: list[float] = []
    notebook: list[float] = []
    ratios: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-nb-") as work:
        script_cmd = [sys.executable, "-m", "bench.script_status", "--out", f"{work}/script"]
        nb_cmd = [*runbook_command(), "run", "02_status", "--out", f"{work}/reports"]
        for r in range(runs):
            order = [("script", script_cmd), ("notebook", nb_cmd)]
            got: dict[str, tuple[float, int]] = {}
            for name, cmd in order if r % 2 == 0 else reversed(order):
                got[name] = _timed_run(cmd, env)
            if got["script"][1] != got["notebook"][1]:
                raise RuntimeError(f"script and notebook disagree: {got}")
            script.append(got["script"][0])
            notebook.append(got["notebook"][0])
            ratios.append(got["notebook"][0] / got["script"][0])
            log(f"  round {r + 1}: script {script[-1]:.2f}s, runbook run {notebook[-1]:.2f}s")
        steps = [_timeline(env, f"{work}/timeline") for _ in range(runs)]
        python_start = [_timed_run([sys.executable, "-c", "pass"], env)[0] for _ in range(runs)]
        kernel_ready = [_kernel_ready_s(env) for _ in range(runs)]
    breakdown = {
        key: round(statistics.median(s[key] for s in steps), 3)
        for key in steps[0]
        if isinstance(steps[0][key], float)
    }
    breakdown["python_start_s"] = round(statistics.median(python_start), 3)
    return figure(
        ratios,
        "x",
        target=f"<= {TARGET}",
        met=lambda m: m <= TARGET,
        notebook_s=summary(notebook, "s"),
        script_s=summary(script, "s"),
        kernel_ready_s=summary(kernel_ready, "s"),
        kernel_ready_vs_script=round(
            statistics.median(kernel_ready) / statistics.median(script), 2
        ),
        floor_note="kernel_ready_s: a python3 kernel from launch to its first kernel_info reply, "
        "nothing executed; every run on a fresh kernel pays it before its first cell",
        breakdown_s=breakdown,
        runner_heavy_imports=steps[0]["runner_heavy_imports"],
        status_notebook_heavy_imports=_status_imports(env),
        commands={"notebook": "runbook run 02_status", "script": "python -m bench.script_status"},
    )


_KERNEL_READY = """
import time
from jupyter_client.manager import start_new_kernel
started = time.perf_counter()
km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60)
print(time.perf_counter() - started)
kc.stop_channels()
km.shutdown_kernel(now=True)
"""


def _kernel_ready_s(env: dict[str, str]) -> float:
    """Seconds from launching a python3 kernel to its kernel_info reply (jupyter_client)."""
    proc = subprocess.run(
        [sys.executable, "-c", _KERNEL_READY],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def _timeline(env: dict[str, str], out: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.timeline", "--out", out],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])
