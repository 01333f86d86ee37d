"""`runbook sandbox drill`: a realistic reset planted on the sandbox's own counter, to
practise the incident on (02_status, 07_recover dry run, 07_recover confirmed, 02 again).

What it writes, in the order production would have written it (`drillplan` says when):

1. the visits before the reset: ONE UpdateItem ADD of their number on the live item (the
   sum of as many Lambda visits), and their history as `sandbox up` seeds it (the count
   gauge, AWS/Lambda Invocations, AWS/ApiGateway Count: one aggregated datum per 5 minutes);
2. the reset, as `terraform apply` writes it: a PutItem of the whole item with the value the
   configuration holds (the guide's `aws_dynamodb_table_item`: viewCount = 0), which is what
   the AWS provider sends for that resource;
3. the visits since: each one the Lambda's own request (`counter.increment`: UpdateItem
   `ADD #c :by` with 1, ReturnValues UPDATED_NEW), and, as the Lambda publishes after each,
   the count it returned as one gauge datum, one Invocation and one API request, stamped
   with the visit's time.

Sandbox only: the endpoint must be on loopback (refused otherwise, before any request).
`recoverdemo.plant_demo` plants its throwaway counter through `write_drill` too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from runbook_lib.aws import counter, metrics
from runbook_lib.aws import provision as aws_provision
from runbook_lib.aws.endpoint import is_sandbox
from runbook_lib.aws.types import CloudWatchClient, DynamoDBClient
from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target
from runbook_lib.sandbox import drillplan, seed
from runbook_lib.sandbox import provision as sandbox_provision
from runbook_lib.sandbox.server import SandboxInfo
from runbook_lib.steps.history.frame import utc

RESET_VALUE = 0  # the guide's item: `viewCount = 0`, written back by every apply


@dataclass(frozen=True)
class Planted:
    """What a drill planted; `expected_recovered` is what 07_recover should set."""

    target: Target
    history_from: pd.Timestamp  # the first planted bucket (the quiet time's start)
    reset_at: pd.Timestamp
    before_visits: int  # visits planted before the reset
    before: int  # the count the reset wrote over: the last count published before it
    reset_value: int
    since: int  # visits after the reset
    live: int  # the count the last visit left
    last_visit_at: pd.Timestamp

    @property
    def expected_recovered(self) -> int:
        return self.before + (self.live - self.reset_value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.target.table,
            "history_from": self.history_from.isoformat(),
            "reset_at": self.reset_at.isoformat(),
            "before_visits": self.before_visits,
            "before": self.before,
            "reset_value": self.reset_value,
            "since": self.since,
            "live": self.live,
            "last_visit_at": self.last_visit_at.isoformat(),
            "expected_recovered": self.expected_recovered,
        }

    def lines(self) -> list[str]:
        """What was planted, in the words of the incident."""
        t, attr = self.target, self.target.count_attribute
        return [
            f"  history  {self.before_visits} visits from {self.history_from:%Y-%m-%d %H:%M} UTC "
            "on top of the count there was (one UpdateItem ADD, their metrics as seeded)",
            f"  before   {self.before:,}: the count the reset wrote over",
            f"  reset    {self.reset_at:%Y-%m-%d %H:%M} UTC: PutItem {t.key_label} with {attr} = "
            f"{self.reset_value}, as `terraform apply` writes an aws_dynamodb_table_item",
            f"  since    {self.since} visits, each the Lambda's UpdateItem ADD and its metrics, "
            f"until {self.last_visit_at:%H:%M} UTC: the live count is {self.live:,}",
            f"  expect   07_recover sets {self.before:,} + ({self.live:,} - {self.reset_value}) = "
            f"{self.expected_recovered:,}",
        ]


def last_datum(
    cloudwatch: CloudWatchClient, target: Target, names: dict[str, str], now: pd.Timestamp
) -> pd.Timestamp | None:
    """The time of the counter's latest datum in the LOOKBACK before now (any of the four
    metrics), to the minute; None when there is none."""
    specs = metrics.default_specs(
        target.table, names["function_name"], names["api_id"], target.metric_namespace,
        target.metric_name,
    )  # fmt: skip
    start = now.floor(drillplan.BUCKET_FREQ) - drillplan.LOOKBACK
    end = now.floor("60s") + pd.Timedelta(seconds=60)
    data = metrics.get_metric_data(
        cloudwatch,
        metrics.build_queries(specs, 60),
        start.to_pydatetime(),
        end.to_pydatetime(),
        table=target.table,
    )
    stamps = [utc(t) for points in data.points.values() for t, _ in points]
    return max(stamps) if stamps else None


def _before_frame(before: pd.DataFrame, top: int) -> pd.DataFrame:
    """The before buckets in seed's columns, the count ending at `top` (the ADD's answer)."""
    visits = before["visits"].astype("int64")
    count = top - int(visits.sum()) + visits.cumsum()
    zero = visits * 0
    return pd.DataFrame(
        {"count": count, "visits": visits, "invocations": visits, "errors": zero,
         "requests": visits},
        index=before.index,
    )  # fmt: skip


def _visit_requests(
    target: Target, names: dict[str, str], visits: Sequence[tuple[pd.Timestamp, int]]
) -> list[dict[str, Any]]:
    """PutMetricData requests for single visits: what the Lambda's EMF line and the
    services publish for each (one datum per visit and metric)."""

    def datum(name: str, dims: list[dict[str, str]], ts: pd.Timestamp, value: float) -> dict:
        return {
            "MetricName": name,
            "Dimensions": dims,
            "Timestamp": ts.to_pydatetime(),
            "Value": float(value),
            "Unit": "Count",
        }

    table = [{"Name": "TableName", "Value": target.table}]
    fn = [{"Name": "FunctionName", "Value": names["function_name"]}]
    api = [{"Name": "ApiId", "Value": names["api_id"]}]
    per_namespace = {
        target.metric_namespace: [datum(target.metric_name, table, t, n) for t, n in visits],
        "AWS/Lambda": [datum("Invocations", fn, t, 1) for t, _ in visits],
        "AWS/ApiGateway": [datum("Count", api, t, 1) for t, _ in visits],
    }
    size = metrics.MAX_DATUMS_PER_PUT
    return [
        {"Namespace": ns, "MetricData": datums[i : i + size]}
        for ns, datums in per_namespace.items()
        for i in range(0, len(datums), size)
    ]


def write_drill(
    target: Target,
    before: pd.DataFrame,
    reset_at: pd.Timestamp,
    after: Sequence[pd.Timestamp],
    *,
    names: dict[str, str],
    ddb: DynamoDBClient,
    cloudwatch: CloudWatchClient,
    reset_value: int = RESET_VALUE,
) -> Planted:
    """Write a planned reset (see the module): visits before, the reset's PutItem, visits
    since. `before`: 5-minute buckets with a `visits` column; `after`: one time per visit."""
    if not target.is_sandbox:
        raise InvalidInputError("A drill plants a reset in the sandbox only (loopback).")
    if before.empty or not after:
        raise InvalidInputError("A drill needs history before the reset and a visit after it.")
    top = counter.increment(target, int(before["visits"].sum()), ddb=ddb)
    frame = _before_frame(before, top)
    metrics.put_metric_data(
        cloudwatch,
        seed.put_requests(
            frame,
            table=target.table,
            namespace=target.metric_namespace,
            metric_name=target.metric_name,
            **names,
        ),
        table=target.table,
    )
    item = {**target.key, target.count_attribute: {"N": str(reset_value)}}
    aws_provision.put_item(ddb, target.table, item)  # the apply: the whole item, unconditional
    visits = [(t, counter.increment(target, 1, ddb=ddb)) for t in after]
    metrics.put_metric_data(cloudwatch, _visit_requests(target, names, visits), table=target.table)
    return Planted(
        target=target,
        history_from=before.index[0],
        reset_at=reset_at,
        before_visits=int(before["visits"].sum()),
        before=top,
        reset_value=reset_value,
        since=len(visits),
        live=visits[-1][1],
        last_visit_at=visits[-1][0],
    )


def drill(info: SandboxInfo, *, now: Any = None, log: Callable[[str], None] = print) -> Planted:
    """Plant the drill on the running sandbox's own counter (the table `sandbox up` made)."""
    if not is_sandbox(info.url):
        raise InvalidInputError(
            f"runbook sandbox drill plants a reset in the sandbox only, and {info.url} is not "
            "on loopback: nothing was written."
        )
    now_ts = utc(now if now is not None else pd.Timestamp.now(tz="UTC"), "now")
    target = sandbox_provision.sandbox_target(info.url, info.region, info.outputs)
    names = sandbox_provision.history_names(target)
    # Any: one service per key, each its own client type (a dict holds only their union)
    clients: dict[str, Any] = {
        s: sandbox_provision.sandbox_client(info.url, info.region, s)
        for s in ("dynamodb", "cloudwatch")
    }
    latest = last_datum(clients["cloudwatch"], target, names, now_ts)
    plan = drillplan.plan(now_ts, latest)  # refused here when there is no room: nothing written
    planted = write_drill(
        target,
        plan.before,
        plan.reset_at,
        plan.after,
        names=names,
        ddb=clients["dynamodb"],
        cloudwatch=clients["cloudwatch"],
    )
    log(f"Planted a reset on the sandbox's counter {target.table} ({info.url}):")
    for line in planted.lines():
        log(line)
    return planted


def commands(table: str) -> list[str]:
    """The drill's steps, one command each."""
    return [
        "runbook run 02_status",
        "runbook run 07_recover",
        f"runbook run 07_recover -p dry_run False -p confirm {table}",
        "runbook run 02_status",
    ]


STEP_NOTES = (
    "exit 3: the drop, and what to do",
    "a dry run: before, after, live, the recovered count; exit 3",
    "the write: backup, one compare-and-set, audit record, undo commands; exit 0",
    "again: the repaired count",
)


def next_steps(planted: Planted) -> list[str]:
    """The drill's commands, as `runbook sandbox drill` prints them."""
    lines = ['The drill, in a shell pointed at the sandbox (eval "$(runbook sandbox env)"):']
    for i, (cmd, note) in enumerate(
        zip(commands(planted.target.table), STEP_NOTES, strict=True), 1
    ):
        lines.append(f"  {i}. {cmd}")
        lines.append(f"       {note}")
    lines.append("Again: runbook sandbox down && runbook sandbox up, then runbook sandbox drill.")
    return lines


def run_command(info: SandboxInfo) -> int:
    """`runbook sandbox drill`: plant, then print the steps (a refusal raises: exit 2)."""
    planted = drill(info, log=print)
    print("\n".join(["", *next_steps(planted)]))
    return 0
