"""How 07_recover words what it found and did: the dry run's proposal, the repair, a reset
repaired already (in the words 02_status and 06_history use, `resettext`), and the reason its
write leaves in the audit log. Pure."""

from __future__ import annotations

from typing import Any

import pandas as pd

from runbook_lib.steps import resettext
from runbook_lib.steps.recoverest import Estimate
from runbook_lib.steps.resets import Reset
from runbook_lib.target.model import Target


def repaired_text(target: Target, reset: Reset, live: int, now: Any = None) -> str:
    """In the words 02_status and 06_history use for the same repair."""
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


def _at(when: pd.Timestamp) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")
