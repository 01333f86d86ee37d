"""A reset planted in the sandbox, for 07_recover to find: `runbook demo`, 00_onboarding and
the tests use it.

A counter of its own (a separate table, so the sandbox's counter and its status stay
clean) whose CloudWatch history rises to `before` over the days, drops to 0 at the reset,
then climbs by `since` visits; the live item holds `since`, as after a real reset.

`plant_reset` writes a frame's end state directly (the item set to the last count);
`planted_demo` writes it as `runbook sandbox drill` does (`drill.write_drill`): the visits
before as one ADD, the reset as the PutItem `terraform apply` sends, each visit since as
the Lambda's own UpdateItem ADD with its published count.

Sandbox only: real CloudWatch refuses timestamps more than two weeks old, and the runbook
never plants data outside the sandbox (`plant_reset` refuses a non-loopback endpoint).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from runbook_lib import aws
from runbook_lib.aws import metrics, provision
from runbook_lib.aws.types import CloudWatchClient, DynamoDBClient
from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target
from runbook_lib.sandbox import drill, seed
from runbook_lib.steps.history.frame import time_index

DEMO_SUFFIX = "-recover-demo"
DEFAULT_RESET_AGE = pd.Timedelta(hours=6)


def _spread(total: int, weights: np.ndarray) -> np.ndarray:
    """`total` visits over buckets in proportion to `weights`, whole numbers (largest
    remainders get the leftovers), deterministic."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype("int64")
    leftover = total - int(counts.sum())
    counts[np.argsort(-(share - counts), kind="stable")[:leftover]] += 1
    return counts


def reset_position(index: pd.DatetimeIndex, reset_age: pd.Timedelta) -> int:
    """The bucket of `reset_frame`'s reset: `reset_age` before the window's end."""
    return int(index.searchsorted(index[-1] + pd.Timedelta(minutes=5) - reset_age))


def reset_frame(
    days: float = 3,
    *,
    end: Any = None,
    before: int = 5000,
    since: int = 37,
    reset_age: pd.Timedelta = DEFAULT_RESET_AGE,
) -> pd.DataFrame:
    """5-minute buckets (seed's columns): the count rises from 0 to `before` with the daily
    rhythm, drops to 0 `reset_age` before `end`, then `since` visits (at least one in the
    reset's own bucket, so the drop shows)."""
    if since < 1 or before <= since:
        raise InvalidInputError("a planted reset needs since >= 1 and before > since.")
    index = seed.bucket_index(days, end)
    pos = reset_position(index, reset_age)
    if not 0 < pos < len(index):
        raise InvalidInputError(f"reset_age {reset_age} is outside the {days}-day window.")
    rates = seed.visit_rates(index, 1.0)
    visits = np.zeros(len(index), dtype="int64")
    visits[:pos] = _spread(before, rates[:pos])
    visits[pos] = 1
    visits[pos:] += _spread(since - 1, rates[pos:])
    count = np.cumsum(visits)
    count[pos:] = np.cumsum(visits[pos:])
    zero = np.zeros(len(index), dtype="int64")
    return pd.DataFrame(
        {"count": count, "visits": visits, "invocations": visits, "errors": zero,
         "requests": visits},
        index=index,
    )  # fmt: skip


def plant_reset(
    target: Target,
    frame: pd.DataFrame,
    *,
    with_count_metric: bool = True,
    ddb: DynamoDBClient | None = None,
    cloudwatch: CloudWatchClient | None = None,
) -> int:
    """Create the target's table if missing, seed the frame's history (the count metric
    left out with `with_count_metric=False`), and set the live item to the frame's last
    count; returns that count."""
    if not target.is_sandbox:
        raise InvalidInputError("plant_reset plants a reset in the sandbox only.")
    ddb = ddb or aws.client("dynamodb")
    cloudwatch = cloudwatch or aws.client("cloudwatch")
    provision.create_table_if_missing(ddb, target.table, target.key_name, target.key_type)
    requests = seed.put_requests(
        frame,
        table=target.table,
        function_name=target.function_name or f"{target.table}-fn",
        api_id=target.api_id or "demoapi",
        namespace=target.metric_namespace,
        metric_name=target.metric_name,
    )
    if not with_count_metric:
        requests = [r for r in requests if r["Namespace"] != target.metric_namespace]
    metrics.put_metric_data(cloudwatch, requests, table=target.table)
    live = seed.last_count(frame)
    item = {**target.key, target.count_attribute: {"N": str(live)}}
    provision.put_item(ddb, target.table, item)
    return live


def demo_target(table: str, endpoint: str | None) -> Target:
    """The planted counter beside the sandbox's own: `<table>-recover-demo-<time>`, a new
    one each time (metrics cannot be deleted: a second history on the same table would mix
    with the first)."""
    name = f"{table}{DEMO_SUFFIX}-{dt.datetime.now(dt.timezone.utc):%H%M%S%f}"
    return Target(table=name, endpoint=endpoint, function_name=f"{name}-fn", api_id="demoapi")


def visit_times(frame: pd.DataFrame) -> list[pd.Timestamp]:
    """One time per visit of a frame's buckets: the first 20 s into its bucket, the others
    spread evenly over the rest of it (whole seconds)."""
    times: list[pd.Timestamp] = []
    for ts, n in zip(time_index(frame), frame["visits"], strict=True):
        step = (seed.BUCKET_S - 20) // max(int(n), 1)
        times += [ts + pd.Timedelta(seconds=20 + k * step) for k in range(int(n))]
    return times


def planted_demo(table: str, endpoint: str | None, *, days: float = 3) -> drill.Planted:
    """The demo's planted reset, written the drill's way on a throwaway table: 5,000
    visits, a reset to 0 six hours ago, 37 since (07_recover sets 5,037)."""
    target = demo_target(table, endpoint)
    frame = reset_frame(days, end=dt.datetime.now(dt.timezone.utc))
    reset_at = frame.index[reset_position(time_index(frame), DEFAULT_RESET_AGE)]
    ddb = aws.client("dynamodb")
    provision.create_table_if_missing(ddb, target.table, target.key_name, target.key_type)
    return drill.write_drill(
        target,
        frame[frame.index < reset_at][["visits"]],
        reset_at,
        visit_times(frame[frame.index >= reset_at]),
        names={"function_name": str(target.function_name), "api_id": str(target.api_id)},
        ddb=ddb,
        cloudwatch=aws.client("cloudwatch"),
    )


def plant_demo(table: str, endpoint: str | None, *, days: float = 3) -> Target:
    """`planted_demo`'s counter (what `runbook demo` recovers)."""
    return planted_demo(table, endpoint, days=days).target
