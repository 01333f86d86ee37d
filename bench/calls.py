"""AWS calls per runbook operation, counted with botocore's event hooks.

Every runbook module gets its clients from the one factory, `runbook_lib.aws.client`; while
`counting()` is active that factory registers `before-call` (one per API call, whatever
the retries) and `before-send` (one per HTTP attempt) on each new client.

Sequential depth is measured, not inferred from threads: with `latency` set, every HTTP
attempt first waits that long (a before-send hook), and the time covered by those waits
(their union: concurrent waits overlap) divided by the latency is the number of round trips
made one after another. Local work (client creation, pandas) does not count. The minimums are
issue 6's: init 1, read 1, set 1 write + 1 read (the backup), status one round trip deep,
history one GetMetricData call for every window CloudWatch keeps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from runbook_lib import aws, counter, history, setcount, status
from runbook_lib.target import Target

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
GET_METRIC_STATISTICS_MAX_POINTS = 1_440  # CloudWatch limit: data points per call
HISTORY_DAYS = (1, 15, 63, 455)
DEPTH_LATENCY_S = 0.3  # per HTTP attempt while measuring depth: far above moto's few ms


@dataclass
class CallLog:
    """Calls seen, in order, as "service:Operation"; when each HTTP attempt started."""

    latency: float = 0.0
    calls: list[str] = field(default_factory=list)
    sends: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def before_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append(f"{model.service_model.service_name}:{model.name}")

    def before_send(self, **_: Any) -> None:
        with self._lock:
            self.sends.append(time.perf_counter())
        if self.latency:
            time.sleep(self.latency)

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
        if self.latency:
            out["sequential_depth"] = round(self.waited() / self.latency)
        return out

    def waited(self) -> float:
        """Seconds covered by at least one attempt's wait (overlapping waits count once)."""
        total, end = 0.0, float("-inf")
        for start in sorted(self.sends):
            stop = start + self.latency
            if stop > end:
                total += stop - max(start, end)
                end = stop
        return total


@contextlib.contextmanager
def counting(latency: float = 0.0) -> Iterator[CallLog]:
    """Count every call made by clients the runbook creates inside the block (each HTTP
    attempt delayed by `latency` seconds when given)."""
    log = CallLog(latency=latency)
    factory = aws.client

    def instrumented(service: str, sess: Any = None, **kwargs: Any) -> Any:
        made = factory(service, sess, **kwargs)
        made.meta.events.register("before-call.*.*", log.before_call)
        made.meta.events.register("before-send.*.*", log.before_send)
        return made

    aws.client = instrumented
    try:
        yield log
    finally:
        aws.client = factory


def _counted(fn: Callable[[], Any], latency: float = DEPTH_LATENCY_S) -> dict[str, Any]:
    """Calls made by fn, and its depth (fn runs under `latency` per attempt)."""
    with counting(latency) as log:
        fn()
    return log.summary()


def _verdict(measured: dict[str, Any], **minimum: int) -> dict[str, Any]:
    met = all(measured[key] <= value for key, value in minimum.items())
    return {**measured, "minimum": minimum, "met": met}


def counter_operations(target: Target, workdir: str, latency: float) -> dict[str, Any]:
    """init (missing item, then existing), read, set (dry run and real), status."""

    def counted(fn: Callable[[], Any]) -> dict[str, Any]:
        return _counted(fn, latency)

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
    report = counted(lambda: status.run_status(target, terraform_dir=workdir))
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


def history_calls(table: str, days: int, now: dt.datetime, latency: float) -> dict[str, Any]:
    """load_history over `days` with the four contract metrics, against what
    GetMetricStatistics (one metric, at most 1,440 points per call) would need."""
    with counting(latency) as log:
        got = history.load_history(
            days, table=table, function_name="bench-fn", api_id="bench-api", now=now
        )
    metrics = len(got.queries)
    points = history.points_per_metric(got.start, got.end, got.period)
    gms_calls = metrics * math.ceil(points / GET_METRIC_STATISTICS_MAX_POINTS)
    calls = log.summary()
    gmd_calls = calls["operations"].get("cloudwatch:GetMetricData", 0)
    minimum = history.plan_calls(points, metrics)
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


def measure(
    ddb: Any, region: str, endpoint: str, latency: float = DEPTH_LATENCY_S
) -> dict[str, Any]:
    """Every count, on a fresh table of the moto server the process points at; depths
    measured with `latency` seconds added to every HTTP attempt."""
    from bench import tables

    name = tables.create_table(ddb, f"bench-calls-{uuid.uuid4().hex[:8]}")
    target = Target(table=name, region=region, endpoint=endpoint)
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as workdir:
        out = counter_operations(target, workdir, latency)
    now = dt.datetime.now(dt.timezone.utc)
    out["history"] = {str(d): history_calls(name, d, now, latency) for d in HISTORY_DAYS}
    out["depth_latency_s"] = latency
    ops = {k: v for k, v in out.items() if isinstance(v, dict) and k != "history"}
    out["met"] = all(v["met"] for v in ops.values()) and all(
        h["met"] for h in out["history"].values()
    )
    tables.delete_table(ddb, name)
    return out
