"""07_recover: rebuild a count a reset took, from CloudWatch alone, and set it safely.

Reads the history (`history.load_history`), finds the reset to repair, estimates
(`recoverest`: pure), reads the live count, and writes through 03_set_count's one safe path
(`setcount.set_count`: confirm == table, backup first, ONE compare-and-set UpdateItem on the
live value read, audit record, undo commands). Visits keep arriving while it runs: a
compare-and-set that finds the count moved re-reads it and recomputes (at most
MAX_ATTEMPTS), never overwrites.

Outcomes (`Recovery.problem` -> exit 3): a reset found and not yet repaired (dry run), no count
data at all, a refused write; exit 0: no reset, already repaired, or repaired now.
"""

from __future__ import annotations

import datetime as dt
import shlex
from dataclasses import dataclass
from typing import Any

import pandas as pd

from runbook_lib.aws import counter
from runbook_lib.errors import CountConflictError
from runbook_lib.steps import history, setcount
from runbook_lib.steps import recoverest as est
from runbook_lib.steps.confirm import require_confirmation
from runbook_lib.steps.historyframe import History, utc
from runbook_lib.steps.setrecord import GUIDE_KEY
from runbook_lib.target.model import Target

NOTEBOOK = "07_recover"
DEFAULT_DAYS = 14
MAX_ATTEMPTS = 5  # compare-and-set rounds against a count that keeps moving


@dataclass
class Recovery:
    """What 07_recover found and did; `result()` is its result.json."""

    verdict: str
    problem: bool
    hist: History | None = None
    estimate: est.Estimate | None = None
    live: int | None = None
    recovered: int | None = None
    # the reset is made good already (`recoverest.is_repaired`): `recovered` stays None and
    # every figure shows the live count, not before + (live - after) on top of the repair
    repaired: bool = False
    applied: bool = False
    dry_run: bool = True
    command: str | None = None  # the confirmed run (dry run) or the refused write's command
    write: setcount.SetResult | None = None
    attempts: int = 0

    def result(self) -> dict[str, Any]:
        e = self.estimate.to_dict() if self.estimate else {}
        data: dict[str, Any] = {
            "verdict": self.verdict,
            "reset_time": e.get("reset_time"),
            "before": e.get("before"),
            "after": e.get("after"),
            "live": self.live,
            "recovered": self.recovered,
            "repaired": self.repaired,
            "uncertainty": e.get("uncertainty"),
            "source": e.get("source"),
            "applied": self.applied,
            "dry_run": self.dry_run,
        }
        if self.command:
            data["command"] = self.command
        if self.write is not None and self.applied:
            w = self.write
            data |= {"undo_command": w.undo_command, "undo_runbook": w.undo_runbook}
            data |= {"backup_path": w.backup_path, "audit_path": w.audit_path}
        return data | {"estimate": e or None, "attempts": self.attempts}

    def figures(self) -> pd.DataFrame | None:
        if self.estimate is None or self.live is None:
            return None
        now = dt.datetime.now(dt.timezone.utc)
        return est.figures(self.estimate, self.live, now, repaired=self.repaired)

    def __str__(self) -> str:
        return self.verdict


def recover_command(
    target: Target, *, reset_time: Any = None, days: int = DEFAULT_DAYS, period: int | None = None
) -> str:
    """The exact confirmed `runbook run 07_recover` line (it recomputes when it runs)."""
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
    if reset_time is not None:
        argv += ["-p", "reset_time", pd.Timestamp(reset_time).strftime("%Y-%m-%dT%H:%M:%SZ")]
    return shlex.join([*argv, "-p", "dry_run", "False", "-p", "confirm", target.table])


def recover(
    target: Target,
    *,
    days: int = DEFAULT_DAYS,
    reset_time: str | None = None,
    period: int | None = None,
    dry_run: bool = True,
    confirm: str | None = None,
    cloudwatch: Any = None,
    ddb: Any = None,
    sts: Any = None,
    backup_dir: Any = None,
    audit_path: Any = None,
    now: Any = None,
) -> Recovery:
    """Find the reset, estimate, and (confirmed) set the recovered count. See the module."""
    when = utc(reset_time, "reset_time") if reset_time else None
    try:  # a wrong confirm is refused before anything is read
        require_confirmation(target, dry_run, confirm)
    except setcount.REFUSALS as exc:
        return _refused(
            target, exc, recover_command(target, reset_time=when, days=days, period=period)
        )
    hist = history.load_history(
        days,
        table=target.table,
        function_name=target.function_name,
        api_id=target.api_id,
        namespace=target.metric_namespace,
        metric_name=target.metric_name,
        period=period,
        cloudwatch=cloudwatch,
        now=now,
    )
    found = _estimate(target, hist, when, cloudwatch)
    if isinstance(found, Recovery):
        return found
    return _repair(
        target, hist, found, dry_run=dry_run, confirm=confirm, days=days, when=when,
        period=period, ddb=ddb, sts=sts, backup_dir=backup_dir, audit_path=audit_path,
    )  # fmt: skip


def _estimate(
    target: Target, hist: History, when: pd.Timestamp | None, cloudwatch: Any
) -> est.Estimate | Recovery:
    """The estimate, or the outcome that there is nothing to estimate."""
    if not hist.has_count_data:
        fallback = est.from_sums(hist.frame, when)
        if fallback is not None:
            return fallback
        have_sums = any(
            c in hist.frame.columns and (hist.frame[c].fillna(0) > 0).any()
            for c in ("invocations", "requests")
        )
        more = (
            "; Lambda invocations or API requests were found: give reset_time (when the "
            "reset happened, UTC) to estimate from them at lower confidence"
            if have_sums
            else ", nor Lambda invocations or API requests"
        )
        verdict = hist.verdict.split("; check")[0] + more + ". Nothing was written."
        return Recovery(verdict=verdict, problem=True, hist=hist)
    reset = est.pick_reset(hist.resets, when, hist.period)
    if reset is None:
        if when is None:
            return Recovery(
                verdict=f"OK: no reset in the window ({hist.verdict.removeprefix('OK: ')}); "
                "nothing to recover, nothing written.",
                problem=False,
                hist=hist,
            )
        times = ", ".join(r.time.strftime("%Y-%m-%d %H:%M UTC") for r in hist.resets) or "none"
        return Recovery(
            verdict=f"NO RESET near reset_time {when:%Y-%m-%d %H:%M UTC} (resets in the window: "
            f"{times}); nothing written. Pass one of those, or leave reset_time empty.",
            problem=True,
            hist=hist,
        )
    low = history.count_minimum(
        cloudwatch,
        target.table,
        target.metric_namespace,
        target.metric_name,
        reset.time,
        hist.period,
    )
    return est.from_counts(hist.frame, reset, low)


def _repair(
    target: Target,
    hist: History,
    estimate: est.Estimate,
    *,
    dry_run: bool,
    confirm: str | None,
    days: int,
    when: pd.Timestamp | None,
    period: int | None,
    **io: Any,
) -> Recovery:
    """Read live, recompute, compare-and-set; a count that moved is re-read (bounded)."""
    ddb = io.pop("ddb") or counter.dynamodb(target)
    command = recover_command(target, reset_time=when, days=days, period=period)
    base = {"hist": hist, "estimate": estimate, "dry_run": dry_run}
    for attempt in range(1, MAX_ATTEMPTS + 1):
        live = counter.read_count(target, ddb=ddb)
        if est.is_repaired(hist.frame, estimate, live):
            text = est.repaired_text(target, estimate, live)
            return Recovery(text, False, live=live, repaired=True, attempts=attempt, **base)
        recovered = estimate.recovered(live)
        if dry_run:
            text = est.proposal_text(target, estimate, live, recovered, command)
            seen = {"live": live, "recovered": recovered, "command": command}
            return Recovery(text, True, attempts=attempt, **seen, **base)
        try:
            write = setcount.set_count(
                target,
                recovered,
                expected_current=live,
                reason=est.write_reason(estimate, live),
                dry_run=False,
                confirm=confirm,
                ddb=ddb,
                **io,
            )
        except CountConflictError:
            continue  # a visit landed between the read and the write: read again
        except setcount.REFUSALS as exc:
            return _refused(target, exc, command, **base)
        text = est.recovered_text(target, estimate, live, recovered)
        done = {"live": live, "recovered": recovered, "applied": True, "write": write}
        return Recovery(text, write.problem, attempts=attempt, **done, **base)
    refused = CountConflictError(
        f"The count kept moving: {MAX_ATTEMPTS} compare-and-set attempts each found a visit "
        "landed between the read and the write. Nothing was written."
    )
    return _refused(target, refused, command, **base)


def _refused(target: Target, exc: Exception, command: str, **base: Any) -> Recovery:
    what = " ".join(str(exc.args[0] if exc.args else exc).split())
    return Recovery(f"REFUSED: {what} To do it: {command}", True, command=command, **base)
