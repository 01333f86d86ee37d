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


# The demo's fleet: the sandbox's own counter, and a number-keyed one in another region
# with a reset planted on it (runbook fleet run 02_status: one index over both).
FLEET_REGION = "us-west-2"
FLEET_FILE = """# runbook demo's fleet (written by the demo): the sandbox's own counter, and a
# number-keyed counter in another region with a planted reset
[[counter]]
name = "sandbox"
table_name = "{own}"

[[counter]]
name = "west"
table_name = "{west}"
key_value = "1"
region = "{region}"
"""


def plant_west(info: sandbox.SandboxInfo, log: Callable[[str], None]) -> str:
    """A number-keyed counter (id = 1, `visits`) in FLEET_REGION with a day of history and
    a reset 6 hours ago, written as `runbook sandbox drill` writes one; its table."""
    import datetime as dt

    from runbook_lib.aws import provision as aws_provision
    from runbook_lib.model import Target
    from runbook_lib.sandbox import drill, recoverdemo
    from runbook_lib.steps.history.frame import time_index

    now = dt.datetime.now(dt.timezone.utc)
    table = f"{info.outputs.get('table_name') or 'sandbox'}-west-{now:%H%M%S}"
    target = Target(table=table, key_name="id", key_type="N", key_value="1",
                    count_attribute="visits", region=FLEET_REGION, endpoint=info.url,
                    function_name=f"{table}-fn", api_id="demoapi")  # fmt: skip
    frame = recoverdemo.reset_frame(1, end=now)
    reset_at = frame.index[
        recoverdemo.reset_position(time_index(frame), recoverdemo.DEFAULT_RESET_AGE)
    ]
    ddb = provision.sandbox_client(info.url, FLEET_REGION, "dynamodb")
    aws_provision.create_table_if_missing(ddb, table, "id", "N")
    planted = drill.write_drill(
        target,
        frame[frame.index < reset_at][["visits"]],
        reset_at,
        recoverdemo.visit_times(frame[frame.index >= reset_at]),
        names={"function_name": f"{table}-fn", "api_id": "demoapi"},
        ddb=ddb,
        cloudwatch=provision.sandbox_client(info.url, FLEET_REGION, "cloudwatch"),
    )
    log(f"Planted a reset on {table} in {FLEET_REGION} (key id = 1): {planted.before}, then 0, "
        f"then {planted.since} visits.")  # fmt: skip
    return table


def fleet_demo(
    info: sandbox.SandboxInfo, out: str | Path, log: Callable[[str], None]
) -> tuple[int, str]:
    """`runbook fleet run 02_status` over the sandbox's counter and the planted one; (the
    exit code for the demo, the fleet's folder). Its exit 3 with the planted counter the
    only one found is the demo working: 0 here; anything else is the fleet's own code."""
    from runbook_lib.fleet.command import run_fleet

    log("\n== fleet 02_status: the sandbox's counter, and a number-keyed one in us-west-2 ==")
    path = paths.state_dir() / "demo" / "fleet.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    own = str(info.outputs.get("table_name") or "")
    path.write_text(FLEET_FILE.format(own=own, west=plant_west(info, log), region=FLEET_REGION))
    outcome = run_fleet("02_status", path, {}, out, log=log)
    log(outcome.summary())
    found = {r["name"] for r in outcome.rows if r["counts_as"] == 3}
    if outcome.exit_code == 3 and found == {"west"}:
        log("The fleet found the planted reset on west, and nothing else: as planted.")
        return 0, outcome.folder
    return outcome.exit_code, outcome.folder


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
        fleet = fleet_demo(info, out or paths.reports_dir(), log)
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
    codes = [*(o.exit_code for o in outcomes), fleet[0]]
    worst = max(codes, default=0, key=lambda c: (c == 1, c == 3))
    log("\nDemo reports:")
    for o in outcomes:
        log(f"  {o.name:<20} exit {o.exit_code}  {o.out_dir}")
    log(f"  {'fleet 02_status':<20} exit {fleet[0]}  {fleet[1]}/index.html")
    return worst
