"""CloudWatch: the one metric query builder, the one GetMetricData reader, PutMetricData and
DescribeAlarms, each call wrapped in `mapped(...)`.

The metric contract (shared with the Lambda and Terraform):

- count gauge: `<namespace>/<metric_name>` (default VisitorCounter/ViewCount), dimension
  `TableName`, read with Maximum: the Lambda publishes the new count after every visit;
- `AWS/Lambda` Invocations and Errors (Sum), dimension `FunctionName`;
- `AWS/ApiGateway` Count (Sum), dimension `ApiId`.

No pandas here: the status check reads the count gauge through this module and stays light.
Readers get plain (timestamp, value) pairs per query Id; `steps/history.py` makes Series.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runbook_lib.aws.errors import mapped
from runbook_lib.aws.types import (
    CloudWatchClient,
    MetricAlarmTypeDef,
    MetricDataQueryTypeDef,
    MetricTypeDef,
    ScanByType,
)
from runbook_lib.errors import InvalidInputError

MAX_DATAPOINTS_PER_CALL = 100_800  # GetMetricData: data points returned per call
MAX_QUERIES_PER_CALL = 500  # GetMetricData: MetricDataQueries per call
MAX_DATUMS_PER_PUT = 1000  # PutMetricData: MetricData members per request
SCAN_ORDERS = ("TimestampAscending", "TimestampDescending")
STATS = ("Maximum", "Minimum", "Sum", "Average", "SampleCount")
DEFAULT_NAMESPACE = "VisitorCounter"
DEFAULT_METRIC_NAME = "ViewCount"
_QUERY_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")  # GetMetricData's rule for query Ids

Point = tuple[dt.datetime, float]


def whole(value: Any, minimum: int) -> bool:
    """A whole number (int or numpy integer, not bool) >= minimum."""
    return (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and int(value) >= minimum
    )


def _check_period(period: Any) -> int:
    if not whole(period, 1):
        raise InvalidInputError(
            f"period must be a positive whole number of seconds, got {period!r}."
        )
    return int(period)


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

    def query(self, period: int) -> MetricDataQueryTypeDef:
        """This metric as one MetricDataQuery."""
        metric: MetricTypeDef = {
            "Namespace": self.namespace,
            "MetricName": self.metric_name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
        }
        q: MetricDataQueryTypeDef = {
            "Id": self.id,
            "MetricStat": {"Metric": metric, "Period": int(period), "Stat": self.stat},
            "ReturnData": True,
        }
        if self.label:
            q["Label"] = self.label
        return q


def count_spec(
    table: str,
    namespace: str = DEFAULT_NAMESPACE,
    metric_name: str = DEFAULT_METRIC_NAME,
    *,
    id: str = "count",
    stat: str = "Maximum",
) -> MetricSpec:
    """The count gauge of `table` (Maximum: the count at the end of each period)."""
    if not table:
        raise InvalidInputError("table is required: the count gauge is keyed by TableName.")
    dims = (("TableName", table),)
    name = metric_name or DEFAULT_METRIC_NAME
    label = "count level" if id == "count" else None
    return MetricSpec(id, namespace or DEFAULT_NAMESPACE, name, dims, stat, label=label)


def default_specs(
    table: str,
    function_name: str | None = None,
    api_id: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    metric_name: str = DEFAULT_METRIC_NAME,
) -> list[MetricSpec]:
    """The contract's metrics: count (always); invocations and errors with a function name;
    requests with an API id."""
    specs = [count_spec(table, namespace, metric_name)]
    if function_name:
        fn = (("FunctionName", function_name),)
        specs.append(MetricSpec("invocations", "AWS/Lambda", "Invocations", fn, "Sum"))
        specs.append(MetricSpec("errors", "AWS/Lambda", "Errors", fn, "Sum"))
    if api_id:
        api = (("ApiId", api_id),)
        specs.append(MetricSpec("requests", "AWS/ApiGateway", "Count", api, "Sum"))
    return specs


def build_queries(specs: Sequence[MetricSpec], period: int) -> list[MetricDataQueryTypeDef]:
    """MetricDataQueries for GetMetricData, one per spec, all returning data."""
    _check_period(period)
    if not specs:
        raise InvalidInputError("no metrics to query: pass at least one MetricSpec.")
    ids = [s.id for s in specs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InvalidInputError(f"metric ids must be unique; repeated: {', '.join(dupes)}.")
    return [s.query(period) for s in specs]


# ---- call planning: GetMetricData's limits ------------------------------------------------


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
        if not whole(value, 0):
            raise InvalidInputError(f"{name} must be a whole number >= 0, got {value!r}.")
    if n_points_per_metric == 0:
        return 0
    return sum(
        math.ceil(n_points_per_metric / _chunk_points(size)) for size in _query_groups(n_metrics)
    )


def plan_chunks(
    start: dt.datetime, end: dt.datetime, period: int, n_metrics: int
) -> list[tuple[slice, dt.datetime, dt.datetime]]:
    """(query slice, chunk start, chunk end) per call over [start, end); for a window aligned
    to `period`, len() == plan_calls(...)."""
    out = []
    first = 0
    for size in _query_groups(n_metrics):
        step = dt.timedelta(seconds=_chunk_points(size) * period)
        cursor = start
        while cursor < end:
            out.append((slice(first, first + size), cursor, min(cursor + step, end)))
            cursor += step
        first += size
    return out


def period_of(queries: Sequence[Mapping[str, Any]]) -> int:
    """The longest Period among the queries (the chunking unit)."""
    periods = [
        int(q["MetricStat"]["Period"]) if "MetricStat" in q else int(q.get("Period") or 0)
        for q in queries
    ]
    periods = [p for p in periods if p > 0]
    if not periods:
        raise InvalidInputError("the queries carry no Period: build them with build_queries().")
    return max(periods)


# ---- I/O ----------------------------------------------------------------------------------


@dataclass
class MetricData:
    """What GetMetricData returned: points per query Id (as they came), calls made, and any
    messages AWS attached (a partial answer says why here)."""

    points: dict[str, list[Point]] = field(default_factory=dict)
    calls: int = 0
    messages: list[str] = field(default_factory=list)

    def add_page(self, page: Mapping[str, Any]) -> None:
        self.calls += 1
        for result in page.get("MetricDataResults", []):
            rid = result["Id"]
            pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
            self.points.setdefault(rid, []).extend(pairs)
            self.messages.extend(f"{rid}: {m.get('Value', m)}" for m in result.get("Messages", []))
        self.messages.extend(str(m.get("Value", m)) for m in page.get("Messages", []))


def get_metric_data(
    cloudwatch: CloudWatchClient,
    queries: Sequence[MetricDataQueryTypeDef],
    start: dt.datetime,
    end: dt.datetime,
    *,
    scan_by: ScanByType = "TimestampAscending",
    table: str | None = None,
) -> MetricData:
    """GetMetricData over [start, end), split into calls of at most 100,800 points and 500
    queries (`plan_chunks`), each paged with boto3's paginator (NextToken)."""
    if scan_by not in SCAN_ORDERS:
        raise InvalidInputError(f"scan_by {scan_by!r} is not one of {', '.join(SCAN_ORDERS)}.")
    data = MetricData(points={q["Id"]: [] for q in queries})
    if not queries:
        return data
    paginator = cloudwatch.get_paginator("get_metric_data")
    for part, chunk_start, chunk_end in plan_chunks(start, end, period_of(queries), len(queries)):
        pages = paginator.paginate(
            MetricDataQueries=list(queries[part]),
            StartTime=chunk_start,
            EndTime=chunk_end,
            ScanBy=scan_by,
        )
        with mapped("cloudwatch:GetMetricData", table=table):
            for page in pages:
                data.add_page(page)
    return data


def put_metric_data(
    cloudwatch: CloudWatchClient, requests: Iterable[Mapping[str, Any]], *, table: str | None = None
) -> int:
    """PutMetricData each request (Namespace + MetricData, at most MAX_DATUMS_PER_PUT datums:
    the caller batches); returns the number of calls."""
    calls = 0
    for kwargs in requests:
        with mapped("cloudwatch:PutMetricData", table=table):
            cloudwatch.put_metric_data(**kwargs)
        calls += 1
    return calls


def metric_alarms(
    cloudwatch: CloudWatchClient, *, table: str | None = None
) -> list[MetricAlarmTypeDef]:
    """Every metric alarm in the region (all pages of DescribeAlarms)."""
    out: list[MetricAlarmTypeDef] = []
    with mapped("cloudwatch:DescribeAlarms", table=table):
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmTypes=["MetricAlarm"]
        ):
            out.extend(page.get("MetricAlarms", []))
    return out
