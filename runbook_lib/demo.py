"""`runbook demo`: the whole runbook on the sandbox, headless, with safe parameters."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from . import paths, runner, sandbox

# Safe parameters per notebook: every write stays a dry run.
DEMO_PARAMETERS: dict[str, dict[str, object]] = {
    "00_onboarding": {"auto_answer": True},
    "03_set_count": {"new_value": 100000, "reason": "demo: show what a set would do"},
    "04_backup_restore": {"action": "backup"},
    # 300 s points: the moto sandbox reads 14 days of 60 s points slowly (about 20 s)
    "06_history": {"period": 300},
}


def run_demo(
    out: str | Path | None = None, *, days: int = 14, log: Callable[[str], None] = print
) -> int:
    """Start (or reuse) the sandbox, run every notebook in order, stop what we started.

    Returns the worst exit code (1 over 3 over 0) so `make demo` fails loudly.
    """
    started_here = sandbox.read_info() is None
    info = sandbox.up(days=days, log=log)
    saved = {k: os.environ.get(k) for k in info.env()}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(info.env())
    outcomes = []
    try:
        for name in runner.available_notebooks():
            log(f"\n== {name} ==")
            outcome = runner.run_notebook(
                name, DEMO_PARAMETERS.get(name, {}), out or paths.reports_dir(), log=log
            )
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
