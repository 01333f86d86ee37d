"""history_server_cpu_s: what 06_history costs the sandbox's moto server.

Two freshly started and seeded sandboxes (`provision.provision`, no Terraform, `days` of
history): one answers GetMetricData with `sandbox.metricindex` (as `runbook sandbox up`
starts it), one with moto's own method (`--plain-get-metric-data`, as before). On each, 06's
read is made `runs` times: `history.load_history(days, ...)`, the call the notebook's cell
makes, with the same queries (4 metrics, one GetMetricData). The figure is the server
process's CPU per read (user + system, /proc/PID/stat), which the rest of a loaded machine
does not inflate the way it does wall time. The read's client waits as long as moto takes:
with the runbook's 30 s read timeout, moto's own method times out on a loaded machine and
every retry adds a whole scan again.

Then `runbook run 06_history` whole, on the indexed sandbox: its wall time and the server's
CPU in it, the figure a user sees.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.floors import runbook_command
from bench.stats import figure, summary

CPU_TARGET_S = 1.0  # the indexed server's CPU per 06 read: "a few seconds" for the whole run
TIMEOUT_S = 900


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def seeded_sandbox(days: int, *, plain: bool, log_dir: Path) -> Iterator[Any]:
    """A sandbox of the bench's own (table from the HCL, `days` seeded), stopped after."""
    from runbook_lib.sandbox import provision
    from runbook_lib.sandbox import server as sandbox

    name = "plain" if plain else "indexed"
    pid, url = sandbox.start_server(log_path=log_dir / f"moto-{name}.log", plain_metrics=plain)
    try:
        info = sandbox.SandboxInfo(url=url, pid=pid)
        yield provision.provision(info, days=days, use_terraform=False, log=lambda _m: None)
    finally:
        sandbox.stop_pid(pid)


def read_cpu(info: Any, days: int, runs: int) -> tuple[list[float], list[float], int]:
    """(server CPU s, wall s) of each of `runs` 06 reads, and the count points read."""
    from bench import tables
    from runbook_lib.steps import history

    out = info.outputs
    env = info.env()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the long-timeout client reads the endpoint from the chain
    try:
        cw = tables.client("cloudwatch")
        cpu, wall, points = [], [], 0
        for _ in range(runs):
            c0, t0 = server_cpu_s(info.pid), time.perf_counter()
            hist = history.load_history(
                days,
                table=out["table_name"],
                function_name=out.get("function_name"),
                api_id="bench-api",
                namespace=out["metric_namespace"],
                metric_name=out["metric_name"],
                cloudwatch=cw,
            )
            wall.append(time.perf_counter() - t0)
            cpu.append(server_cpu_s(info.pid) - c0)
            points = int(hist.summary["count_points"])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return cpu, wall, points


def notebook_runs(info: Any, runs: int, reports: Path) -> tuple[list[float], list[float]]:
    """(wall s, server CPU s) of each `runbook run 06_history --no-html` on the sandbox."""
    env = {**os.environ, **info.env(), "RUNBOOK_API_ID": "bench-api"}
    wall, cpu = [], []
    for _ in range(runs):
        c0, t0 = server_cpu_s(info.pid), time.perf_counter()
        subprocess.run(
            [*runbook_command(), "run", "06_history", "--no-html", "--out", str(reports)],
            env=env,
            check=True,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )
        wall.append(time.perf_counter() - t0)
        cpu.append(server_cpu_s(info.pid) - c0)
    return wall, cpu


def measure(days: int, runs: int, work: Path, log: Any = print) -> dict[str, Any]:
    """The history_server_cpu_s figure (see the module)."""
    got: dict[str, Any] = {}
    for plain in (True, False):
        name = "plain_moto" if plain else "indexed"
        with seeded_sandbox(days, plain=plain, log_dir=work) as info:
            cpu, wall, points = read_cpu(info, days, runs)
            log(f"  06 read, {name}: server CPU {', '.join(f'{c:.2f}' for c in cpu)} s")
            got[name] = (cpu, wall, points)
            if not plain:
                run_wall, run_cpu = notebook_runs(info, runs, work / "history-reports")
                log(f"  runbook run 06_history: {', '.join(f'{w:.1f}' for w in run_wall)} s")
    (plain_cpu, plain_wall, plain_points), (cpu, wall, points) = got["plain_moto"], got["indexed"]
    return {
        "history_server_cpu_s": figure(
            cpu,
            "s",
            target=f"≤ {CPU_TARGET_S:g} s per 06 read",
            met=lambda median: median <= CPU_TARGET_S,
            days=days,
            count_points=points,
            read_wall_s=summary(wall, "s"),
            plain_moto=summary(plain_cpu, "s") | {"count_points": plain_points},
            plain_moto_read_wall_s=summary(plain_wall, "s"),
            runbook_run_06_history_s=summary(run_wall, "s"),
            runbook_run_06_history_server_cpu_s=summary(run_cpu, "s"),
        )
    }
