"""When `runbook sandbox drill` plants each part of its reset (pure: no I/O).

The hard part of planting a reset on a counter that already has a history is time.
CloudWatch keeps every datum (PutMetricData cannot delete or overwrite one), so the drill
can only add datums, and only in the past of now (the runbook reads up to now). A datum that
lands in a period which already holds one of another history merges with it (Maximum of
both), and a history that steps back and forth between two levels reads as repeated resets.
So the drill writes only into the *quiet time* after the counter's last datum:

    ... existing history | before: visits by the daily rhythm | RESET | after: ~20 visits | now
                         ^ history_end (5-min boundary)        ^ reset_at (5-min boundary)

- `sandbox up` seeds its history ending `seed.QUIET_BEFORE_UP` (3 h, a quiet night) before
  it ran, so a fresh sandbox always has that much quiet time; it grows as the clock runs;
- the quiet time starts on the 5-minute boundary after the last datum's minute, so no period
  of 60 or 300 s (06/07, 02) holds datums of both histories;
- `after` takes half the quiet time, at most AFTER_MAX (90 min); `before` the rest, at least
  as long, and never more than LOOKBACK (24 h, 02's drop window) before now, so 02 sees the
  count before the drop however old the last datum is;
- the reset sits on a 5-minute boundary and the first visit after it in the reset's own
  minute, so every period size shows the drop in the period of the reset; the last 5-minute
  bucket before it has at least one visit: the count just before the reset is published;
- less than MIN_QUIET (1 h) of quiet time (a second drill right after the first) is refused,
  with the time it becomes possible and the fresh-sandbox command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from runbook_lib.errors import InvalidInputError
from runbook_lib.sandbox import seed
from runbook_lib.steps.history.frame import utc

BUCKET = pd.Timedelta(seconds=seed.BUCKET_S)  # the before-history's 5-minute buckets
BUCKET_FREQ = f"{seed.BUCKET_S}s"  # the same as the frequency string Timestamp.floor takes
AFTER_MAX = pd.Timedelta(minutes=90)
MIN_QUIET = pd.Timedelta(hours=1)  # half of it at least after the reset, half before
LOOKBACK = pd.Timedelta(hours=24)  # 02_status's default drop window
LAST_VISIT_MARGIN = pd.Timedelta(seconds=60)  # the last visit a whole minute before now
VISITS_AFTER = 23
DRILL_SEED = 20260501
FRESH_SANDBOX = "runbook sandbox down && runbook sandbox up"


class DrillRefusedError(InvalidInputError):
    """Too little quiet time after the counter's last datum: nothing was written."""

    hint = ""  # the message says what to do


@dataclass(frozen=True)
class DrillPlan:
    """When each planted visit happens: `before` holds 5-minute buckets (index: bucket
    start, column `visits`), `after` one time per visit after the reset."""

    history_end: pd.Timestamp
    reset_at: pd.Timestamp
    before: pd.DataFrame
    after: tuple[pd.Timestamp, ...]

    @property
    def before_visits(self) -> int:
        return int(self.before["visits"].sum())


def _floor(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.floor(BUCKET_FREQ)


def quiet_from(last_datum: Any, now: Any) -> pd.Timestamp:
    """Where new datums may start: the 5-minute boundary at or after the end of the last
    datum's minute, or LOOKBACK before now when the counter has no datum that recent."""
    floor = _floor(utc(now, "now")) - LOOKBACK
    if last_datum is None:
        return floor
    after_minute = utc(last_datum, "last_datum").floor("60s") + pd.Timedelta(seconds=60)
    return max(floor, after_minute.ceil(BUCKET_FREQ))


def _refuse(history_end: pd.Timestamp, latest: pd.Timestamp) -> DrillRefusedError:
    return DrillRefusedError(
        f"The sandbox's counter has history until {history_end:%H:%M} UTC (the seeded history "
        "or an earlier drill), and CloudWatch cannot delete it: a drill needs "
        f"{int(MIN_QUIET.total_seconds() // 60)} minutes of quiet time after it to plant a "
        f"reset and the visits since. Nothing was written. Start a fresh sandbox with "
        f"`{FRESH_SANDBOX}`, or drill again after {latest:%H:%M} UTC."
    )


def before_buckets(start: pd.Timestamp, end: pd.Timestamp, rng: np.random.Generator) -> Any:
    """Visits per 5-minute bucket in [start, end) at the sandbox's daily rhythm (the
    seeded history's rate); the last bucket has one at least."""
    index = pd.date_range(start, end - BUCKET, freq=BUCKET, name="timestamp")
    visits = rng.poisson(seed.visit_rates(index, seed.WEEKDAY_VISITS_PER_DAY))
    visits[-1] = max(int(visits[-1]), 1)
    return pd.DataFrame({"visits": visits.astype("int64")}, index=index)


def after_times(
    reset_at: pd.Timestamp, span: pd.Timedelta, visits: int, rng: np.random.Generator
) -> tuple[pd.Timestamp, ...]:
    """`visits` times after the reset, oldest first, whole seconds: the first in the
    reset's own minute, the rest at random over the span after that minute."""
    first = reset_at + pd.Timedelta(seconds=int(rng.integers(5, 55)))
    rest = rng.integers(60, int(span.total_seconds()), size=max(visits - 1, 0))
    return (first, *(reset_at + pd.Timedelta(seconds=int(s)) for s in np.sort(rest)))


def plan(
    now: Any,
    last_datum: Any,
    *,
    visits_after: int = VISITS_AFTER,
    seed_value: int = DRILL_SEED,
) -> DrillPlan:
    """The drill's times for a counter whose last datum is `last_datum` (None: none in the
    last LOOKBACK), planted at `now`. Raises DrillRefusedError when the quiet time is short."""
    if visits_after < 1:
        raise InvalidInputError(f"visits_after must be at least 1, got {visits_after!r}.")
    now_ts = utc(now, "now")
    start = quiet_from(last_datum, now_ts)
    last_by = _floor(now_ts - LAST_VISIT_MARGIN)  # every planted visit before this
    quiet = last_by - start
    if quiet < MIN_QUIET:
        raise _refuse(start, start + MIN_QUIET + LAST_VISIT_MARGIN)
    half = quiet.total_seconds() // 2
    span = min(AFTER_MAX, pd.Timedelta(seconds=half - half % seed.BUCKET_S))
    reset_at = last_by - span
    rng = np.random.default_rng(seed_value)
    return DrillPlan(
        history_end=start,
        reset_at=reset_at,
        before=before_buckets(start, reset_at, rng),
        after=after_times(reset_at, span, visits_after, rng),
    )
