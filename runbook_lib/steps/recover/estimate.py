"""The pure half of 07_recover: what the count was before a reset, from a history frame.

No I/O: every function takes the frame `history.frame.to_frame` builds (count gauge read with
Maximum, visits as its positive steps, invocations/errors/requests as Sums) and returns
numbers. `recover` reads CloudWatch and DynamoDB and writes through `setcount`.

The arithmetic: a reset wrote `after` over `before`; every visit since added one, so the live
count is `after + visits since` and the count that should be there is
`recovered = before + (live - after)`; a partial repair since (the runbook's own writes in
the audit log, `written`) is no visit: `recovered = before + (live - after - written)`.

- `before`: the count gauge's last point before the drop (its Maximum: the last count the
  Lambda published before the reset);
- `after`: the level the reset left. The Lambda publishes after each visit, so the first
  count published after the reset is that level plus one: the reset period's Minimum minus 1.
  Without a Minimum, the period's Maximum is used (it includes that period's visits, so the
  recovered count is then a lower bound; `after_from` says which);
- uncertainty: visits that may have landed between the last point before the reset and the
  reset itself, which no published count shows. Estimated as the visit rate around the reset
  (the `RATE_WINDOW` before the last point and after the reset) times that gap, rounded up.

When the count metric is missing the sums stand in, at lower confidence (`source` says so):
Lambda invocations minus errors (each successful invocation counted one visit), else API
Gateway requests (which also count requests that never reached the Lambda: an overestimate).
`before` is then the visits in the window up to `reset_time` (older visits are not in it: a
lower bound), and the reset is taken to have written 0, the guide's value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from runbook_lib.steps.history.frame import time_index, utc
from runbook_lib.steps.reset import resets
from runbook_lib.steps.reset.resets import Reset, Write

COUNT_SOURCE = "count metric"
INVOCATIONS_SOURCE = "Lambda invocations minus errors (lower confidence: no count metric)"
REQUESTS_SOURCE = "API Gateway requests (lower confidence, may overcount: no count metric)"
RATE_WINDOW = pd.Timedelta(hours=3)  # visits this long before and after the reset set the rate
LIVE_FIGURE = "live: the count now"
RECOVERED_FIGURE = "recovered = before + (live - after)"
REPAIRED_FIGURE = "repaired already: the live count holds the repair"
WRITTEN_FIGURE = "written: the runbook's own writes since (not visits)"


@dataclass(frozen=True)
class Estimate:
    """What a reset took, from the metrics alone; `recovered(live)` adds the live count."""

    reset_time: dt.datetime  # the period in which the drop shows
    previous_time: dt.datetime | None  # the last point before it (None: sums fallback)
    before: int
    after: int
    after_from: str  # how `after` was read
    counted_since: int  # visits the metrics show since the reset
    last_time: dt.datetime | None  # the last point after the reset
    uncertainty: int  # up to this many visits may be missing from `before`
    rate_per_hour: float  # the visit rate around the reset the uncertainty is made of
    source: str
    written: int = 0  # what the runbook's own writes since added (a partial repair): no visits

    @property
    def drop(self) -> int:
        return self.before - self.after

    def recovered(self, live: int) -> int:
        """before + (live - after - written): the visits counted since the reset kept on
        top; a partial repair's gain is not a visit, and counting it would repair it twice."""
        return self.before + (int(live) - self.after - self.written)

    def to_dict(self) -> dict[str, Any]:
        def iso(t: dt.datetime | None) -> str | None:
            return t.isoformat() if t is not None else None

        return {
            "reset_time": iso(self.reset_time),
            "previous_time": iso(self.previous_time),
            "before": self.before,
            "after": self.after,
            "after_from": self.after_from,
            "counted_since": self.counted_since,
            "last_time": iso(self.last_time),
            "uncertainty": self.uncertainty,
            "rate_per_hour": round(self.rate_per_hour, 2),
            "source": self.source,
            "written_since": self.written,
        }


def pick_reset(resets: list[Reset], reset_time: Any = None, period: int = 60) -> Reset | None:
    """The reset to repair: the latest, or the one nearest `reset_time` (within an hour or
    two periods, whichever is longer); None when there is none (near it)."""
    if not resets:
        return None
    if reset_time is None:
        return max(resets, key=lambda r: r.time)
    when = utc(reset_time)
    nearest = min(resets, key=lambda r: abs(r.time - when))
    slack = max(pd.Timedelta(hours=1), pd.Timedelta(seconds=2 * period))
    # the drop shows in the period after the reset at the latest
    return nearest if nearest.previous_time - slack <= when <= nearest.time + slack else None


def level_after(reset: Reset, minimum: pd.Series | None) -> tuple[int, str]:
    """The level the reset left, and how it was read (see the module docstring)."""
    if reset.made_by is not None:
        return int(reset.level), f"the runbook's own write ({reset.made_by.by}, audit log)"
    if reset.pinned:  # `after` is the first count at the low level: the detector's Minimum
        return int(reset.level), "first count after - 1"
    if minimum is not None:
        low = minimum.dropna()
        low = low[low.index == reset.time]
        if len(low):
            return max(0, min(int(low.iloc[0]) - 1, int(reset.after))), "first count after - 1"
    return int(reset.after), "count at the reset's period (no Minimum: a lower bound)"


def visit_rate(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> float:
    """Visits per hour in the RATE_WINDOW before `start` and after `end` (the gap itself,
    being unknown, is left out)."""
    visits = frame["visits"].fillna(0.0)
    around = visits[
        ((visits.index >= start - RATE_WINDOW) & (visits.index <= start))
        | ((visits.index > end) & (visits.index <= end + RATE_WINDOW))
    ]
    if around.empty:
        return 0.0
    hours = (around.index.max() - around.index.min()).total_seconds() / 3600
    return float(around.sum()) / max(hours, 1 / 60)


def uncertainty(rate_per_hour: float, gap: dt.timedelta) -> int:
    """Visits expected at that rate over the gap, rounded up (0 for no traffic)."""
    return math.ceil(rate_per_hour * gap.total_seconds() / 3600 - 1e-9)


def from_counts(
    frame: pd.DataFrame, reset: Reset, minimum: pd.Series | None, writes: Sequence[Write] = ()
) -> Estimate:
    """The estimate from the count gauge: the normal case. `writes`: the runbook's own
    writes since the reset (a partial repair), whose gains are not visits."""
    after, after_from = level_after(reset, minimum)
    since = frame["count"][frame.index >= reset.time].dropna()
    last_time = since.index[-1] if len(since) else None
    last = int(since.iloc[-1]) if len(since) else int(reset.after)
    gains = [w for w in writes if w.gain > 0]
    last -= sum(w.gain for w in gains if last_time is not None and w.time < last_time)
    rate = visit_rate(frame, reset.previous_time, reset.time)
    return Estimate(
        reset_time=reset.time,
        previous_time=reset.previous_time,
        before=int(reset.before),
        after=after,
        after_from=after_from,
        counted_since=max(0, last - after),
        last_time=last_time,
        uncertainty=uncertainty(rate, reset.time - reset.previous_time),
        rate_per_hour=rate,
        source=COUNT_SOURCE,
        written=sum(w.gain for w in gains),
    )


def from_sums(frame: pd.DataFrame, reset_time: Any) -> Estimate | None:
    """The lower-confidence estimate without a count metric: Lambda invocations minus
    errors, else API requests; None when neither has data or `reset_time` is not given."""
    if reset_time is None or frame.empty:
        return None
    when = utc(reset_time)
    for column, source in (("invocations", INVOCATIONS_SOURCE), ("requests", REQUESTS_SOURCE)):
        if column not in frame.columns or not (frame[column].fillna(0) > 0).any():
            continue
        visits = frame[column].fillna(0.0)
        if column == "invocations" and "errors" in frame.columns:
            visits = (visits - frame["errors"].fillna(0.0)).clip(lower=0)
        before, since = visits[visits.index < when], visits[visits.index >= when]
        period = frame.index[1] - frame.index[0] if len(frame) > 1 else pd.Timedelta(minutes=1)
        rate = float(visits.sum()) / max(
            (frame.index[-1] - frame.index[0]) / pd.Timedelta(hours=1), 1
        )
        return Estimate(
            reset_time=when,
            previous_time=None,
            before=int(before.sum()),
            after=0,
            after_from="assumed 0 (the guide's value): no count metric",
            counted_since=int(since.sum()),
            last_time=since[since > 0].index[-1] if (since > 0).any() else None,
            uncertainty=uncertainty(rate, period),
            rate_per_hour=rate,
            source=source,
        )
    return None


def judged(frame: pd.DataFrame, estimate: Estimate, live: int) -> Reset:
    """The estimate's reset judged by the detector 02 and 06 share (`resets.judge`) from the
    frame and the live count alone (no audit log): one step up of about the drop after it,
    or the live count standing the drop above the last count published. Without the count
    metric (the sums fallback) the last count is `after` + the visits counted since."""
    counts = frame["count"][frame.index >= estimate.reset_time].dropna()
    points: list[resets.Point] = [
        (t, float(v)) for t, v in zip(time_index(counts), counts, strict=True)
    ]
    if not points:
        points = [(estimate.last_time or estimate.reset_time,
                   float(estimate.after + estimate.counted_since))]  # fmt: skip
    reset = Reset(estimate.reset_time, estimate.before, estimate.after, estimate.drop,
                  estimate.previous_time or estimate.reset_time)  # fmt: skip
    return resets.judge(reset, points, (), live=live)


def is_repaired(frame: pd.DataFrame, estimate: Estimate, live: int) -> bool:
    """Whether `judged` finds the reset made good already (a drop of 0 needs nothing)."""
    return estimate.drop <= 0 or judged(frame, estimate, live).repaired


def figures(estimate: Estimate, live: int, now: Any, *, repaired: bool = False) -> pd.DataFrame:
    """The table of figures: what, value, when (UTC) and where it came from. `repaired` (the
    reset is made good already, `is_repaired`): the live count is the answer, and no
    `before + (live - after)` is shown, as it would count the repair twice."""

    def at(t: Any) -> str:
        return utc(t).strftime("%Y-%m-%d %H:%M UTC") if t is not None else ""

    if repaired:
        answer = (REPAIRED_FIGURE, live, at(now), "nothing to write: the count is back")
    else:
        answer = (RECOVERED_FIGURE, estimate.recovered(live), at(now), "computed")
    rows = [
        ("before: the count before the reset", estimate.before, at(estimate.previous_time),
         estimate.source),
        ("after: the level the reset left", estimate.after, at(estimate.reset_time),
         f"{estimate.source} ({estimate.after_from})"),
        ("visits counted since (metrics)", estimate.counted_since, at(estimate.last_time),
         estimate.source),
        (LIVE_FIGURE, live, at(now), "DynamoDB GetItem (strongly consistent)"),
        answer,
        ("uncertainty: up to this many more", estimate.uncertainty,
         f"{estimate.rate_per_hour:.1f} visits/hour around the reset",
         "visit rate x the gap before the reset"),
    ]  # fmt: skip
    if estimate.written and not repaired:  # a partial repair: its gain is not visits
        rows.insert(4, (WRITTEN_FIGURE, estimate.written, "", "the audit log (sets since)"))
    table = pd.DataFrame(rows, columns=["figure", "value", "time", "source"]).set_index("figure")
    # the name on the columns, not the index: pandas' HTML shows an index name as a second,
    # empty header row; a columns name sits in the one header row's corner
    return table.rename_axis(index=None, columns="figure")
