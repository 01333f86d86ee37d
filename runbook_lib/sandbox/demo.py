"""`runbook demo`: the whole runbook on the sandbox, headless, with safe parameters."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from runbook_lib import paths
from runbook_lib.notebook import runner
from runbook_lib.sandbox import provision
from runbook_lib.sandbox import server as sandbox

# Safe parameters per notebook: every write stays a dry run.
DEMO_PARAMETERS: dict[str, dict[str, object]] = {
    "00_onboarding": {"auto_answer": True},
    "03_set_count": {"new_value": 100000, "reason": "demo: show what a set would do"},
    "04_backup_restore": {"action": "backup"},
}


def recover_parameters(info: sandbox.SandboxInfo, log: Callable[[str], None]) -> dict:
    """Plant a reset (5,000 visits, a reset to 0, 37 since) on a table beside the sandbox's
    counter, which stays clean, and the parameters of a confirmed 07_recover run on it."""
    from runbook_lib.sandbox import recoverdemo

    planted = recoverdemo.plant_demo(str(info.outputs.get("table_name") or "sandbox"), info.url)
    log(f"Planted a reset in {planted.table}: 5000, then 0, then 37 visits; recovering it.")
    return {
        "table_name": planted.table,
        "function_name": planted.function_name,
        **{"days": 3, "dry_run": False, "confirm": planted.table},
    }


def run_demo(
    out: str | Path | None = None, *, days: int = 14, log: Callable[[str], None] = print
) -> int:
    """Start (or reuse) the sandbox, run every notebook in order, stop what we started.

    Returns the worst exit code (1 over 3 over 0) so `make demo` fails loudly.
    """
    started_here = sandbox.read_info() is None
    info = provision.up(days=days, log=log)
    saved = {k: os.environ.get(k) for k in info.env()}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(info.env())
    outcomes = []
    try:
        for name in runner.available_notebooks():
            log(f"\n== {name} ==")
            params = DEMO_PARAMETERS.get(name, {})
            if name == "07_recover":  # a reset planted on a counter of its own, then recovered
                params = recover_parameters(info, log)
            outcome = runner.run_notebook(name, params, out or paths.reports_dir(), log=log)
            outcomes.append(outcome)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if started_here:
            sandbox.down(log=log)
        else:
            log(f"Sandbox at {info.url} was already running: left running.")
    worst = max((o.exit_code for o in outcomes), default=0, key=lambda c: (c == 1, c == 3))
    log("\nDemo reports:")
    for o in outcomes:
        log(f"  {o.name:<20} exit {o.exit_code}  {o.out_dir}")
    return worst
