"""06_history: read the count's history from CloudWatch, retention-aware, into one frame.

`run` is the notebook's entry (the step's Result, the CSV written beside the report);
`load_history` does the reading: it picks the period from the window's age (`choose_period`),
reads the contract's metrics (`aws.metrics`: one GetMetricData call for the four metrics up to
15 days at 60 s, chunked beyond 100,800 points, paged with NextToken) and returns a
`history.frame.History` (the frame, resets, summary, verdict, CSV).

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pandas as pd

from runbook_lib import aws
from runbook_lib.aws import metrics
from runbook_lib.aws.types import CloudWatchClient, MetricDataQueryTypeDef, ScanByType
from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target
from runbook_lib.steps.common.result import Result
from runbook_lib.steps.history.frame import (
    History,
    align_window,
    count_points,
    exclude_jumps,
    summary,
    to_frame,
)
from runbook_lib.steps.history.frame import utc as _utc
from runbook_lib.steps.reset import resetread, resets

HIGH_RES_PERIODS = (1, 5, 10, 30)  # seconds; high-resolution data is kept 3 hours
HIGH_RES_RETENTION = dt.timedelta(hours=3)
# (oldest start age, finest period in seconds) as CloudWatch keeps data: 1-minute points for
# 15 days, 5-minute points for 63 days, 1-hour points for 455 days (15 months).
RETENTION_TIERS = (
    (dt.timedelta(days=15), 60),
    (dt.timedelta(days=63), 300),
    (dt.timedelta(days=455), 3600),
)
MAX_HISTORY_DAYS = 455  # the oldest data CloudWatch keeps (1-hour points)


def _days(delta: pd.Timedelta) -> str:
    return f"{delta.total_seconds() / 86400:.1f} days"


def _now(now: Any = None) -> pd.Timestamp:
    return _utc(now if now is not None else dt.datetime.now(dt.timezone.utc), "now")


# ---- periods ------------------------------------------------------------------------------


def _finest_period(age: pd.Timedelta) -> int:
    for limit, period in RETENTION_TIERS:
        if age <= limit:
            return period
    raise InvalidInputError(
        f"The window starts {_days(age)} ago: CloudWatch keeps metric data for 455 days "
        "(15 months) at most. Pick a window that starts within the last 455 days."
    )


def _allowed(finest: int, age: pd.Timedelta) -> str:
    """The periods a window of this age may use, as the refusal words them."""
    if finest != 60:
        keep = {300: "1-minute data is kept 15 days", 3600: "5-minute data is kept 63 days"}
        return f"a multiple of {finest} seconds ({keep[finest]})"
    if age <= HIGH_RES_RETENTION:
        return "1, 5, 10 or 30 (high-resolution metrics) or a multiple of 60 seconds"
    return "a multiple of 60 seconds (high-resolution 1/5/10/30 s data is kept only 3 hours)"


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
    if not metrics.whole(period, 1):
        raise InvalidInputError(
            f"period must be a positive whole number of seconds, got {period!r}."
        )
    period = int(period)
    if (age <= HIGH_RES_RETENTION and period in HIGH_RES_PERIODS) or period % finest == 0:
        return period
    raise InvalidInputError(
        f"period {period} is not allowed for a window that starts {_days(age)} ago: use "
        f"{_allowed(finest, age)}."
    )


def points_per_metric(start: Any, end: Any, period: int) -> int:
    """Periods in the aligned window: the data points one metric can return."""
    s, e = align_window(start, end, period)
    return max(1, math.ceil((e - s).total_seconds() / period))


# ---- reading ------------------------------------------------------------------------------


def _series(points: list[tuple[Any, float]], name: str) -> pd.Series:
    stamps = [t for t, _ in points]
    index = pd.DatetimeIndex(pd.to_datetime(stamps, utc=True), name="timestamp")
    series = pd.Series([v for _, v in points], index=index, name=name, dtype="float64")
    series = series[~series.index.duplicated(keep="last")]
    return series.sort_index()


def fetch(
    cloudwatch: CloudWatchClient,
    queries: Sequence[MetricDataQueryTypeDef],
    start: Any,
    end: Any,
    *,
    scan_by: ScanByType = "TimestampAscending",
) -> tuple[dict[str, pd.Series], metrics.MetricData]:
    """GetMetricData over [start, end) aligned to the queries' period: one Series per query
    Id (UTC index, oldest first whatever `scan_by`, which only orders the pages), and the
    raw read (calls made, messages AWS returned)."""
    if not queries:
        return {}, metrics.MetricData()
    s, e = align_window(start, end, metrics.period_of(queries))
    data = metrics.get_metric_data(
        cloudwatch, queries, s.to_pydatetime(), e.to_pydatetime(), scan_by=scan_by
    )
    return {rid: _series(points, rid) for rid, points in data.points.items()}, data


def count_minimum(
    cloudwatch: CloudWatchClient | None,
    table: str,
    namespace: str,
    metric_name: str,
    at: Any,
    period: int,
) -> pd.Series | None:
    """The count gauge's Minimum in the one period starting `at`: the first count published
    in it (07_recover reads the level a reset left from it)."""
    spec = metrics.count_spec(table, namespace, metric_name, id="countmin", stat="Minimum")
    end = at + pd.Timedelta(seconds=period)
    if cloudwatch is None:
        cloudwatch = aws.client("cloudwatch")
    series, _ = fetch(cloudwatch, [spec.query(period)], at, end)
    return series.get("countmin")


def _check_days(days: Any) -> None:
    # cast: typeshed's numbers.Real has no __gt__ (mypy does not model the numeric tower)
    if isinstance(days, bool) or not isinstance(days, numbers.Real) or not cast(float, days) > 0:
        raise InvalidInputError(f"days must be a positive number, got {days!r}.")
    if not days <= MAX_HISTORY_DAYS:  # also catches inf and nan
        raise InvalidInputError(
            f"The window starts {float(days)} days ago: CloudWatch keeps metric data for 455 "
            f"days, so days must be at most {MAX_HISTORY_DAYS}."
        )


def run(
    target: Target,
    *,
    days: float,
    period: int | None = None,
    csv_path: str | Path | None = None,
    cloudwatch: CloudWatchClient | None = None,
    now: Any = None,
    audit_path: Any = None,
) -> Result:
    """06_history's one entry: `load_history` of the target's metrics, as the step's Result.
    Its fields are `History.result()` and, when `csv_path` is given (the notebook passes a
    path beside its report), the frame written there and `csv_path` its file name; its detail
    is the History, for the plot and table cells. A problem (exit 3) when a reset is not
    repaired or there is no count data to look at (`History.problem`)."""
    hist = target_history(
        target, days, period=period, cloudwatch=cloudwatch, now=now, audit_path=audit_path
    )
    fields = hist.result()
    if csv_path is not None:
        fields["csv_path"] = hist.to_csv(csv_path).name  # relative: no machine path in a report
    read = f"{len(hist.frame)} points at {hist.period} s, {hist.calls} GetMetricData call(s)"
    headline = hist.verdict.partition(":")[0]  # "OK", "RESET", "NO DATA"
    return Result("history", headline, hist.problem, f"{hist.verdict}\n{read}", fields, hist)


def target_history(
    target: Target,
    days: float,
    *,
    period: int | None = None,
    cloudwatch: CloudWatchClient | None = None,
    now: Any = None,
    audit_path: Any = None,
) -> History:
    """`load_history` of the target's own metrics (its table, Lambda, API, namespace and
    count metric): what 06 plots and 07 recovers from."""
    return load_history(
        days,
        table=target.table,
        function_name=target.function_name,
        api_id=target.api_id,
        namespace=target.metric_namespace,
        metric_name=target.metric_name,
        period=period,
        cloudwatch=cloudwatch,
        now=now,
        audit_path=audit_path,
    )


def load_history(
    days: float,
    *,
    table: str,
    function_name: str | None = None,
    api_id: str | None = None,
    namespace: str = metrics.DEFAULT_NAMESPACE,
    metric_name: str = metrics.DEFAULT_METRIC_NAME,
    period: int | None = None,
    cloudwatch: CloudWatchClient | None = None,
    now: Any = None,
    audit_path: Any = None,
) -> History:
    """Read the last `days` days of the counter's metrics and find the resets in them:
    dated and judged by the detector 02 and 07 share (`resetread.detect`, with this
    machine's audit log, `audit_path` or the default), and the runbook's own writes taken
    out of the visits."""
    _check_days(days)
    now_ts = _now(now)
    start = now_ts - pd.Timedelta(days=days)
    period = choose_period(start, now_ts, now_ts, period)
    start, end = align_window(start, now_ts, period)
    specs = metrics.default_specs(table, function_name, api_id, namespace, metric_name)
    queries = metrics.build_queries(specs, period)
    if cloudwatch is None:
        cloudwatch = aws.client("cloudwatch")
    series, data = fetch(cloudwatch, queries, start, end)
    frame = to_frame(series, period, start=start, end=end)
    points = count_points(frame)
    writes = resetread.audit_writes(table, *resetread.where(cloudwatch), audit_path)
    made = [data.calls]  # and one more per reset dated at the finest period
    found = resetread.detect(
        cloudwatch, (table, namespace, metric_name), points, period=period,
        now=now_ts.to_pydatetime(), writes=writes, calls=made,
    )  # fmt: skip
    frame = exclude_jumps(frame, resets.own_jumps(found, writes, points, period), period)
    return History(
        frame=frame,
        resets=found,
        period=period,
        calls=sum(made),
        summary={**summary(frame, found), "period": period, "calls": sum(made)},
        start=start,
        end=end,
        queries=queries,
        messages=data.messages,
        now=now_ts,
        writes=writes,
    )
