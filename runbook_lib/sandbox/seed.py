"""Realistic metric history for the sandbox: a synthetic frame (pure) and the one call that
writes it to CloudWatch.

`synthetic_history` draws 5-minute buckets with a daily rhythm (quiet nights, busy afternoons,
quieter weekends) from a seeded generator, so the same arguments give the same frame.
`seed_history` publishes that frame the way the live stack would have:

- the count gauge (`<namespace>/<metric_name>`, `TableName=<table>`), one aggregated datum per
  bucket with visits: the Lambda publishes the new count after every visit, so a bucket's
  Maximum is the count at its end, its Minimum the first count in it; a bucket without visits
  has no datum (a gap, exactly as in production);
- `AWS/Lambda` Invocations and Errors (`FunctionName=<function>`), `AWS/ApiGateway` Count
  (`ApiId=<api id>`), one aggregated datum per non-zero bucket.

Aggregates go in as `StatisticValues` (SampleCount/Sum/Minimum/Maximum): one stored datum per
bucket. `Values`/`Counts` would be as compact on the wire, but moto expands `Counts` into one
stored datum per count, which makes its GetMetricData slower with every visit seeded.

Sandbox only: real CloudWatch refuses PutMetricData into `AWS/` namespaces and timestamps more
than two weeks old. Use `last_count(frame)` to set the live counter item, so the item and the
end of the seeded history agree and the status check sees no drop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from runbook_lib.aws import metrics
from runbook_lib.aws.types import CloudWatchClient
from runbook_lib.errors import InvalidInputError
from runbook_lib.steps.history.frame import COLUMNS, time_index, utc

BUCKET_S = 300  # the synthetic frame's resolution: 5 minutes
# `sandbox up` ends its history this long before now: a quiet night, in which `runbook
# sandbox drill` plants its reset (metrics cannot be deleted, only added after the last).
QUIET_BEFORE_UP = pd.Timedelta(hours=3)
DEFAULT_START_COUNT = 1000
DEFAULT_SEED = 20240501
WEEKDAY_VISITS_PER_DAY = 300.0  # a personal site: ~12 an hour on a weekday
WEEKEND_FACTOR = 0.6
ERROR_BUCKET_PROBABILITY = 0.004  # roughly one bucket a day with failed invocations
EXTRA_REQUEST_RATE = 0.08  # requests per visit that never reach the Lambda (CORS preflight, 4xx)

# Relative traffic per UTC hour: quiet nights, a morning ramp, busy afternoons.
HOURLY_SHAPE = np.array(
    [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2, 1.3, 1.4,
     1.5, 1.7, 1.9, 2.0, 1.9, 1.6, 1.3, 1.1, 0.9, 0.7, 0.4, 0.25]
)  # fmt: skip


def bucket_index(days: float, end: Any = None) -> pd.DatetimeIndex:
    """Bucket starts (UTC) covering the `days` before `end` (default: now), floored to 5 min."""
    if not days or days <= 0:
        raise InvalidInputError(f"days must be a positive number of days, got {days!r}.")
    end_ts = utc(end if end is not None else dt.datetime.now(dt.timezone.utc))
    end_ts = end_ts.floor(f"{BUCKET_S}s")
    n = round(days * 86400 / BUCKET_S)
    if n < 1:
        raise InvalidInputError(f"days={days!r} is shorter than one {BUCKET_S}-second bucket.")
    start = end_ts - pd.Timedelta(seconds=n * BUCKET_S)
    return pd.date_range(start, periods=n, freq=f"{BUCKET_S}s", name="timestamp")


def visit_rates(index: pd.DatetimeIndex, visits_per_day: float) -> np.ndarray:
    """Expected visits per bucket: the hourly shape scaled to `visits_per_day` on weekdays."""
    per_bucket = visits_per_day / (86400 / BUCKET_S)
    shape = HOURLY_SHAPE[index.hour] / HOURLY_SHAPE.mean()
    weekend = np.where(index.dayofweek >= 5, WEEKEND_FACTOR, 1.0)
    return per_bucket * shape * weekend


def _reset_position(index: pd.DatetimeIndex, reset_at: Any) -> int:
    """The bucket `reset_at` falls in; refused outside the window."""
    when = utc(reset_at)
    if not index[0] <= when < index[-1] + pd.Timedelta(seconds=BUCKET_S):
        raise InvalidInputError(
            f"reset_at {when.isoformat()} is outside the seeded window "
            f"{index[0].isoformat()} .. {index[-1].isoformat()}."
        )
    return int(index.searchsorted(when, side="right")) - 1


def synthetic_history(
    days: float = 14,
    *,
    end: Any = None,
    start_count: int = DEFAULT_START_COUNT,
    seed: int = DEFAULT_SEED,
    visits_per_day: float = WEEKDAY_VISITS_PER_DAY,
    reset_at: Any = None,
) -> pd.DataFrame:
    """5-minute buckets ending at `end` (default now): count, visits, invocations, errors,
    requests. Deterministic given `seed` and `end`.

    - `count` is the level at the end of each bucket: `start_count` plus the visits so far,
      never decreasing, except at `reset_at` (a timestamp inside the window) where the count
      drops to 0 and grows again from that bucket's visits (at least one, so the drop shows).
    - `invocations = visits + errors` (a failed invocation does not count a visit);
      `requests >= invocations` (some requests never reach the Lambda).
    """
    if start_count < 0:
        raise InvalidInputError(f"start_count must be >= 0, got {start_count!r}.")
    if visits_per_day < 0:
        raise InvalidInputError(f"visits_per_day must be >= 0, got {visits_per_day!r}.")
    index = bucket_index(days, end)
    rng = np.random.default_rng(seed)
    visits = rng.poisson(visit_rates(index, visits_per_day))
    error_buckets = rng.random(len(index)) < ERROR_BUCKET_PROBABILITY
    errors = np.where(error_buckets, rng.integers(1, 4, len(index)), 0)
    extra = rng.poisson(visits * EXTRA_REQUEST_RATE + 0.02)

    reset_pos = None if reset_at is None else _reset_position(index, reset_at)
    if reset_pos is not None:
        visits[reset_pos] = max(int(visits[reset_pos]), 1)  # at least one, so the drop shows

    count = start_count + np.cumsum(visits)
    if reset_pos is not None:
        count[reset_pos:] = np.cumsum(visits[reset_pos:])
    invocations = visits + errors
    frame = pd.DataFrame(
        {
            "count": count.astype("int64"),
            "visits": visits.astype("int64"),
            "invocations": invocations.astype("int64"),
            "errors": errors.astype("int64"),
            "requests": (invocations + extra).astype("int64"),
        },
        index=index,
    )
    return frame


def last_count(frame: pd.DataFrame) -> int:
    """The count level at the end of the frame: set the live counter item to this value."""
    if frame.empty:
        raise InvalidInputError("the history frame is empty: there is no last count.")
    return int(frame["count"].iloc[-1])


# ---- pure request building ----------------------------------------------------------------


def _stat(n: float, total: float, low: float, high: float) -> dict[str, float]:
    return {
        "SampleCount": float(n),
        "Sum": float(total),
        "Minimum": float(low),
        "Maximum": float(high),
    }


def _datum(name: str, dims: list[dict[str, str]], ts: pd.Timestamp, stats: dict) -> dict:
    return {
        "MetricName": name,
        "Dimensions": dims,
        "Timestamp": ts.to_pydatetime(),
        "StatisticValues": stats,
        "Unit": "Count",
    }


def count_datums(frame: pd.DataFrame, *, table: str, metric_name: str) -> Iterator[dict[str, Any]]:
    """The count gauge, one datum per bucket with visits: the counts the Lambda published."""
    dims = [{"Name": "TableName", "Value": table}]
    for ts, high, n in zip(frame.index, frame["count"], frame["visits"], strict=True):
        if n <= 0:
            continue
        low = high - n + 1  # the first count published in the bucket
        total = (low + high) * n / 2  # the sum of low..high
        yield _datum(metric_name, dims, ts, _stat(n, total, low, high))


def sum_datums(
    values: pd.Series, *, metric_name: str, dims: list[dict[str, str]]
) -> Iterator[dict[str, Any]]:
    """A Sum-type metric (one event = 1), one datum per non-zero bucket."""
    for ts, n in zip(time_index(values), values, strict=True):
        if n > 0:
            yield _datum(metric_name, dims, ts, _stat(n, n, 1, 1))


def put_requests(
    frame: pd.DataFrame,
    *,
    table: str,
    function_name: str,
    api_id: str,
    namespace: str = metrics.DEFAULT_NAMESPACE,
    metric_name: str = metrics.DEFAULT_METRIC_NAME,
) -> list[dict[str, Any]]:
    """PutMetricData keyword arguments (one namespace each, <= 1000 datums each)."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"the history frame lacks column(s) {', '.join(missing)}.")
    fn_dims = [{"Name": "FunctionName", "Value": function_name}]
    per_namespace = {
        namespace: list(count_datums(frame, table=table, metric_name=metric_name)),
        "AWS/Lambda": [
            *sum_datums(frame["invocations"], metric_name="Invocations", dims=fn_dims),
            *sum_datums(frame["errors"], metric_name="Errors", dims=fn_dims),
        ],
        "AWS/ApiGateway": list(
            sum_datums(
                frame["requests"],
                metric_name="Count",
                dims=[{"Name": "ApiId", "Value": api_id}],
            )
        ),
    }
    requests = []
    for ns, datums in per_namespace.items():
        for i in range(0, len(datums), metrics.MAX_DATUMS_PER_PUT):
            requests.append(
                {"Namespace": ns, "MetricData": datums[i : i + metrics.MAX_DATUMS_PER_PUT]}
            )
    return requests


# ---- the one I/O call ---------------------------------------------------------------------


def seed_history(
    cloudwatch: CloudWatchClient,
    frame: pd.DataFrame,
    *,
    table: str,
    function_name: str,
    api_id: str,
    namespace: str = metrics.DEFAULT_NAMESPACE,
    metric_name: str = metrics.DEFAULT_METRIC_NAME,
) -> int:
    """PutMetricData the frame with its past timestamps; returns the number of calls made.

    Set the live counter to `last_count(frame)` afterwards.
    """
    requests = put_requests(
        frame,
        table=table,
        function_name=function_name,
        api_id=api_id,
        namespace=namespace,
        metric_name=metric_name,
    )
    return metrics.put_metric_data(cloudwatch, requests, table=table)
