"""The count's history as one DataFrame, the resets in it, its summary, verdict and CSV.

Pure: no AWS. `steps/history.py` reads CloudWatch and hands the Series here.

Visits are the positive steps of the count, computed here in pandas (no metric math). A reset
is a drop of the count level; a gap (no data: nobody visited, or nothing was published) is
never a reset.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from runbook_lib.aws.metrics import whole
from runbook_lib.aws.types import MetricDataQueryTypeDef
from runbook_lib.errors import InvalidInputError
from runbook_lib.steps.reset import resets, resettext
from runbook_lib.steps.reset.resets import Reset, Write

SUM_IDS = ("invocations", "errors", "requests")  # Sum metrics: no data in a period means zero
COLUMNS = ("count", "visits", "invocations", "errors", "requests")


def utc(value: Any, what: str = "time") -> pd.Timestamp:
    """A UTC Timestamp; naive values are taken as UTC."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what} {value!r} is not a date and time.") from exc
    if stamp is pd.NaT:
        raise InvalidInputError(f"{what} is missing (NaT).")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def time_index(data: pd.DataFrame | pd.Series) -> pd.DatetimeIndex:
    """`data`'s index, which here is always a time grid: pandas-stubs types `.index` as a
    plain Index (no .hour, .strftime, Timestamp labels), so this says what it is."""
    return cast(pd.DatetimeIndex, data.index)


def align_window(start: Any, end: Any, period: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start floored and end ceiled to whole periods since the epoch (how CloudWatch buckets)."""
    freq = f"{int(period)}s"
    return utc(start, "start").floor(freq), utc(end, "end").ceil(freq)


def _num(value: Any) -> int | float | None:
    """A JSON-friendly number: int when whole, None for NaN."""
    value = float("nan") if value is None else float(value)
    if math.isnan(value):
        return None
    return int(value) if value.is_integer() else value


def _on_grid(series: pd.Series, period: int, how: str) -> pd.Series:
    floored = series.copy()
    floored.index = pd.DatetimeIndex(series.index).floor(f"{period}s")
    if floored.index.has_duplicates:
        floored = floored.groupby(level=0).agg(how)
    return floored


def _grid(gridded: Mapping[str, pd.Series], period: int, start: Any, end: Any) -> pd.DatetimeIndex:
    """[start, end) on the period grid when given, else the span of the data."""
    stamps = [s.index for s in gridded.values() if len(s)]
    empty = pd.DatetimeIndex([], tz="UTC", name="timestamp")
    if start is not None and end is not None:
        lo, hi = align_window(start, end, period)
        hi = hi - pd.Timedelta(seconds=period)
    elif stamps:
        lo, hi = min(i.min() for i in stamps), max(i.max() for i in stamps)
    else:
        return empty
    if hi < lo:
        return empty
    return pd.date_range(lo, hi, freq=f"{period}s", name="timestamp")


def to_frame(
    series_by_id: Mapping[str, pd.Series], period: int, *, start: Any = None, end: Any = None
) -> pd.DataFrame:
    """One regular `period` grid (UTC) with columns count, visits, invocations, errors, requests.

    - count: the gauge's level; NaN where no data came (a gap).
    - visits: positive steps of the count across gaps (a drop's bucket counts 0: what
      happened in it is unknown); the first bucket is 0.
    - invocations/errors/requests: Sums, 0 where no data came; NaN if the metric was not read.

    The grid spans the data, or [start, end) when given. Other ids become extra columns.
    """
    if not whole(period, 1):
        raise InvalidInputError(
            f"period must be a positive whole number of seconds, got {period!r}."
        )
    gridded = {
        rid: _on_grid(s, period, "max" if rid == "count" else "sum")
        for rid, s in series_by_id.items()
        if s is not None
    }
    index = _grid(gridded, period, start, end)
    frame = pd.DataFrame(index=index)
    count = gridded.get("count")
    frame["count"] = count.reindex(index) if count is not None else float("nan")
    if count is not None:
        frame["visits"] = frame["count"].ffill().diff().clip(lower=0).fillna(0.0)
    else:
        frame["visits"] = float("nan")
    for rid in SUM_IDS:
        s = gridded.get(rid)
        frame[rid] = s.reindex(index).fillna(0.0) if s is not None else float("nan")
    for rid, s in gridded.items():
        if rid not in frame.columns:
            frame[rid] = s.reindex(index)
    return frame.astype("float64")


def count_points(frame: pd.DataFrame) -> list[tuple[pd.Timestamp, float]]:
    """The count's published levels, (time, count) oldest first: what `resets` reads."""
    if frame.empty or "count" not in frame.columns:
        return []
    count = frame["count"].dropna()
    return [(t, float(v)) for t, v in zip(time_index(count), count, strict=True)]


def find_resets(frame: pd.DataFrame) -> list[Reset]:
    """Every drop of the count between consecutive data points, gaps skipped, as the frame
    shows it: `history.load_history` has the shared detector date and judge them."""
    return resets.find_drops(count_points(frame))


def exclude_jumps(
    frame: pd.DataFrame, jumps: Iterable[tuple[Any, float]], period: int
) -> pd.DataFrame:
    """The frame with the runbook's own rises of the count (`resets.own_jumps`: a repair,
    a set) taken out of `visits`: a write is not a visit."""
    frame = frame.copy()
    for when, size in jumps:
        at = utc(when, "time").floor(f"{period}s")
        if at in frame.index:
            frame.loc[at, "visits"] = max(0.0, float(frame["visits"].loc[at]) - size)
    return frame


def _total(frame: pd.DataFrame, column: str) -> int | float | None:
    if column not in frame.columns or frame[column].isna().all():
        return None
    return _num(frame[column].sum())


def visits_per_day(frame: pd.DataFrame) -> dict[str, int | float | None]:
    """Visits per UTC calendar day, ISO dates as keys."""
    if frame.empty or frame["visits"].isna().all():
        return {}
    daily = frame["visits"].groupby(time_index(frame).strftime("%Y-%m-%d")).sum()
    return {str(day): _num(v) for day, v in daily.items()}


def busiest_hour(frame: pd.DataFrame) -> int | None:
    """The UTC hour of day (0-23) with the most visits over the whole window; ties: earliest."""
    if frame.empty or not (frame["visits"].fillna(0) > 0).any():
        return None
    by_hour = frame["visits"].groupby(time_index(frame).hour).sum()
    return int(by_hour.idxmax())


def summary(frame: pd.DataFrame, resets: Iterable[Reset]) -> dict[str, Any]:
    """Headline numbers, JSON-serialisable."""
    resets = list(resets)
    count = frame["count"].dropna() if "count" in frame.columns else pd.Series(dtype="float64")
    hour = busiest_hour(frame)
    invocations, errors = _total(frame, "invocations"), _total(frame, "errors")
    busiest = frame["visits"][time_index(frame).hour == hour].sum() if hour is not None else None
    return {
        "points": len(frame),
        "count_points": len(count),
        "first_time": frame.index[0].isoformat() if len(frame) else None,
        "last_time": frame.index[-1].isoformat() if len(frame) else None,
        "first_count": _num(count.iloc[0]) if len(count) else None,
        "last_count": _num(count.iloc[-1]) if len(count) else None,
        "visits_total": _total(frame, "visits"),
        "visits_per_day": visits_per_day(frame),
        "busiest_hour_utc": hour,
        "busiest_hour_visits": _num(busiest),
        "invocations_total": invocations,
        "errors_total": errors,
        "error_rate": round(errors / invocations, 6)
        if invocations and errors is not None
        else None,
        "requests_total": _total(frame, "requests"),
        "resets": [r.to_dict() for r in resets],
        # no count data: resets were not looked for, which is not "0 resets"
        "reset_count": len(resets) if len(count) else None,
    }


@dataclass
class History:
    """What load_history read: the frame, its resets and how it was read."""

    frame: pd.DataFrame
    resets: list[Reset]
    period: int
    calls: int
    summary: dict[str, Any]
    start: pd.Timestamp
    end: pd.Timestamp
    queries: list[MetricDataQueryTypeDef] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    now: pd.Timestamp | None = None  # when it was read: "07:12 UTC" means today's
    writes: list[Write] = field(default_factory=list)  # the runbook's, audit log

    def resets_table(self) -> pd.DataFrame:
        """The resets as a DataFrame (for display), with how each was repaired."""
        rows = [
            {**{k: getattr(r, k) for k in ("time", "before", "after", "drop", "previous_time")},
             "repaired": resettext.how_repaired(r, self.now) if r.repaired
                         else "deliberate (03_set_count)" if r.deliberate else "no"}
            for r in self.resets
        ]  # fmt: skip
        cols = ["time", "before", "after", "drop", "previous_time", "repaired"]
        return pd.DataFrame(rows, columns=cols)

    @property
    def metric(self) -> str:
        """The count metric that was asked for, as a user names it."""
        query = next((q for q in self.queries if q.get("Id") == "count"), None)
        if query is None:
            return "the count metric"
        metric = query["MetricStat"]["Metric"]
        dims = ", ".join(f"{d['Name']}={d['Value']}" for d in metric.get("Dimensions", []))
        return f"{metric['Namespace']}/{metric['MetricName']} ({dims})"

    @property
    def has_count_data(self) -> bool:
        return "count" in self.frame.columns and bool(self.frame["count"].notna().any())

    @property
    def problem(self) -> bool:
        """A reset not repaired, or nothing to look at: either way a scheduler must hear of
        it (exit 3). A repaired reset is told, not alarmed on every morning of the window."""
        return resettext.worst(self.resets) is not None or not self.has_count_data

    @property
    def verdict(self) -> str:
        """One line: a reset says what happened and what to do; no data says which metric
        was asked for, never "0 resets"."""
        if not self.has_count_data:
            days = (self.end - self.start).total_seconds() / 86400
            return (
                f"NO DATA: no count data found for {self.metric} in the last {days:g} days, "
                "so resets could not be looked for; check table_name, metric_namespace and "
                "metric_name, or whether the Lambda has served a visit yet"
            )
        count = self.frame["count"].dropna()
        span = f"the count went from {_num(count.iloc[0])} to {_num(count.iloc[-1])}"
        now = self.now if self.now is not None else self.end
        if not self.resets:
            return f"OK: no reset in the window; {span}"
        if resettext.worst(self.resets) is None:
            return f"OK: {resettext.all_repaired(self.resets, now, 'in the window')}; {span}"
        text, step = resettext.problem(self.resets, now, "in the window")
        return f"RESET: {text}; next: {step}"

    @property
    def no_resets_text(self) -> str:
        """What the resets table says when it has no rows."""
        if not self.has_count_data:
            return f"No count data for {self.metric}: resets could not be looked for."
        return "No reset in the window."

    def result(self) -> dict[str, Any]:
        """What 06_history records for the runner (result.json)."""
        looked = self.has_count_data
        return {
            "verdict": self.verdict,
            "metric": self.metric,
            "points": len(self.frame),
            "count_points": int(self.frame["count"].notna().sum()) if looked else 0,
            "period": self.period,
            "calls": self.calls,
            "resets": [r.to_dict() for r in self.resets] if looked else None,
            "visits": _total(self.frame, "visits") if looked else None,
            "visits_per_day": visits_per_day(self.frame) if looked else {},
            "busiest_hour_utc": busiest_hour(self.frame),
        }

    def to_csv(self, path: str | Path) -> Path:
        """Write the frame (timestamp index in ISO 8601 UTC); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.frame.to_csv(path, index_label="timestamp", date_format="%Y-%m-%dT%H:%M:%SZ")
        return path
