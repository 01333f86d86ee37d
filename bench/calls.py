"""AWS calls per runbook operation, counted with botocore's event hooks.

Every runbook module gets its clients from the one factory, `runbook_lib.aws.client`; while
`counting()` is active that factory registers `before-call` (one per API call, whatever
the retries), `before-send` (one per HTTP attempt) and `after-call`/`after-call-error` (an
answer about to reach its caller) on each new client.

Sequential depth is structural, never read from a clock (a loaded machine must not change
it): with `hold_until=N`, every answer is held back until N HTTP attempts have been sent.
An operation whose N requests are independent sends them all while no answer has been
consumed: depth 1. One that needs an answer before its next request cannot: its first
answer is released when the gate's safety timeout expires, with fewer than N requests out.
Attempts all sent from one thread are one after another by construction (a thread waits for
each answer): depth = attempts. The minimums are issue 6's: init 1, read 1, set 1 write + 1
read (the backup), status one round trip deep, history one GetMetricData call for every
window CloudWatch keeps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from runbook_lib import aws
from runbook_lib.aws import counter
from runbook_lib.aws.metrics import plan_calls
from runbook_lib.model import Target
from runbook_lib.steps import history, setcount, status

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
GET_METRIC_STATISTICS_MAX_POINTS = 1_440  # CloudWatch limit: data points per call
HISTORY_DAYS = (1, 15, 63, 455)
# Only reached when the requests are NOT all independent (the measured answer is then
# "depth > 1" whatever the machine's load); an operation of depth 1 never waits for it.
GATE_TIMEOUT_S = 20.0


@dataclass
class CallLog:
    """Calls seen, in order, as "service:Operation"; the thread of each HTTP attempt; how
    many attempts were out when the first answer reached its caller."""

    hold_until: int = 0  # hold answers until this many attempts are sent; 0: no gate
    calls: list[str] = field(default_factory=list)
    sends: list[int] = field(default_factory=list)
    sent_before_first_answer: int | None = None
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def before_call(self, model: Any, **_: Any) -> None:
        with self._cond:
            self.calls.append(f"{model.service_model.service_name}:{model.name}")

    def before_send(self, **_: Any) -> None:
        with self._cond:
            self.sends.append(threading.get_ident())
            self._cond.notify_all()

    def answered(self, **_: Any) -> None:
        """An answer is about to reach its caller: the first is held at the gate."""
        with self._cond:
            if self.sent_before_first_answer is None:
                if self.hold_until:
                    self._cond.wait_for(
                        lambda: (
                            len(self.sends) >= self.hold_until
                            or self.sent_before_first_answer is not None
                        ),
                        timeout=GATE_TIMEOUT_S,
                    )
                if self.sent_before_first_answer is None:
                    self.sent_before_first_answer = len(self.sends)
                    self._cond.notify_all()

    def depth(self) -> int:
        """Round trips made one after another (see the module docstring)."""
        attempts = len(self.sends)
        if len(set(self.sends)) <= 1:
            return attempts
        first = self.sent_before_first_answer or 0
        # all out before any answer: 1; otherwise at most one more round per late attempt
        return 1 if first >= attempts else 1 + attempts - first

    def summary(self) -> dict[str, Any]:
        ddb = [c.split(":", 1)[1] for c in self.calls if c.startswith("dynamodb:")]
        out = {
            "calls": len(self.calls),
            "writes": sum(1 for op in ddb if op in WRITES),
            "dynamodb_reads": sum(1 for op in ddb if op not in WRITES),
            "other": len(self.calls) - len(ddb),
            "http_attempts": len(self.sends),
            "operations": dict(Counter(self.calls)),
        }
        out["sequential_depth"] = self.depth()
        out["sent_before_first_answer"] = self.sent_before_first_answer
        return out


@contextlib.contextmanager
def counting(hold_until: int = 0) -> Iterator[CallLog]:
    """Count every call made by clients the runbook creates inside the block; with
    `hold_until`, answers are held until that many HTTP attempts have been sent."""
    log = CallLog(hold_until=hold_until)
    factory = aws.client

    def instrumented(service: str, sess: Any = None, **kwargs: Any) -> Any:
        made = factory(service, sess, **kwargs)
        made.meta.events.register("before-call.*.*", log.before_call)
        made.meta.events.register("before-send.*.*", log.before_send)
        made.meta.events.register("after-call.*.*", log.answered)
        made.meta.events.register("after-call-error.*.*", log.answered)
        return made

    aws.client = instrumented
    try:
        yield log
    finally:
        aws.client = factory


def _counted(fn: Callable[[], Any]) -> dict[str, Any]:
    """Calls made by fn, and its depth."""
    with counting() as log:
        fn()
    return log.summary()


def _gated(fn: Callable[[], Any]) -> dict[str, Any]:
    """A read-only fn run twice: once to count its HTTP attempts, then with every answer
    held until that many are out, which only independent requests can all reach."""
    with counting() as first:
        fn()
    with counting(hold_until=len(first.sends)) as log:
        fn()
    return log.summary()


def _verdict(measured: dict[str, Any], **minimum: int) -> dict[str, Any]:
    met = all(measured[key] <= value for key, value in minimum.items())
    return {**measured, "minimum": minimum, "met": met}


def counter_operations(target: Target, workdir: str) -> dict[str, Any]:
    """init (missing item, then existing), read, set (dry run and real), status."""
    counted = _counted
    init = counted(lambda: counter.init_counter(target, initial=5))
    init_again = counted(lambda: counter.init_counter(target, initial=5))
    read = counted(lambda: counter.read_count(target))
    set_kwargs = {"reason": "bench", "audit_path": f"{workdir}/audit.jsonl"}
    dry = counted(lambda: setcount.set_count(target, 42, **set_kwargs))
    real = counted(
        lambda: setcount.set_count(
            target, 42, dry_run=False, confirm=target.table, backup_dir=workdir, **set_kwargs
        )
    )
    report = _gated(lambda: status.run_status(target, terraform_dir=workdir))
    return {
        "init": _verdict(init, calls=1),
        "init_existing_item": _verdict(init_again, calls=1),
        "read": _verdict(read, calls=1),
        "set_dry_run": _verdict(dry, calls=1),
        "set": {
            **_verdict(real, writes=1, dynamodb_reads=1),
            "note": "minimum: the one conditional write and the backup's read; the STS "
            "call names the actor in the audit log",
        },
        "status": {
            **_verdict(report, sequential_depth=1, calls=6),
            "note": "DescribeTable, GetItem, DescribeContinuousBackups, ListBackups, "
            "DescribeAlarms and GetMetricData, all issued concurrently",
        },
    }


def history_calls(table: str, days: int, now: dt.datetime) -> dict[str, Any]:
    """load_history over `days` with the four contract metrics, against what
    GetMetricStatistics (one metric, at most 1,440 points per call) would need."""
    with counting() as log:
        got = history.load_history(
            days, table=table, function_name="bench-fn", api_id="bench-api", now=now
        )
    metrics = len(got.queries)
    points = history.points_per_metric(got.start, got.end, got.period)
    gms_calls = metrics * math.ceil(points / GET_METRIC_STATISTICS_MAX_POINTS)
    calls = log.summary()
    gmd_calls = calls["operations"].get("cloudwatch:GetMetricData", 0)
    minimum = plan_calls(points, metrics)
    return {
        "days": days,
        "period_s": got.period,
        "metrics": metrics,
        "points_per_metric": points,
        "get_metric_data_calls": gmd_calls,
        "sequential_depth": calls["sequential_depth"],
        "get_metric_data_calls_per_metric": round(gmd_calls / metrics, 3),
        "get_metric_statistics_calls_needed": gms_calls,
        "get_metric_statistics_calls_per_metric": gms_calls // metrics,
        "minimum": minimum,
        "met": gmd_calls <= minimum,
    }


def measure(ddb: Any, region: str, endpoint: str) -> dict[str, Any]:
    """Every count, on a fresh table of the moto server the process points at."""
    from bench import tables

    name = tables.create_table(ddb, f"bench-calls-{uuid.uuid4().hex[:8]}")
    target = Target(table=name, region=region, endpoint=endpoint)
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as workdir:
        out = counter_operations(target, workdir)
    now = dt.datetime.now(dt.timezone.utc)
    out["history"] = {str(d): history_calls(name, d, now) for d in HISTORY_DAYS}
    out["depth_measure"] = "structural: answers held until every request is out"
    ops = {k: v for k, v in out.items() if isinstance(v, dict) and k != "history"}
    out["met"] = all(v["met"] for v in ops.values()) and all(
        h["met"] for h in out["history"].values()
    )
    tables.delete_table(ddb, name)
    return out
