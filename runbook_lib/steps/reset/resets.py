"""The one reset detector: 02_status, 06_history and 07_recover all ask it. Pure, stdlib only
(02 imports no pandas): points in, `Reset`s out; `resetread` does the reading.

A reset is a drop of the count gauge between two published points; a gap (nobody visited)
is never one. What it says about each, and why:

- **time**: the first count published at the low level, to the minute (the finest period
  CloudWatch keeps, `resetread.finest_period`): the start of the first fine bucket whose
  Minimum is below a count published before it (`pin`). A coarse bucket (02's 5 minutes,
  06's period) only finds the drop: its start moves with the query window and its Maximum
  includes later visits, so it is never the answer. When the runbook itself lowered the
  count (03_set_count with allow_decrease, in the audit log), that write's time is.
- **repair**: runbook writes (07_recover or 03_set_count, from the audit log) after the
  reset whose gains add up to the loss (within `tolerance`), or, without an audit log (a run
  on another machine), the count metric climbing back in ONE step of about the loss to at
  least the level before, larger by the loss than any step of visits within three hours of
  it (`climb_back`); 02 and 07 also read the live count, which holds a repair no visit has
  published yet (`live_holds`). A write that does not cover the loss is a partial repair:
  the reset stays a problem. The latest reset's repair must still stand in the live count.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

Point = tuple[dt.datetime, float]  # (time, count), oldest first
FineRow = tuple[dt.datetime, float, float]  # (bucket start, Minimum, Maximum)
CLIMB_WINDOW = dt.timedelta(hours=3)  # the visits a climb back is compared with
RECOVER, SET = "07_recover", "03_set_count"
UNKNOWN_WRITER = "a write not in this machine's audit log"


def tolerance(lost: float) -> int:
    """How far a repair may fall short of the loss and still be one: a person sets round
    numbers, and visits between the last count before the reset and the reset are unseen."""
    return max(2, math.ceil(abs(lost) * 0.01))


@dataclass(frozen=True)
class Write:
    """One of the runbook's own sets of this table's count, from the audit log."""

    time: dt.datetime
    old: int
    new: int
    by: str  # RECOVER or SET
    id: str | None = None
    actor: str | None = None

    @property
    def gain(self) -> int:
        return self.new - self.old

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time.isoformat(), "old": self.old, "new": self.new,
                "by": self.by, "audit_id": self.id}  # fmt: skip


@dataclass(frozen=True)
class Repair:
    """What made a reset good (`covers`), or tried to (a partial repair, or one undone)."""

    time: dt.datetime  # the write's time; else where the metric or the live count shows it
    gain: float  # the writes' net gain, or the climb's size
    by: str  # RECOVER, SET or UNKNOWN_WRITER
    evidence: tuple[str, ...]  # "audit log", "count metric", "live count"
    write: Write | None = None
    covers: bool = True
    undone: bool = False  # covered, but the live count is below the level before again

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time.isoformat(), "gain": _num(self.gain), "by": self.by,
                "evidence": list(self.evidence), "audit_id": self.write.id if self.write else None,
                "covers": self.covers, "undone": self.undone}  # fmt: skip


@dataclass(frozen=True)
class Reset:
    """A drop of the count: `before` (the last count at the level before, published at
    `previous_time`), `after` (the first count published at the low level, at `time`)."""

    time: dt.datetime
    before: float
    after: float
    drop: float
    previous_time: dt.datetime
    seen_time: dt.datetime | None = None  # the coarse bucket whose Maximum dropped
    pinned: bool = False  # time and after from the fine Minimum read
    made_by: Write | None = None  # the runbook's own write that lowered the count
    repair: Repair | None = None

    @property
    def repaired(self) -> bool:
        return self.repair is not None and self.repair.covers

    @property
    def deliberate(self) -> bool:
        """03_set_count lowered it: on purpose (allow_decrease and a confirm), no incident."""
        return self.made_by is not None and self.made_by.by == SET

    @property
    def settled(self) -> bool:  # nothing to do now: repaired, or lowered on purpose
        return self.repaired or self.deliberate

    @property
    def level(self) -> float:
        """The level the reset left: the first count at it counted one visit."""
        if self.made_by is not None:
            return float(self.made_by.new)
        return max(0.0, self.after - 1) if self.pinned else self.after

    @property
    def lost(self) -> float:
        return self.before - self.level

    def to_dict(self) -> dict[str, Any]:
        iso = lambda t: t.isoformat() if t is not None else None  # noqa: E731
        return {"time": iso(self.time), "before": _num(self.before), "after": _num(self.after),
                "drop": _num(self.drop), "previous_time": iso(self.previous_time),
                "repaired": self.repaired, "repair": self.repair.to_dict() if self.repair else None,
                "made_by": self.made_by.to_dict() if self.made_by else None}  # fmt: skip


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def find_drops(points: Sequence[Point]) -> list[Reset]:
    """Every drop between consecutive points (gaps skipped), dated where the coarse read
    shows it: `pin` moves the date to the first count at the low level."""
    return [
        Reset(t1, float(v0), float(v1), float(v0 - v1), t0, seen_time=t1)
        for (t0, v0), (t1, v1) in itertools.pairwise(points)
        if v1 < v0
    ]


def pin(reset: Reset, rows: Sequence[FineRow]) -> Reset:
    """The reset dated by the fine rows read over [previous_time, seen_time + period): the
    first bucket whose Minimum is at the low level (<= the coarse `after`) and below a count
    published before it, in an earlier bucket or (the reset inside one bucket) in its own
    Maximum, which is then the level before. Unchanged when the rows do not show it."""
    high, last = None, None
    for when, low, top in sorted(rows):
        inside = top >= reset.before
        if (
            low <= reset.after
            and low < reset.before
            and (inside or (high is not None and low < high))
        ):
            previous = when if inside else (last or reset.previous_time)
            return replace(reset, time=when, after=float(low), drop=reset.before - low,
                           previous_time=previous, pinned=True)  # fmt: skip
        high, last = top if high is None else max(high, top), when
    return reset


def made_by(reset: Reset, writes: Sequence[Write], fine_period: int = 60) -> Reset:
    """The reset dated by the runbook's own write that lowered the count, when the audit
    log holds one between the last count before it and the first count at the low level."""
    slack = dt.timedelta(seconds=fine_period)
    lows = [
        w
        for w in writes
        if w.new < w.old and w.new <= reset.after
        and w.old >= reset.before - tolerance(reset.drop)
        and reset.previous_time - slack <= w.time <= reset.time + 2 * slack
    ]  # fmt: skip
    if reset.made_by is not None or not lows:
        return reset
    return replace(reset, time=lows[-1].time, made_by=lows[-1])


def _steps(points: Sequence[Point]) -> list[tuple[dt.datetime, float, float]]:
    """(time, rise from the point before, level) of each point after the first."""
    return [(t1, v1 - v0, v1) for (_, v0), (t1, v1) in itertools.pairwise(points)]


def _visits_near(steps: Sequence[tuple[dt.datetime, float, float]], when: dt.datetime) -> float:
    """The largest rise of the count within CLIMB_WINDOW of `when`, the rise at `when`
    itself left out: the most visits the traffic of those hours puts in one step."""
    near = [s for t, s, _ in steps if t != when and s > 0 and abs(t - when) <= CLIMB_WINDOW]
    return max(near, default=0.0)


def climb_back(
    points: Sequence[Point], reset: Reset, need: float
) -> tuple[dt.datetime, float] | None:
    """(time, size) of the first single step after the reset that no visit pattern explains:
    at least `need` more than any step of visits near it, to at least the level before."""
    steps = _steps(points)
    floor = reset.before - tolerance(reset.lost)
    for when, rise, level in steps:
        if rise >= need and level >= floor and rise - _visits_near(steps, when) >= need:
            return when, rise
    return None


def live_holds(points: Sequence[Point], live: float, need: float) -> bool:
    """The live count stands `need` above the last count published, beyond what the visits
    not yet published could add (the most of the last hours' steps): a write no visit has
    shown yet."""
    if not points:
        return False
    last_time, last = points[-1]
    recent = [s for t, s, _ in _steps(points) if s > 0 and last_time - t <= CLIMB_WINDOW]
    return live - last - max(recent, default=0.0) >= need


def judge(
    reset: Reset,
    points: Sequence[Point],
    writes: Sequence[Write],
    *,
    live: float | None = None,
) -> Reset:
    """The reset with its repair (see the module), from the points and the runbook's writes
    since it; `live` only for the latest reset (older ones: the count has moved on since)."""
    need = max(1.0, reset.lost - tolerance(reset.lost))  # a repair adds something
    net, reached, last = 0, None, None
    for w in (w for w in writes if w.gain > 0):  # a lowering write is a reset of its own
        net, last = net + w.gain, w
        reached = reached or (w if net >= need else None)
    climb = climb_back(points, reset, need)
    metric = ("count metric",) if climb else ()
    if reached is not None:
        repair = Repair(reached.time, net, reached.by, ("audit log", *metric), reached)
    elif climb is not None:
        repair = Repair(climb[0], climb[1], UNKNOWN_WRITER, metric)
    elif live is not None and live_holds(points, live, need):
        repair = Repair(points[-1][0], live - points[-1][1], UNKNOWN_WRITER, ("live count",))
    elif last is not None and net > 0:
        repair = Repair(last.time, net, last.by, ("audit log",), last, covers=False)
    else:
        repair = None
    low = live is not None and live < reset.before - tolerance(reset.lost)
    if repair and repair.covers and low and not _lowered_since(writes, repair.time):
        repair = replace(repair, covers=False, undone=True)
    return replace(reset, repair=repair)


def _lowered_since(writes: Sequence[Write], when: dt.datetime) -> bool:  # not undone then
    return any(w.by == SET and w.gain < 0 and w.time >= when for w in writes)


def settle(
    resets: Sequence[Reset],
    points: Sequence[Point],
    writes: Sequence[Write],
    *,
    live: float | None = None,
    fine_period: int = 60,
) -> list[Reset]:
    """Every reset dated by the runbook's own lowering write if there is one, and judged
    for a repair on the points and writes between it and the next reset."""
    dated = [made_by(r, writes, fine_period) for r in resets]
    return [
        judge(r, *since(dated, i, points, writes), live=live if i + 1 == len(dated) else None)
        for i, r in enumerate(dated)
    ]


def since(
    resets: Sequence[Reset], i: int, points: Sequence[Point], writes: Sequence[Write]
) -> tuple[list[Point], list[Write]]:
    """The points and the runbook's writes that belong to reset `i`: from it to the next
    reset (its own lowering write left out): what `judge` weighs, and 07 recomputes with."""
    start, last = resets[i].time, i + 1 == len(resets)
    end = resets[-1].time if last else resets[i + 1].time
    mine = [p for p in points if start <= p[0] and (last or p[0] < end)]
    ours = [w for w in writes if start <= w.time and (last or w.time < end)]
    return mine, [w for w in ours if w is not resets[i].made_by]


def own_jumps(
    resets: Sequence[Reset], writes: Sequence[Write], points: Sequence[Point], period: int
) -> list[tuple[dt.datetime, float]]:
    """(time, size) of each rise of the count the runbook's writes made, not visits: an
    audited write that raised it (at the first step from its bucket on big enough to hold
    it; none yet: no visit has published it) and a repair seen only as the metric's climb
    back (the loss, at most)."""
    steps, jumps = _steps(points), []
    for w in (w for w in writes if w.gain > 0):
        bucket = w.time - dt.timedelta(seconds=w.time.timestamp() % period)
        need = w.gain - tolerance(w.gain)
        at = next((t for t, s, _ in steps if t >= bucket and s >= need), None)
        if at is not None:
            jumps.append((at, float(w.gain)))
    for r in resets:
        repair = r.repair  # not None when r.repaired
        if repair is None or not r.repaired:
            continue
        if repair.write is None and "count metric" in repair.evidence:
            jumps.append((repair.time, float(min(repair.gain, r.lost))))
    return jumps
