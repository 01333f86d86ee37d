"""The count's history from CloudWatch: retention-aware periods, GetMetricData queries and
paging, one DataFrame, and the resets in it.

Pure: `choose_period`, `MetricSpec`/`default_specs`/`build_queries`, `plan_calls`,
`to_frame`, `find_resets`, `summary`. I/O: `fetch` (GetMetricData, chunked and paged) and
`load_history`, the one entry point notebooks call.

The metric contract (shared with the Lambda and Terraform):

- count gauge: `<namespace>/<metric_name>` (default VisitorCounter/ViewCount), dimension
  `TableName`, read with Maximum: the Lambda publishes the new count after every visit;
- `AWS/Lambda` Invocations and Errors (Sum), dimension `FunctionName`;
- `AWS/ApiGateway` Count (Sum), dimension `ApiId`.

Visits are the positive steps of the count, computed here in pandas (no metric math). A reset
is a drop of the count level; a gap (no data: nobody visited, or nothing was published) is
never a reset.

With the four contract metrics one call always suffices: the finest period each retention tier
allows gives at most 21,600 points per metric (15 days at 60 s), 86,400 in all. Chunking only
starts with more queries (see `plan_calls`); paging follows NextToken whenever AWS returns one.

The moto sandbox (5.2): GetMetricData aggregates Maximum/Sum correctly, also over
StatisticValues, in buckets aligned to StartTime (so `fetch` aligns the window to the period,
as CloudWatch rounds it), omits empty buckets, honours ScanBy (default TimestampDescending, as
AWS), ignores MaxDatapoints, never returns a NextToken, has no metric math beyond a few
expressions, and costs O(periods x stored points in the window) per query: 14 days at 60 s
over a seeded sandbox takes tens of seconds, at 300 s a few, at 3600 s under one.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from runbook_lib.aws.errors import from_client_error
from runbook_lib.errors import InvalidInputError

# ---- CloudWatch limits and retention ------------------------------------------------------

MAX_DATAPOINTS_PER_CALL = 100_800  # GetMetricData: data points returned per call
MAX_QUERIES_PER_CALL = 500  # GetMetricData: MetricDataQueries per call
HIGH_RES_PERIODS = (1, 5, 10, 30)  # seconds; high-resolution data is kept 3 hours
HIGH_RES_RETENTION = dt.timedelta(hours=3)
# (oldest start age, finest period in seconds) as CloudWatch keeps data: 1-minute points for
# 15 days, 5-minute points for 63 days, 1-hour points for 455 days (15 months).
RETENTION_TIERS = (
    (dt.timedelta(days=15), 60),
    (dt.timedelta(days=63), 300),
    (dt.timedelta(days=455), 3600),
)
SCAN_ORDERS = ("TimestampAscending", "TimestampDescending")
STATS = ("Maximum", "Minimum", "Sum", "Average", "SampleCount")
MAX_HISTORY_DAYS = 455  # the oldest data CloudWatch keeps (1-hour points)
SUM_IDS = ("invocations", "errors", "requests")  # Sum metrics: no data in a period means zero
COLUMNS = ("count", "visits", "invocations", "errors", "requests")
DEFAULT_NAMESPACE = "VisitorCounter"
DEFAULT_METRIC_NAME = "ViewCount"
_QUERY_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")  # GetMetricData's rule for query Ids


def _utc(value: Any, what: str) -> pd.Timestamp:
    """A UTC Timestamp; naive values are taken as UTC."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what} {value!r} is not a date and time.") from exc
    if stamp is pd.NaT:
        raise InvalidInputError(f"{what} is missing (NaT).")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _whole(value: Any, minimum: int) -> bool:
    """A whole number (int or numpy integer, not bool) >= minimum."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= minimum


def _now(now: Any = None) -> pd.Timestamp:
    return _utc(now if now is not None else dt.datetime.now(dt.timezone.utc), "now")


def _days(delta: pd.Timedelta) -> str:
    return f"{delta.total_seconds() / 86400:.1f} days"


# ---- periods ------------------------------------------------------------------------------


def _finest_period(age: pd.Timedelta) -> int:
    for limit, period in RETENTION_TIERS:
        if age <= limit:
            return period
    raise InvalidInputError(
        f"The window starts {_days(age)} ago: CloudWatch keeps metric data for 455 days "
        "(15 months) at most. Pick a window that starts within the last 455 days."
    )


def choose_period(start: Any, end: Any, now: Any = None, period: int | None = None) -> int:
    """The period (seconds) for a window, from the AGE of its start (CloudWatch retention).

    Auto: 60 s if the start is at most 15 days old, 300 s up to 63 days, 3600 s up to 455 days;
    older starts raise InvalidInputError. An explicit `period` must be a multiple of the finest
    period for that age (1, 5, 10, 30 or a multiple of 60 while the start is under 3 hours old).
    """
    start_ts, end_ts, now_ts = _utc(start, "start"), _utc(end, "end"), _now(now)
    if start_ts >= end_ts:
        raise InvalidInputError(
            f"start {start_ts.isoformat()} must be before end {end_ts.isoformat()}."
        )
    if start_ts > now_ts:
        raise InvalidInputError(
            f"start {start_ts.isoformat()} is in the future (now is {now_ts.isoformat()})."
        )
    age = now_ts - start_ts
    finest = _finest_period(age)
    if period is None:
        return finest
    if not _whole(period, 1):
        raise InvalidInputError(
            f"period must be a positive whole number of seconds, got {period!r}."
        )
    period = int(period)
    if age <= HIGH_RES_RETENTION and period in HIGH_RES_PERIODS:
        return period
    if period % finest == 0:
        return period
    if finest == 60:
        allowed = "a multiple of 60 seconds"
        if age <= HIGH_RES_RETENTION:
            allowed = "1, 5, 10 or 30 (high-resolution metrics) or " + allowed
        else:
            allowed += " (high-resolution 1/5/10/30 s data is kept only 3 hours)"
    else:
        keep = {300: "1-minute data is kept 15 days", 3600: "5-minute data is kept 63 days"}
        allowed = f"a multiple of {finest} seconds ({keep[finest]})"
    raise InvalidInputError(
        f"period {period} is not allowed for a window that starts {_days(age)} ago: use {allowed}."
    )


def align_window(start: Any, end: Any, period: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start floored and end ceiled to whole periods since the epoch (how CloudWatch buckets)."""
    freq = f"{int(period)}s"
    return _utc(start, "start").floor(freq), _utc(end, "end").ceil(freq)


def points_per_metric(start: Any, end: Any, period: int) -> int:
    """Periods in the aligned window: the data points one metric can return."""
    s, e = align_window(start, end, period)
    return max(1, math.ceil((e - s).total_seconds() / period))


# ---- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricSpec:
    """One metric to read: where it lives and which statistic; `id` becomes the column."""

    id: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    label: str | None = None

    def __post_init__(self) -> None:
        if not _QUERY_ID.match(self.id or ""):
            raise InvalidInputError(
                f"metric id {self.id!r} is invalid: start with a lowercase letter, then letters, "
                "digits or underscores."
            )
        if self.stat not in STATS:
            raise InvalidInputError(
                f"stat {self.stat!r} is not one of {', '.join(STATS)} (case matters)."
            )
        if not self.namespace or not self.metric_name:
            raise InvalidInputError(f"metric {self.id!r} needs a namespace and a metric name.")
        for name, value in self.dimensions:
            if not name or not value:
                raise InvalidInputError(
                    f"metric {self.id!r}: dimension {name!r}={value!r} needs a name and a value."
                )

    def query(self, period: int) -> dict[str, Any]:
        q: dict[str, Any] = {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric_name,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
                },
                "Period": int(period),
                "Stat": self.stat,
            },
            "ReturnData": True,
        }
        if self.label:
            q["Label"] = self.label
        return q


def default_specs(
    table: str,
    function_name: str | None = None,
    api_id: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    metric_name: str = DEFAULT_METRIC_NAME,
) -> list[MetricSpec]:
    """The contract's metrics: count (always); invocations and errors with a function name;
    requests with an API id."""
    if not table:
        raise InvalidInputError("table is required: the count gauge is keyed by TableName.")
    specs = [
        MetricSpec(
            "count",
            namespace or DEFAULT_NAMESPACE,
            metric_name or DEFAULT_METRIC_NAME,
            (("TableName", table),),
            "Maximum",
            label="count level",
        )
    ]
    if function_name:
        fn = (("FunctionName", function_name),)
        specs.append(MetricSpec("invocations", "AWS/Lambda", "Invocations", fn, "Sum"))
        specs.append(MetricSpec("errors", "AWS/Lambda", "Errors", fn, "Sum"))
    if api_id:
        api = (("ApiId", api_id),)
        specs.append(MetricSpec("requests", "AWS/ApiGateway", "Count", api, "Sum"))
    return specs


def build_queries(specs: Sequence[MetricSpec], period: int) -> list[dict[str, Any]]:
    """MetricDataQueries for GetMetricData, one per spec, all returning data."""
    if not _whole(period, 1):
        raise InvalidInputError(
            f"period must be a positive whole number of seconds, got {period!r}."
        )
    if not specs:
        raise InvalidInputError("no metrics to query: pass at least one MetricSpec.")
    ids = [s.id for s in specs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InvalidInputError(f"metric ids must be unique; repeated: {', '.join(dupes)}.")
    return [s.query(period) for s in specs]


# ---- call planning ------------------------------------------------------------------------


def _query_groups(n_metrics: int) -> list[int]:
    """Balanced group sizes, each <= MAX_QUERIES_PER_CALL."""
    if n_metrics <= 0:
        return []
    n_groups = math.ceil(n_metrics / MAX_QUERIES_PER_CALL)
    base, extra = divmod(n_metrics, n_groups)
    return [base + 1] * extra + [base] * (n_groups - extra)


def _chunk_points(group_size: int) -> int:
    """Periods per call so that group_size metrics stay within MAX_DATAPOINTS_PER_CALL."""
    return MAX_DATAPOINTS_PER_CALL // group_size


def plan_calls(n_points_per_metric: int, n_metrics: int) -> int:
    """GetMetricData calls needed (without paging): all metrics in one request (up to 500),
    the time range split only when points x metrics exceed 100,800."""
    for name, value in (("n_points_per_metric", n_points_per_metric), ("n_metrics", n_metrics)):
        if not _whole(value, 0):
            raise InvalidInputError(f"{name} must be a whole number >= 0, got {value!r}.")
    if n_points_per_metric == 0:
        return 0
    return sum(
        math.ceil(n_points_per_metric / _chunk_points(size)) for size in _query_groups(n_metrics)
    )


def plan_chunks(
    start: Any, end: Any, period: int, n_metrics: int
) -> list[tuple[slice, pd.Timestamp, pd.Timestamp]]:
    """(query slice, chunk start, chunk end) per call; len() == plan_calls(...)."""
    s, e = align_window(start, end, period)
    out = []
    first = 0
    for size in _query_groups(n_metrics):
        step = pd.Timedelta(seconds=_chunk_points(size) * period)
        cursor = s
        while cursor < e:
            out.append((slice(first, first + size), cursor, min(cursor + step, e)))
            cursor += step
        first += size
    return out


# ---- I/O: GetMetricData ---------------------------------------------------------------------


def _period_of(queries: Sequence[Mapping[str, Any]]) -> int:
    periods = [
        int(q["MetricStat"]["Period"]) if "MetricStat" in q else int(q.get("Period") or 0)
        for q in queries
    ]
    periods = [p for p in periods if p > 0]
    if not periods:
        raise InvalidInputError("the queries carry no Period: build them with build_queries().")
    return max(periods)


def _series(stamps: list[Any], values: list[float], name: str) -> pd.Series:
    index = pd.DatetimeIndex(pd.to_datetime(stamps, utc=True), name="timestamp")
    series = pd.Series(values, index=index, name=name, dtype="float64")
    series = series[~series.index.duplicated(keep="last")]
    return series.sort_index()


def fetch_with_stats(
    cloudwatch: Any,
    queries: Sequence[Mapping[str, Any]],
    start: Any,
    end: Any,
    *,
    scan_by: str = "TimestampAscending",
) -> tuple[dict[str, pd.Series], int, list[str]]:
    """`fetch`, plus the number of GetMetricData calls made and any messages AWS returned."""
    if scan_by not in SCAN_ORDERS:
        raise InvalidInputError(f"scan_by {scan_by!r} is not one of {', '.join(SCAN_ORDERS)}.")
    if not queries:
        return {}, 0, []
    period = _period_of(queries)
    stamps: dict[str, list[Any]] = {q["Id"]: [] for q in queries}
    values: dict[str, list[float]] = {q["Id"]: [] for q in queries}
    messages: list[str] = []
    calls = 0
    for part, chunk_start, chunk_end in plan_chunks(start, end, period, len(queries)):
        kwargs: dict[str, Any] = {
            "MetricDataQueries": list(queries[part]),
            "StartTime": chunk_start.to_pydatetime(),
            "EndTime": chunk_end.to_pydatetime(),
            "ScanBy": scan_by,
        }
        while True:
            try:
                resp = cloudwatch.get_metric_data(**kwargs)
            except Exception as exc:
                raise from_client_error(exc, action="cloudwatch:GetMetricData") from exc
            calls += 1
            for result in resp.get("MetricDataResults", []):
                rid = result["Id"]
                stamps.setdefault(rid, []).extend(result.get("Timestamps", []))
                values.setdefault(rid, []).extend(result.get("Values", []))
                messages.extend(f"{rid}: {m.get('Value', m)}" for m in result.get("Messages", []))
            messages.extend(str(m.get("Value", m)) for m in resp.get("Messages", []))
            token = resp.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    series = {rid: _series(stamps[rid], values[rid], rid) for rid in stamps}
    return series, calls, messages


def fetch(
    cloudwatch: Any,
    queries: Sequence[Mapping[str, Any]],
    start: Any,
    end: Any,
    *,
    scan_by: str = "TimestampAscending",
) -> dict[str, pd.Series]:
    """GetMetricData over [start, end) (aligned to the queries' period), split into chunks of
    at most 100,800 points per call and paged with NextToken. One Series per query Id, UTC
    index, oldest first whatever `scan_by` (which only orders the pages)."""
    return fetch_with_stats(cloudwatch, queries, start, end, scan_by=scan_by)[0]


# ---- pure shaping ---------------------------------------------------------------------------


def _on_grid(series: pd.Series, period: int, how: str) -> pd.Series:
    floored = series.copy()
    floored.index = pd.DatetimeIndex(series.index).floor(f"{period}s")
    if floored.index.has_duplicates:
        floored = floored.groupby(level=0).agg(how)
    return floored


def to_frame(
    series_by_id: Mapping[str, pd.Series],
    period: int,
    *,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """One regular `period` grid (UTC) with columns count, visits, invocations, errors, requests.

    - count: the gauge's level; NaN where no data came (a gap).
    - visits: positive steps of the count across gaps (a drop's bucket counts 0: what
      happened in it is unknown); the first bucket is 0.
    - invocations/errors/requests: Sums, 0 where no data came; NaN if the metric was not read.

    The grid spans the data, or [start, end) when given. Other ids become extra columns.
    """
    if not _whole(period, 1):
        raise InvalidInputError(
            f"period must be a positive whole number of seconds, got {period!r}."
        )
    freq = f"{period}s"
    gridded = {
        rid: _on_grid(s, period, "max" if rid == "count" else "sum")
        for rid, s in series_by_id.items()
        if s is not None
    }
    stamps = [s.index for s in gridded.values() if len(s)]
    if start is not None and end is not None:
        lo, hi = align_window(start, end, period)
        hi = hi - pd.Timedelta(seconds=period)
    elif stamps:
        lo = min(i.min() for i in stamps)
        hi = max(i.max() for i in stamps)
    else:
        lo = hi = None
    if lo is None or hi < lo:
        index = pd.DatetimeIndex([], tz="UTC", name="timestamp")
    else:
        index = pd.date_range(lo, hi, freq=freq, name="timestamp")

    frame = pd.DataFrame(index=index)
    count = gridded.get("count")
    frame["count"] = count.reindex(index) if count is not None else float("nan")
    if count is not None:
        steps = frame["count"].ffill().diff().clip(lower=0)
        frame["visits"] = steps.fillna(0.0)
    else:
        frame["visits"] = float("nan")
    for rid in SUM_IDS:
        s = gridded.get(rid)
        frame[rid] = s.reindex(index).fillna(0.0) if s is not None else float("nan")
    for rid, s in gridded.items():
        if rid not in frame.columns:
            frame[rid] = s.reindex(index)
    return frame.astype("float64")


@dataclass(frozen=True)
class Reset:
    """A drop of the count level: `before` at `previous_time`, `after` at `time`."""

    time: pd.Timestamp
    before: float
    after: float
    drop: float
    previous_time: pd.Timestamp

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "before": _num(self.before),
            "after": _num(self.after),
            "drop": _num(self.drop),
            "previous_time": self.previous_time.isoformat(),
        }


def _at(when: pd.Timestamp, now: pd.Timestamp) -> str:
    """ "07:12 UTC" on the window's last day, "2024-05-01 07:12 UTC" before it."""
    when = _utc(when, "time")
    same_day = when.date() == _utc(now, "now").date()
    return when.strftime("%H:%M UTC" if same_day else "%Y-%m-%d %H:%M UTC")


def _num(value: Any) -> int | float | None:
    """A JSON-friendly number: int when whole, None for NaN."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return None
    return int(value) if value.is_integer() else value


def find_resets(frame: pd.DataFrame) -> list[Reset]:
    """Every drop of the count between consecutive data points; gaps are skipped, not drops."""
    if frame.empty or "count" not in frame.columns:
        return []
    count = frame["count"].dropna()
    resets = []
    for (t0, before), (t1, after) in zip(
        count.iloc[:-1].items(), count.iloc[1:].items(), strict=True
    ):
        if after < before:
            resets.append(Reset(t1, float(before), float(after), float(before - after), t0))
    return resets


def _total(frame: pd.DataFrame, column: str) -> int | float | None:
    if column not in frame.columns or frame[column].isna().all():
        return None
    return _num(frame[column].sum())


def visits_per_day(frame: pd.DataFrame) -> dict[str, int | float | None]:
    """Visits per UTC calendar day, ISO dates as keys."""
    if frame.empty or frame["visits"].isna().all():
        return {}
    daily = frame["visits"].groupby(frame.index.strftime("%Y-%m-%d")).sum()
    return {day: _num(v) for day, v in daily.items()}


def busiest_hour(frame: pd.DataFrame) -> int | None:
    """The UTC hour of day (0-23) with the most visits over the whole window; ties: earliest."""
    if frame.empty or not (frame["visits"].fillna(0) > 0).any():
        return None
    by_hour = frame["visits"].groupby(frame.index.hour).sum()
    return int(by_hour.idxmax())


def summary(frame: pd.DataFrame, resets: Iterable[Reset]) -> dict[str, Any]:
    """Headline numbers, JSON-serialisable."""
    resets = list(resets)
    count = frame["count"].dropna() if "count" in frame.columns else pd.Series(dtype="float64")
    hour = busiest_hour(frame)
    invocations, errors = _total(frame, "invocations"), _total(frame, "errors")
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
        "busiest_hour_visits": (
            _num(frame["visits"][frame.index.hour == hour].sum()) if hour is not None else None
        ),
        "invocations_total": invocations,
        "errors_total": errors,
        "error_rate": (
            round(errors / invocations, 6) if invocations and errors is not None else None
        ),
        "requests_total": _total(frame, "requests"),
        "resets": [r.to_dict() for r in resets],
        # no count data: resets were not looked for, which is not "0 resets"
        "reset_count": len(resets) if len(count) else None,
    }


# ---- the entry point ------------------------------------------------------------------------


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
    queries: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def resets_table(self) -> pd.DataFrame:
        """The resets as a DataFrame (for display)."""
        cols = ["time", "before", "after", "drop", "previous_time"]
        return pd.DataFrame([r.__dict__ for r in self.resets], columns=cols)

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
        """A reset, or nothing to look at: either way a scheduler must hear of it (exit 3)."""
        return bool(self.resets) or not self.has_count_data

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
        if not self.resets:
            return f"OK: no reset in the window; the count went from {self._count_span()}"
        worst = max(self.resets, key=lambda r: (r.drop, r.time))
        when = _at(worst.time, self.end)
        more = f" ({len(self.resets)} drops in the window)" if len(self.resets) > 1 else ""
        return (
            f"RESET: count dropped from {_num(worst.before)} to {_num(worst.after)} at {when}"
            f"{more}; next: rebuild the count from CloudWatch: runbook run 07_recover (dry run "
            f"first), or restore the last backup from before {when}: runbook run "
            "04_backup_restore (action=list, then restore it, dry run first)"
        )

    def _count_span(self) -> str:
        count = self.frame["count"].dropna()
        return f"{_num(count.iloc[0])} to {_num(count.iloc[-1])}"

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


def load_history(
    days: float,
    *,
    table: str,
    function_name: str | None = None,
    api_id: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    metric_name: str = DEFAULT_METRIC_NAME,
    period: int | None = None,
    cloudwatch: Any = None,
    now: Any = None,
) -> History:
    """Read the last `days` days of the counter's metrics and find the resets in them."""
    if isinstance(days, bool) or not isinstance(days, numbers.Real) or not days > 0:
        raise InvalidInputError(f"days must be a positive number, got {days!r}.")
    if not days <= MAX_HISTORY_DAYS:  # also catches inf and nan
        raise InvalidInputError(
            f"The window starts {float(days)} days ago: CloudWatch keeps metric data for 455 "
            f"days, so days must be at most {MAX_HISTORY_DAYS}."
        )
    now_ts = _now(now)
    start = now_ts - pd.Timedelta(days=days)
    period = choose_period(start, now_ts, now_ts, period)
    start, end = align_window(start, now_ts, period)
    queries = build_queries(
        default_specs(table, function_name, api_id, namespace, metric_name), period
    )
    if cloudwatch is None:
        from runbook_lib import aws

        cloudwatch = aws.client("cloudwatch")
    series, calls, messages = fetch_with_stats(cloudwatch, queries, start, end)
    frame = to_frame(series, period, start=start, end=end)
    resets = find_resets(frame)
    return History(
        frame=frame,
        resets=resets,
        period=period,
        calls=calls,
        summary={**summary(frame, resets), "period": period, "calls": calls},
        start=start,
        end=end,
        queries=queries,
        messages=messages,
    )
