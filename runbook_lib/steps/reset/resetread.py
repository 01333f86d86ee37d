"""What the reset detector (`resets`) is given to judge, read: the count at the finest period
CloudWatch keeps around each drop (its Minimum dates the reset) and the runbook's own writes
from the audit log. 02_status, 06_history and 07_recover all call `detect`. No pandas.

The fine read is one GetMetricData call per drop, made only when there is a drop: a healthy
status check stays one round trip. A fine read that fails leaves the coarse date (the
bucket where the drop showed); the reset itself is still reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from runbook_lib import aws
from runbook_lib.aws import metrics
from runbook_lib.aws.types import CloudWatchClient
from runbook_lib.errors import RunbookError
from runbook_lib.steps.common import auditlog
from runbook_lib.steps.reset import resets
from runbook_lib.steps.reset.resets import FineRow, Point, Reset, Write

# (oldest age, finest period in seconds) as CloudWatch keeps data: 1-minute points for 15
# days, 5-minute points for 63 days, 1-hour points for 455 days
RETENTION = (
    (dt.timedelta(days=15), 60),
    (dt.timedelta(days=63), 300),
    (dt.timedelta(days=455), 3600),
)
MAX_PINNED = 10  # the largest drops dated finely (one call each); more are glitches, not news


def finest_period(age: dt.timedelta) -> int:
    """The finest period CloudWatch still keeps for data this old."""
    return next((period for limit, period in RETENTION if age <= limit), 3600)


def floor_time(when: dt.datetime, seconds: int) -> dt.datetime:
    """`when` floored to whole periods since the epoch, as CloudWatch buckets them."""
    stamp = when.timestamp()
    return dt.datetime.fromtimestamp(stamp - stamp % seconds, tz=dt.timezone.utc)


def where(cloudwatch: CloudWatchClient) -> tuple[str, str]:
    """(endpoint or "aws", region) as an audit record names where its write went: the
    sandbox's table has the production table's name, so the name alone is not enough."""
    return aws.endpoint_url() or "aws", cloudwatch.meta.region_name


def writes_from(
    records: Iterable[dict[str, Any]], table: str, target: str, region: str
) -> list[Write]:
    """The audit records of applied sets of `table` at `target` (an endpoint, or "aws") in
    `region`, oldest first."""
    out = []
    for r in records:
        if (r.get("action"), r.get("table"), r.get("dry_run")) != ("set_count", table, False):
            continue
        if str(r.get("target", "")).rstrip("/") != target.rstrip("/"):
            continue
        try:
            when = dt.datetime.fromisoformat(str(r["time"]))
            old, new = int(r["old"]), int(r["new"])
        except (KeyError, TypeError, ValueError):
            continue  # an unreadable record (old None: not a number) proves nothing
        if r.get("region") != region:
            continue
        when = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
        by = resets.RECOVER if str(r.get("reason", "")).startswith(resets.RECOVER) else resets.SET
        out.append(Write(when, old, new, by, r.get("id"), r.get("actor")))
    return sorted(out, key=lambda w: w.time)


def audit_writes(
    table: str, target: str, region: str, path: str | Path | None = None
) -> list[Write]:
    """The runbook's writes of `table` from this machine's audit log (none: no log here, or
    one this process cannot read: the metric's climb back is then the evidence)."""
    try:
        records = auditlog.read_audit(path, skip_bad=True)
    except OSError:
        return []
    return writes_from(records, table, target, region)


def fine_rows(
    cloudwatch: CloudWatchClient,
    spec: tuple[str, str, str],
    reset: Reset,
    period: int,
    now: dt.datetime,
) -> list[FineRow]:
    """(bucket, Minimum, Maximum) of the count at the finest period kept, over the drop:
    from the bucket of the last count before it to the end of the bucket it showed in."""
    table, namespace, metric_name = spec
    # never coarser than the read that found the drop (06 at a high-resolution period)
    fine = min(finest_period(now - reset.previous_time), period)
    start = floor_time(reset.previous_time, fine)
    end = floor_time((reset.seen_time or reset.time) + dt.timedelta(seconds=period + fine), fine)
    queries = [
        metrics.count_spec(table, namespace, metric_name, id="low", stat="Minimum").query(fine),
        metrics.count_spec(table, namespace, metric_name, id="high").query(fine),
    ]
    data = metrics.get_metric_data(cloudwatch, queries, start, end, table=table)
    high = dict(data.points.get("high", []))
    rows = sorted(data.points.get("low", []))
    return [(utc(t), low, high.get(t, low)) for t, low in rows]


def utc(when: dt.datetime) -> dt.datetime:
    """`when` in UTC: botocore hands times in the machine's local zone, and a report (and
    an ISO time in result.json) must not depend on where it ran."""
    return when.astimezone(dt.timezone.utc)


def _pinned(
    cloudwatch: CloudWatchClient,
    spec: tuple[str, str, str],
    drop: Reset,
    period: int,
    now: dt.datetime,
) -> Reset:
    try:
        return resets.pin(drop, fine_rows(cloudwatch, spec, drop, period, now))
    except RunbookError:  # the coarse date stands; the drop is still reported
        return drop


def detect(
    cloudwatch: CloudWatchClient,
    spec: tuple[str, str, str],
    points: Sequence[Point],
    *,
    period: int,
    now: dt.datetime,
    writes: Sequence[Write] = (),
    live: float | None = None,
    calls: list[int] | None = None,
) -> list[Reset]:
    """The resets in `points` (the count gauge's Maximum per `period`, oldest first; `spec`:
    table, namespace, metric name), each dated by the first count at the low level and
    judged for a repair (`resets.settle`). `calls` gets the GetMetricData calls it made
    (one per drop dated), for a report that counts them."""
    drops = resets.find_drops(points)
    largest = sorted(range(len(drops)), key=lambda i: drops[i].drop)[-MAX_PINNED:]
    if calls is not None:
        calls.append(len(largest))
    dated = [_pinned(cloudwatch, spec, d, period, now) if i in largest else d
             for i, d in enumerate(drops)]  # fmt: skip
    return resets.settle(dated, points, writes, live=live)
