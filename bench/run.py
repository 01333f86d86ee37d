"""`python -m bench.run [--quick]`: every figure of issue 6 into bench/results.json.

Sections, each against its own loopback moto server and in the bench's own temporary
state, reports and backups folders (nothing of a developer's `.runbook/` is touched):

1. runner: status_vs_kernel_floor and status_vs_papermill_floor, `runbook run 02_status`
   against a bare kernel round trip and the `papermill` command, on a sandbox (`provision.up`,
   no Terraform);
2. sandbox: api_calls, on a sandbox;
3. tables: export, restore, dynamodump and memory, on a bare moto server with big tables;
4. commands: sandbox_up_s and demo_s, through the `runbook` command;
5. history: history_server_cpu_s, the moto server's CPU per 06_history read, with the
   sandbox's GetMetricData index and with moto's own method (`bench.history_cpu`).

`--quick` shrinks every size and skips what takes minutes whatever the size (dynamodump's
25 s of sleeps, Terraform, the demo); the smoke test runs it. `--only SECTION` measures one
section again and merges it into the existing results file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib import paths

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "results.json"
SECTIONS = ["runner", "sandbox", "tables", "commands", "history"]


@dataclass(frozen=True)
class Sizes:
    runs: int
    runner_rounds: int  # paired rounds of the runner section (floors.MIN_ROUNDS at least)
    export_items: int  # the large table: export, scan floor, dynamodump, RSS
    rss_small_items: int
    restore_items: int
    sandbox_runs: int
    slow: bool  # dynamodump, Terraform and the demo
    history_days: int = 14  # seeded and read by the history section (06's default window)


FULL = Sizes(5, 11, 100_000, 10_000, 20_000, 5, True)
QUICK = Sizes(2, 2, 300, 100, 200, 1, False, history_days=1)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _isolate(work: Path) -> None:
    """This process and its children: the bench's own folders, no AWS settings of the
    caller's (the sections point at their own moto servers), the repo importable."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "RUNBOOK_")):
            del os.environ[key]
    os.environ.update(
        RUNBOOK_HOME=str(ROOT),
        RUNBOOK_STATE_DIR=str(work / "state"),
        RUNBOOK_REPORTS=str(work / "reports"),
        RUNBOOK_BACKUPS=str(work / "backups"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        AWS_EC2_METADATA_DISABLED="true",
    )


def _point_at(env: dict[str, str]) -> None:
    os.environ.update(env)


def _forget(env: dict[str, str]) -> None:
    for key in env:
        os.environ.pop(key, None)


@contextlib.contextmanager
def _sandbox() -> Iterator[Any]:
    """A sandbox without Terraform, this process's AWS settings pointing at it."""
    from runbook_lib.sandbox import provision
    from runbook_lib.sandbox import server as sandbox

    info = provision.up(days=2, use_terraform=False, log=lambda _m: None)
    env = info.env()
    # a fixed API id: no `terraform output` lookup in the notebook
    env.setdefault("RUNBOOK_API_ID", "bench-api")
    _point_at(env)
    try:
        yield info
    finally:
        _forget(env)
        sandbox.down(log=lambda _m: None)


def runner_section(sizes: Sizes) -> dict[str, Any]:
    from bench import floors

    _log("== status_vs_kernel_floor, status_vs_papermill_floor (sandbox without Terraform)")
    with _sandbox():
        return floors.measure(dict(os.environ), sizes.runner_rounds, log=_log, timelines=sizes.runs)


def sandbox_section(sizes: Sizes) -> dict[str, Any]:
    from bench import calls, tables

    _log("== api_calls (sandbox without Terraform)")
    with _sandbox() as info:
        return {"api_calls": calls.measure(tables.client(), info.region, info.url)}


def table_section(sizes: Sizes) -> dict[str, Any]:
    from bench import dynamodump, tablebench
    from runbook_lib.sandbox import server as sandbox

    _log("== export, restore, memory (bare moto server)")
    if sizes.slow:
        dynamodump.ensure_installed(log=_log)
    pid, url = sandbox.start_server(log_path=paths.state_dir() / "moto-bench.log")
    env = {
        "AWS_ENDPOINT_URL": url,
        "AWS_DEFAULT_REGION": sandbox.REGION,
        "AWS_REGION": sandbox.REGION,
        "AWS_ACCESS_KEY_ID": sandbox.DUMMY_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": sandbox.DUMMY_SECRET,
    }
    _point_at(env)
    try:
        got = tablebench.export_figures(
            url, sizes.export_items, sizes.runs, use_dynamodump=sizes.slow, log=_log
        )
        small = tablebench.rss_small(sizes.rss_small_items, sizes.runs, log=_log)
        restore = tablebench.restore_figures(
            url, sizes.restore_items, sizes.runs, use_dynamodump=sizes.slow, log=_log
        )
    finally:
        _forget(env)
        sandbox.stop_pid(pid)
    rss = {str(sizes.rss_small_items): small, str(sizes.export_items): got.pop("rss_large")}
    rss["met"] = all(v["met"] for v in rss.values())
    dd = {"export": got.pop("dynamodump_export"), "restore": restore.pop("dynamodump_restore")}
    return {**got, **restore, "dynamodump": dd, "export_rss_growth_mb": rss}


def command_section(sizes: Sizes, work: Path) -> dict[str, Any]:
    from bench import sandbox_timing
    from bench.stats import skipped

    _log("== sandbox_up_s, demo_s (the runbook command)")
    env = dict(os.environ)
    without = sandbox_timing.up_without_terraform(env, sizes.sandbox_runs, log=_log)
    if sizes.slow:
        got = sandbox_timing.demo(env, sizes.runs, str(work / "demo-reports"), log=_log)
        demo, with_tf = got["demo_s"], got["with_terraform"]
    else:
        demo = with_tf = skipped("quick mode: Terraform and the demo take minutes")
    return {
        "sandbox_up_s": {"without_terraform": without, "with_terraform": with_tf},
        "demo_s": demo,
    }


def history_section(sizes: Sizes, work: Path) -> dict[str, Any]:
    from bench import history_cpu

    _log(f"== history_server_cpu_s ({sizes.history_days} days seeded, two sandboxes)")
    return history_cpu.measure(sizes.history_days, sizes.runs, work, log=_log)


def _meta(sizes: Sizes, quick: bool, started: float, sections: list[str]) -> dict[str, Any]:
    return {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": quick,
        "sizes": sizes.__dict__,
        "seconds": round(time.perf_counter() - started, 1),
        "sections_measured": list(sections),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test)")
    parser.add_argument("--out", default=None, help=f"results file (default {DEFAULT_OUT})")
    parser.add_argument(
        "--only", choices=SECTIONS, action="append", help="these sections only, merged in"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    out = Path(args.out) if args.out else DEFAULT_OUT
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="runbook-bench-") as tmp:
        work = Path(tmp)
        _isolate(work)
        results: dict[str, Any] = {}
        if args.only:
            results = json.loads(out.read_text())
        only = args.only or SECTIONS
        if "runner" in only:
            results.pop("notebook_overhead_ratio", None)  # superseded by the two floors
            results.update(runner_section(sizes))
        if "sandbox" in only:
            results.update(sandbox_section(sizes))
        if "tables" in only:
            results.update(table_section(sizes))
        if "commands" in only:
            results.update(command_section(sizes, work))
        if "history" in only:
            results.update(history_section(sizes, work))
    meta = _meta(sizes, args.quick, started, only)
    if args.only:  # the first run's facts stay; the sections measured again are listed
        previous = results.pop("meta")
        meta = {**previous, "remeasured": [*previous.get("remeasured", []), meta]}
    results = {"meta": meta, **results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    from bench.report import markdown_table

    print(markdown_table(results))
    _log(f"results: {out} ({time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
