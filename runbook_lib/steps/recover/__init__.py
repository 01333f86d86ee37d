"""07_recover: rebuild a count a reset took, from CloudWatch alone, and set it safely.

Reads the history (`history.load_history`), finds the reset to repair, estimates
(`recover.estimate`: pure), reads the live count, and writes through 03_set_count's one safe path
(`setcount.set_count`: confirm == table, backup first, ONE compare-and-set UpdateItem on the
live value read, audit record, undo commands). Visits keep arriving while it runs: a
compare-and-set that finds the count moved re-reads it and recomputes (at most
MAX_ATTEMPTS), never overwrites.

The entry is `run` (the step's Result, detail: the `Recovery`). Outcomes
(`Recovery.problem` -> exit 3): a reset found and not yet repaired (dry run), no count
data at all, a refused write; exit 0: no reset, already repaired, or repaired now.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from runbook_lib.aws import counter
from runbook_lib.aws.types import CloudWatchClient, DynamoDBClient, STSClient
from runbook_lib.errors import CountConflictError
from runbook_lib.formats import countshape
from runbook_lib.formats.countvalue import requested_type
from runbook_lib.model import Target
from runbook_lib.steps import history, setcount
from runbook_lib.steps.common.confirm import require_confirmation
from runbook_lib.steps.common.result import Result
from runbook_lib.steps.history.frame import History, count_points, utc
from runbook_lib.steps.recover import estimate as est
from runbook_lib.steps.recover import text as words
from runbook_lib.steps.recover.outcome import Recovery
from runbook_lib.steps.recover.text import DEFAULT_DAYS, recover_command
from runbook_lib.steps.reset import resets

MAX_ATTEMPTS = 5  # compare-and-set rounds against a count that keeps moving
KEPT_MOVING = CountConflictError(
    f"The count kept moving: {MAX_ATTEMPTS} compare-and-set attempts each found a visit "
    "landed between the read and the write. Nothing was written."
)


def run(
    target: Target,
    *,
    days: int = DEFAULT_DAYS,
    reset_time: str | None = None,
    period: int | None = None,
    dry_run: bool = True,
    confirm: str | None = None,
    count_type: str = "",
    cloudwatch: CloudWatchClient | None = None,
    ddb: DynamoDBClient | None = None,
    sts: STSClient | None = None,
    backup_dir: Any = None,
    audit_path: Any = None,
    now: Any = None,
) -> Result:
    """07_recover's one entry: `_recover`, as the step's Result (detail: the Recovery, for
    the figure cells); its `problem` (exit 3) is the Recovery's, decided where it is built."""
    rec = _recover(
        target, days=days, reset_time=reset_time, period=period, dry_run=dry_run,
        confirm=confirm, count_type=count_type, cloudwatch=cloudwatch, ddb=ddb, sts=sts,
        backup_dir=backup_dir, audit_path=audit_path, now=now,
    )  # fmt: skip
    fields = {**rec.result(), "table": target.table}
    return Result("recover", rec.headline, rec.problem, rec.verdict, fields, detail=rec)


def _recover(
    target: Target,
    *,
    days: int = DEFAULT_DAYS,
    reset_time: str | None = None,
    period: int | None = None,
    dry_run: bool = True,
    confirm: str | None = None,
    cloudwatch: CloudWatchClient | None = None,
    ddb: DynamoDBClient | None = None,
    sts: STSClient | None = None,
    backup_dir: Any = None,
    audit_path: Any = None,
    now: Any = None,
    count_type: str = "",
) -> Recovery:
    """Find the reset, estimate, and (confirmed) set the recovered count. See the module.
    `count_type` as 03_set_count takes it: "S" writes a string count (a site storing
    str(n)); empty writes a number, and a confirmed run over a string count is refused."""
    when = utc(reset_time, "reset_time") if reset_time else None
    count_type = requested_type(count_type)
    try:  # a wrong confirm is refused before anything is read
        require_confirmation(target, dry_run, confirm)
    except setcount.REFUSALS as exc:
        kind = count_type or setcount.string_type(target, ddb)  # the command must do it
        command = recover_command(
            target, reset_time=when, days=days, period=period, count_type=kind
        )
        return _refused(target, exc, command)
    hist = history.target_history(
        target, days, period=period, cloudwatch=cloudwatch, now=now, audit_path=audit_path
    )
    found = _estimate(target, hist, when, cloudwatch)
    if isinstance(found, Recovery):
        return found
    return _repair(
        target, hist, found, dry_run=dry_run, confirm=confirm, days=days, when=when,
        period=period, ddb=ddb, sts=sts, backup_dir=backup_dir, audit_path=audit_path,
        count_type=count_type,
    )  # fmt: skip


def _estimate(
    target: Target, hist: History, when: pd.Timestamp | None, cloudwatch: CloudWatchClient | None
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
    low = None
    if not reset.pinned:  # the detector's fine read did not date it: read the Minimum here
        spec = (target.table, target.metric_namespace, target.metric_name)
        low = history.count_minimum(cloudwatch, *spec, reset.time, hist.period)
    return est.from_counts(hist.frame, reset, low, _belongs(hist, reset)[1])


def _belongs(hist: History, reset: resets.Reset) -> tuple[list[resets.Point], list[resets.Write]]:
    """The points and the runbook's writes from the reset to the next one."""
    return resets.since(
        hist.resets, hist.resets.index(reset), count_points(hist.frame), hist.writes
    )


def _judged(hist: History, reset: resets.Reset, live: int) -> resets.Reset:
    """The reset judged again with the live count, as 02 judges it (only the latest reset:
    for an older one the count has moved on through the later ones)."""
    latest = reset is hist.resets[-1]
    return resets.judge(reset, *_belongs(hist, reset), live=live if latest else None)


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
    base = Recovery("", True, hist=hist, estimate=estimate, dry_run=dry_run)
    reset = _reset_of(hist, estimate)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        item, live, kind = _read_live(target, ddb, io["count_type"])
        command = recover_command(
            target, reset_time=when, days=days, period=period, count_type=kind
        )
        judged = _judged(hist, reset, live) if reset else est.judged(hist.frame, estimate, live)
        if judged.repair is not None and judged.repair.undone:
            # the repair was taken back (the live count is below the level before again):
            # none of its gain is in the live count, so none of it is subtracted
            estimate = replace(estimate, written=0)
        base = replace(base, estimate=estimate, reset=judged)
        if judged.settled:  # repaired already, or lowered on purpose with 03_set_count
            text = words.repaired_text(target, judged, live, hist.now)
            done = replace(base, live=live, repaired=True, attempts=attempt)
            return replace(done, verdict=text, problem=False)
        recovered = estimate.recovered(live)
        mismatch = countshape.type_refusal(target, item, io["count_type"], recovered)
        if mismatch is not None and io["count_type"]:  # N <-> S asked for: refused, dry or not
            return _refused(target, mismatch, command, base)
        if dry_run:
            told = judged if reset else None  # the sums fallback saw no drop to tell
            text = words.proposal_text(target, estimate, live, recovered, command, told, hist.now)
            text += words.string_note(target, kind, io["count_type"])
            seen = replace(base, live=live, recovered=recovered, command=command)
            return replace(seen, verdict=text, problem=True, attempts=attempt)
        try:
            write = setcount.set_count(
                target,
                recovered,
                expected_current=live,
                reason=words.write_reason(estimate, live),
                dry_run=False,
                confirm=confirm,
                ddb=ddb,
                **io,
            )
        except CountConflictError:
            continue  # a visit landed between the read and the write: read again
        except setcount.REFUSALS as exc:
            return _refused(target, exc, command, base)
        text = words.recovered_text(target, estimate, live, recovered)
        done = replace(base, live=live, recovered=recovered, applied=True, write=write)
        return replace(done, verdict=text, problem=write.problem, attempts=attempt)
    return _refused(target, KEPT_MOVING, command, base)


def _read_live(
    target: Target, ddb: DynamoDBClient, requested: str
) -> tuple[dict[str, Any], int, str]:
    """(live item, its count, the type a write keeps): never a second count beside the
    site's (CountElsewhereError)."""
    item = counter.get_item(target, ddb=ddb)
    countshape.check_count_here(target, item)
    live = counter.parse_count(item, target.count_attribute)
    return item or {}, live, countshape.type_to_write(target, item, requested)


def _reset_of(hist: History, estimate: est.Estimate) -> resets.Reset | None:
    """The detector's reset the estimate was made for (None: the sums fallback, no drop)."""
    return next((r for r in hist.resets if r.time == estimate.reset_time), None)


def _refused(
    target: Target, exc: Exception, command: str, base: Recovery | None = None
) -> Recovery:
    """A refusal: `base` (the history and estimate so far) with the reason and the command."""
    what = " ".join(str(exc.args[0] if exc.args else exc).split())
    verdict = f"REFUSED: {what} To do it: {command}"
    base = base if base is not None else Recovery("", True)
    return replace(base, verdict=verdict, problem=True, command=command)
