"""How 07_recover words what it found and did: the dry run's proposal, the repair, a reset
repaired already (in the words 02_status and 06_history use, `resettext`), and the reason its
write leaves in the audit log. Pure."""

from __future__ import annotations

import datetime as dt
import shlex
from typing import Any

import pandas as pd

from runbook_lib.model import Target
from runbook_lib.steps.common.auditlog import GUIDE_KEY
from runbook_lib.steps.recover.estimate import Estimate
from runbook_lib.steps.reset import resettext
from runbook_lib.steps.reset.resets import Reset

NOTEBOOK = "07_recover"
DEFAULT_DAYS = 14


def recover_command(
    target: Target,
    *,
    reset_time: Any = None,
    days: int = DEFAULT_DAYS,
    period: int | None = None,
    count_type: str = "",
) -> str:
    """The exact confirmed `runbook run 07_recover` line (it recomputes when it runs);
    `count_type` "S" (a string count, written as one) is passed on."""
    argv = ["runbook", "run", NOTEBOOK, "-p", "table_name", target.table]
    if (target.key_name, target.key_value, target.count_attribute) != GUIDE_KEY:
        argv += ["-p", "key_name", target.key_name, "-p", "key_value", str(target.key_value)]
        argv += ["-p", "count_attribute", target.count_attribute]
    if target.range_key_name:
        argv += ["-p", "range_key_value", str(target.range_key_value)]
    if days != DEFAULT_DAYS:
        argv += ["-p", "days", str(days)]
    if period:
        argv += ["-p", "period", str(period)]
    if count_type == "S":
        argv += ["-p", "count_type", "S"]
    if reset_time is not None:
        argv += ["-p", "reset_time", pd.Timestamp(reset_time).strftime("%Y-%m-%dT%H:%M:%SZ")]
    return shlex.join([*argv, "-p", "dry_run", "False", "-p", "confirm", target.table])


def string_note(target: Target, kind: str, requested: str) -> str:
    """A dry run's word on a string count: written as a string, as the site stores it."""
    if kind != "S":
        return ""
    need = "" if requested == "S" else " (the command passes -p count_type S: without it a "
    need += "" if requested == "S" else "confirmed run is refused, never turned into a number)"
    return (
        f" {target.count_attribute} is a string count (S), as a site writing str(n) stores it: "
        f"the recovered count is written as a string{need}."
    )


def repaired_text(target: Target, reset: Reset, live: int, now: Any = None) -> str:
    """In the words 02_status and 06_history use for the same repair."""
    if reset.deliberate and not reset.repaired:
        return (
            f"OK: nothing to recover: the {resettext.repaired(reset, now)}; live "
            f"{target.count_attribute} is {live}; nothing written. To undo that set, run the "
            "undo command its audit record holds."
        )
    return (
        f"OK: the reset is repaired already: {resettext.repaired(reset, now)}; live "
        f"{target.count_attribute} is {live}; nothing written."
    )


def _since(estimate: Estimate, live: int) -> str:
    """ "41 visits since", and the runbook's own writes set apart when there were any."""
    visits = live - estimate.after - estimate.written
    mine = f", {estimate.written} written by the runbook" if estimate.written else ""
    return f"{visits} visits since{mine}"


def recovered_text(target: Target, estimate: Estimate, live: int, recovered: int) -> str:
    return (
        f"RECOVERED: set {target.count_attribute} in {target.table} from {live} to "
        f"{recovered}: {estimate.before} before the reset at {_at(estimate.reset_time)} "
        f"+ {_since(estimate, live)} ({_up_to(estimate)}); backup and undo commands below."
    )


def proposal_text(
    target: Target,
    estimate: Estimate,
    live: int,
    recovered: int,
    command: str,
    reset: Reset | None = None,
    now: Any = None,
) -> str:
    """`reset`: the detector's, said as 02 and 06 say it (with a partial repair)."""
    what = "reset_time given, no count metric to see the drop"
    if reset is not None:
        what = resettext.dropped(reset, now) + resettext.shortfall(reset, now)
    elif estimate.previous_time is not None:
        dropped = f"count dropped from {estimate.before} to {estimate.after}"
        what = f"{dropped} at {_at(estimate.reset_time)}"
    else:
        what += f" at {_at(estimate.reset_time)}"
    written = f" - {estimate.written} written" if estimate.written else ""
    return (
        f"RESET: {what}; recovered {target.count_attribute} = {estimate.before} + ({live} live "
        f"- {estimate.after}{written}) = {recovered} ({_up_to(estimate)}), from the "
        f"{estimate.source}. DRY RUN: nothing written. To apply: {command}"
    )


def write_reason(estimate: Estimate, live: int) -> str:
    return (
        f"07_recover: count rebuilt from the {estimate.source} after the reset at "
        f"{_at(estimate.reset_time)}: before {estimate.before}, after {estimate.after}, "
        f"+{live - estimate.after - estimate.written} since ({_up_to(estimate)})"
    )


def _up_to(estimate: Estimate) -> str:
    n = estimate.uncertainty
    return f"up to {n} more visit{'s' if n != 1 else ''} may be missing"


def _at(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")
