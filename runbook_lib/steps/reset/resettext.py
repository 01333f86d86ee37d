"""How a reset is said: the same words, times and next step in 02_status, 06_history and
07_recover, so a reader comparing their reports sees one event. Stdlib only (02 stays light).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from runbook_lib.steps.reset.resets import UNKNOWN_WRITER, Reset, Write


def at(when: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "07:12 UTC" on `now`'s day, "2024-05-01 07:12 UTC" on another (or without `now`)."""
    utc = dt.timezone.utc
    when = (when if when.tzinfo else when.replace(tzinfo=utc)).astimezone(utc)
    today = now is not None and when.date() == now.astimezone(utc).date()
    return when.strftime("%H:%M UTC" if today else "%Y-%m-%d %H:%M UTC")


def num(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


def _signed(value: float) -> str:
    return f"+{num(value)}" if value >= 0 else num(value)


def write_label(write: Write, gain: float | None = None) -> str:
    """ "07_recover (+4676, audit id 3f2a...)": who, by how much, and the record to read;
    `gain`: the net of several writes, this one the last (said so)."""
    record = f"audit id {write.id}" if write.id else "audit record"
    if gain is None or gain == write.gain:
        return f"{write.by} ({_signed(write.gain)}, {record})"
    return f"{write.by} ({_signed(gain)} with the runbook's writes before it, {record})"


def dropped(reset: Reset, now: dt.datetime | None = None) -> str:
    """ "count dropped from 4676 to 1 at 00:38 UTC", and whose write it was if the runbook's."""
    text = f"count dropped from {num(reset.before)} to {num(reset.after)} at {at(reset.time, now)}"
    if reset.made_by is not None:
        text += f" (set by {write_label(reset.made_by)})"
    return text


def how_repaired(reset: Reset, now: dt.datetime | None = None) -> str:
    """ "repaired at 01:58 UTC by 07_recover (+4676, audit id ...)", or how else it shows."""
    repair = reset.repair
    if repair is None:
        return "not repaired"
    if repair.write is not None:
        tail = f"repaired at {at(repair.time, now)} by {write_label(repair.write, repair.gain)}"
        climbed = "count metric" in repair.evidence
        return tail + (", and the count metric climbed back" if climbed else "")
    if "count metric" in repair.evidence:
        return (
            f"repaired by {at(repair.time, now)}: the count metric climbed back "
            f"{_signed(repair.gain)} in one step ({UNKNOWN_WRITER})"
        )
    return (
        f"repaired after {at(repair.time, now)}: the live count stands "
        f"{_signed(repair.gain)} above the last count published ({UNKNOWN_WRITER})"
    )


def repaired(reset: Reset, now: dt.datetime | None = None) -> str:
    """ "reset at 00:38 UTC (4676 → 1), repaired at 01:58 UTC by 07_recover (+4676, audit id
    ...)"; a repair known only from the metric or the live count says so."""
    head = f"reset at {at(reset.time, now)} ({num(reset.before)} → {num(reset.after)})"
    if reset.deliberate and not reset.repaired and reset.made_by is not None:
        return (
            f"count set from {num(reset.made_by.old)} to {num(reset.made_by.new)} at "
            f"{at(reset.time, now)} by {write_label(reset.made_by)}: a deliberate reset "
            "(allow_decrease), nothing to repair"
        )
    return f"{head}, {how_repaired(reset, now)}"


def shortfall(reset: Reset, now: dt.datetime | None = None) -> str:
    """Why a reset with a write after it is still one: "" when there was none."""
    repair = reset.repair
    if repair is None or repair.covers:
        return ""
    if repair.undone:
        below = f"the live count is below {num(reset.before)} again"
        return f"; it was {how_repaired(reset, now)}, but {below}"
    what = write_label(repair.write, repair.gain) if repair.write else "a write"
    return (
        f"; {what} at {at(repair.time, now)} did not cover the loss of {num(reset.lost)} "
        "(a partial repair)"
    )


def next_step(reset: Reset, *, latest: bool, now: dt.datetime | None = None) -> str:
    """07_recover (with reset_time when it is not the latest reset, which 07 picks by
    default), or a backup from before the last count before the drop."""
    command = "runbook run 07_recover"
    if not latest:
        command += f" -p reset_time {reset.time.astimezone(dt.timezone.utc):%Y-%m-%dT%H:%MZ}"
    backup = reset.time if reset.made_by is not None else reset.previous_time
    return (
        f"rebuild the count from CloudWatch: {command} (dry run first), or restore the last "
        f"backup from before {at(backup, now)} (the last count before the drop): runbook run "
        "04_backup_restore (action=list, then restore it, dry run first)"
    )


def worst(found: Sequence[Reset]) -> Reset | None:
    """The reset to tell first: the largest drop not repaired (the latest of equals)."""
    open_ = [r for r in found if not r.settled]
    return max(open_, key=lambda r: (r.drop, r.time)) if open_ else None


def problem(found: Sequence[Reset], now: dt.datetime | None, where: str) -> tuple[str, str]:
    """(what happened, next step) for resets of which at least one is not repaired; `where`
    says the window ("in the last 24 h")."""
    first = worst(found) or found[-1]
    more = []
    if len(found) > 1:
        fixed = sum(r.repaired for r in found)
        more.append(f"{len(found)} drops {where}" + (f", {fixed} repaired" if fixed else ""))
    text = dropped(first, now) + shortfall(first, now)
    text += f" ({'; '.join(more)})" if more else ""
    return text, next_step(first, latest=first is found[-1], now=now)


def all_repaired(found: Sequence[Reset], now: dt.datetime | None, where: str) -> str:
    """The latest repaired reset in words, and how many there were."""
    text = repaired(found[-1], now)
    if len(found) > 1:
        settled = "all repaired" if all(r.repaired for r in found) else "none left to repair"
        text += f" ({len(found)} resets {where}, {settled})"
    return text
