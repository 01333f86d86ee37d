"""moto's GetMetricData, answering in one pass over the window instead of one per period.

moto 5.2's `CloudWatchBackend.get_metric_data` walks every period of the window and, for
each, scans every stored datum of the window: O(periods x datums) per query. 06_history
reads 14 days at 60 s (20,160 periods) over the ~6,000 datums of a 14-day seeded sandbox,
four queries: 17.7 s of the server's CPU per read, most of `runbook run 06_history`; this
module's answer takes 0.04 s (bench/results.json: history_server_cpu_s).

`get_metric_data` below gives the same answer in O(datums) per query. It keeps moto's
semantics exactly, quirks included, because the sandbox must answer as the moto the tests
were written against answers:

- the window's datums are chosen as moto chooses them (`get_all_metrics()`, StartTime and
  EndTime with microseconds dropped, StartTime <= t < EndTime);
- a query matches a datum by moto's own rules: namespace and name without dimensions; with
  dimensions, `sorted(...)` equality of moto's `Dimension`s and the name only (moto ignores
  the namespace then); the unit when the query gives one;
- each datum goes to the period `(t - StartTime) // Period`, which is the period moto's
  `start <= t < start + Period` test puts it in (datetime arithmetic is exact integer
  microseconds, so `start + k * Period` is moto's repeated addition);
- inside a period the datums keep their stored order, so moto's own `Statistics` adds them
  in the same order (float sums equal to the bit); empty periods return nothing, as in moto;
- labels, ReturnData and ScanBy as moto does them.

Requests with an expression (metric math, Metrics Insights) go to moto's own method
unchanged: the runbook sends none, and their code reads the per-query results moto builds.
tests/unit/test_metricindex.py compares both methods on the same backend, and
tests/aws/test_sandbox_metricindex.py two servers over HTTP, one of each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

ORIGINAL_ATTR = "_runbook_moto_get_metric_data"


def _matches(query: dict[str, Any]) -> Callable[[Any], bool]:
    """moto's per-period filter for one MetricStat query, as a test of one datum."""
    from moto.cloudwatch.models import Dimension

    stat = query["MetricStat"]
    namespace, name = stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]
    wanted = sorted(
        Dimension(name=d["Name"], value=d["Value"]) for d in stat["Metric"].get("Dimensions", [])
    )
    unit = stat.get("Unit")

    def match(md: Any) -> bool:
        if wanted:  # moto then compares dimensions and name, not the namespace
            found = sorted(md.dimensions) == wanted and md.name == name
        else:
            found = md.namespace == namespace and md.name == name
        return found and (not unit or md.unit == unit)

    return match


def _one_query(
    query: dict[str, Any], window: list[Any], start: datetime, scan_by: str
) -> dict[str, Any]:
    """One MetricStat query's result over the window's datums, as moto builds it."""
    from moto.cloudwatch.models import Statistics

    stat = query["MetricStat"]["Stat"]
    delta = timedelta(seconds=int(query["MetricStat"]["Period"]))
    periods: dict[int, list[Any]] = {}
    match = _matches(query)
    for md in window:  # stored order kept inside each period
        if match(md):
            periods.setdefault((md.timestamp - start) // delta, []).append(md)
    values, timestamps = [], []
    for k in sorted(periods):
        stats = Statistics([stat], start + k * delta)
        stats.metric_data = periods[k]
        values.append(stats.get_statistics_for_type(stat))
        timestamps.append(stats.timestamp)
    if scan_by == "TimestampDescending" and timestamps:
        timestamps.reverse()
        values.reverse()
    label = query.get("Label") or f"{query['MetricStat']['Metric']['MetricName']} {stat}"
    return {
        "id": query["Id"],
        "label": label,
        "values": values,
        "timestamps": timestamps,
        "status_code": "Complete",
    }


def get_metric_data(
    self: Any,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    """CloudWatchBackend.get_metric_data, one pass per query (see the module)."""
    from moto.cloudwatch.exceptions import ValidationError

    if any("MetricStat" not in q for q in queries):
        return getattr(type(self), ORIGINAL_ATTR)(self, queries, start_time, end_time, scan_by)
    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    if start_time > end_time:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start_time == end_time:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    window = [md for md in self.get_all_metrics() if start_time <= md.timestamp < end_time]
    results = [_one_query(q, window, start_time, scan_by) for q in queries]
    return [r for r, q in zip(results, queries, strict=True) if q.get("ReturnData", True)]


def install() -> None:
    """Make every CloudWatch backend of this process answer GetMetricData this way (the
    moto server process only; moto's own method is kept for expressions)."""
    from moto.cloudwatch.models import CloudWatchBackend

    if not hasattr(CloudWatchBackend, ORIGINAL_ATTR):
        setattr(CloudWatchBackend, ORIGINAL_ATTR, CloudWatchBackend.get_metric_data)
    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]


def uninstall() -> None:
    """moto's own method back (tests compare the two in one process)."""
    from moto.cloudwatch.models import CloudWatchBackend

    original = getattr(CloudWatchBackend, ORIGINAL_ATTR, None)
    if original is not None:
        CloudWatchBackend.get_metric_data = original  # type: ignore[method-assign]
