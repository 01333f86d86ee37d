"""`runbook run 02_status` against two floors, side by side in the same rounds.

- the kernel floor: a bare kernel round trip with jupyter_client's public API (start a
  python3 kernel, execute one cell, shut it down), as a whole command in a fresh process;
- the papermill floor: the `papermill` command on a two-cell notebook (a parameters cell and
  one cell), the tool's own cost with next to nothing to run.

Every round runs the three commands in a rotating order against the same sandbox; each
ratio is taken per round (runbook seconds / floor seconds: a paired run, the two commands
seconds apart under the same load), then its median, min and max over at least
MIN_ROUNDS rounds, with the load average at the start and end and at each round: the
machine is shared, and a ratio means little without it. The breakdown comes from
`bench.timeline` runs of the same notebook.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import figure, summary

KERNEL_TARGET = 1.3
PAPERMILL_TARGET = 0.7
HEAVY = ("pandas", "matplotlib")
TIMEOUT_S = 300
MIN_ROUNDS = 9  # paired rounds for a full run: a median with a spread, on a shared machine

KERNEL_ROUND_TRIP = """
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60)
reply = kc.execute_interactive("1", timeout=60)
assert reply["content"]["status"] == "ok", reply
kc.stop_channels()
km.shutdown_kernel()
"""


def two_cell_notebook(path: Path) -> Path:
    """A parameters cell and one code cell, python3 kernel: what the papermill floor runs."""
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "parameters",
                "metadata": {"tags": ["parameters"]},
                "outputs": [],
                "source": ["x = 1"],
            },
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "work",
                "metadata": {},
                "outputs": [],
                "source": ["x + 1"],
            },
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def runbook_command() -> list[str]:
    """The `runbook` console script of this venv (what a scheduler runs)."""
    exe = Path(sys.executable).with_name("runbook")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "runbook_lib.cli"]


def _papermill_command() -> list[str]:
    exe = Path(sys.executable).with_name("papermill")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "papermill"]


def commands(work: str) -> dict[str, list[str]]:
    """The three commands of a round, by name."""
    notebook = two_cell_notebook(Path(work) / "two_cells.ipynb")
    return {
        "runbook": [*runbook_command(), "run", "02_status", "--out", f"{work}/reports"],
        "kernel": [sys.executable, "-c", KERNEL_ROUND_TRIP],
        "papermill": [*_papermill_command(), str(notebook), f"{work}/two_cells.out.ipynb"],
    }


def _timed_run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one command: the CPU is user + system time of the
    command and the processes it waited for (the kernel), which a loaded machine's other
    work does not inflate the way it does the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 3):  # 3: 02_status found a problem, still a whole run
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def _load() -> list[float]:
    """The 1, 5 and 15 minute load averages now."""
    return [round(x, 2) for x in os.getloadavg()]


def rounds(
    env: dict[str, str], runs: int, work: str, log: Any = print
) -> tuple[dict[str, list[float]], dict[str, list[float]], list[float]]:
    """Wall and CPU seconds of each command, `runs` rounds, the order rotated every round;
    and the 1-minute load average at the end of each round."""
    cmds = commands(work)
    names = list(cmds)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    load: list[float] = []
    for r in range(runs):
        for name in names[r % 3 :] + names[: r % 3]:
            seconds, used = _timed_run(cmds[name], env)
            wall[name].append(seconds)
            cpu[name].append(used)
        load.append(_load()[0])
        shown = ", ".join(f"{name} {wall[name][-1]:.2f}s" for name in names)
        log(f"  round {r + 1}: {shown} (load {load[-1]:.2f})")
    return wall, cpu, load


def measure(
    env: dict[str, str], runs: int, log: Any = print, timelines: int | None = None
) -> dict[str, Any]:
    """status_vs_kernel_floor and status_vs_papermill_floor, from the same `runs` paired
    rounds; the breakdown from `timelines` runs (default: as many)."""
    with tempfile.TemporaryDirectory(prefix="bench-floors-") as work:
        load_start = _load()
        got, cpu, load = rounds(env, runs, work, log)
        load_average = {"start": load_start, "end": _load(), "1min_per_round": load}
        steps = [_timeline(env, f"{work}/timeline") for _ in range(timelines or runs)]
    status = got["runbook"]
    breakdown = {
        key: round(statistics.median(s[key] for s in steps), 3)
        for key in steps[0]
        if isinstance(steps[0][key], float)
    }
    kernel = figure(
        [s / k for s, k in zip(status, got["kernel"], strict=True)],
        "x",
        target=f"<= {KERNEL_TARGET}",
        met=lambda m: m <= KERNEL_TARGET,
        status_s=summary(status, "s"),
        floor_s=summary(got["kernel"], "s"),
        status_cpu_s=summary(cpu["runbook"], "s"),
        floor_cpu_s=summary(cpu["kernel"], "s"),
        load_average=load_average,
        cpus=os.cpu_count(),
        breakdown_s=breakdown,
        runner_heavy_imports=steps[0]["runner_heavy_imports"],
        status_notebook_heavy_imports=_status_imports(env),
        commands={"status": "runbook run 02_status", "floor": "jupyter_client: start, 1, stop"},
    )
    papermill = figure(
        [s / p for s, p in zip(status, got["papermill"], strict=True)],
        "x",
        target=f"<= {PAPERMILL_TARGET}",
        met=lambda m: m <= PAPERMILL_TARGET,
        status_s=summary(status, "s"),
        floor_s=summary(got["papermill"], "s"),
        status_cpu_s=summary(cpu["runbook"], "s"),
        floor_cpu_s=summary(cpu["papermill"], "s"),
        load_average=load_average,
        cpus=os.cpu_count(),
        commands={"status": "runbook run 02_status", "floor": "papermill two_cells.ipynb"},
    )
    return {"status_vs_kernel_floor": kernel, "status_vs_papermill_floor": papermill}


def _status_imports(env: dict[str, str]) -> list[str]:
    """Heavy modules the 02_status cells import (their imports, in a fresh interpreter)."""
    code = (
        "import json, sys\n"
        "from runbook_lib.notebook import cells\n"
        "from runbook_lib.notebook.results import record_result\n"
        "from runbook_lib.steps import status\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


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
