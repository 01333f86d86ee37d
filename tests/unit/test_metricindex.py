"""sandbox.metricindex's GetMetricData against moto's own, in-process, on the same backend.

GIVEN one moto CloudWatch backend holding a varied, seeded set of datums (single values,
Values with Counts, StatisticValues; non-integer floats, so the order of a sum shows;
timestamps on and between period boundaries; two-dimension sets in either order; the same
name and dimensions in two namespaces, which moto's dimension match does not tell apart;
units)
WHEN the same GetMetricData is asked of moto's method and of the index's
THEN both answer exactly the same (==, floats included), for every statistic, period,
window, ScanBy, Label, ReturnData and Unit tried; the validation errors are the same; and
an expression query goes to moto's method. The same comparison over HTTP, on the sandbox's
seeded history: tests/aws/test_sandbox_metricindex.py.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend

from runbook_lib.sandbox import metricindex

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
SPAN = dt.timedelta(hours=6)  # moto's own method is O(periods x datums): kept small
DIMS = {
    "table": [{"Name": "TableName", "Value": "t1"}],
    "table2": [{"Name": "TableName", "Value": "t2"}],
    "fn": [{"Name": "FunctionName", "Value": "f"}],
    "two": [{"Name": "A", "Value": "1"}, {"Name": "B", "Value": "2"}],
    "two_swapped": [{"Name": "B", "Value": "2"}, {"Name": "A", "Value": "1"}],
    "none": [],
}
METRICS = [  # (namespace, name, dimensions)
    ("VisitorCounter", "ViewCount", "table"),
    ("VisitorCounter", "ViewCount", "table2"),
    ("Other", "ViewCount", "table"),  # same name and dims, other namespace
    ("AWS/Lambda", "Invocations", "fn"),
    ("AWS/Lambda", "Errors", "fn"),
    ("Multi", "M", "two"),
    ("Multi", "M", "two_swapped"),
    ("Bare", "B", "none"),
]
STATS = ("Maximum", "Minimum", "Sum", "Average", "SampleCount")


def _timestamp(rng: random.Random) -> dt.datetime:
    if rng.random() < 0.2:  # exactly on a minute: a period's first instant
        return T0 + dt.timedelta(minutes=rng.randrange(int(SPAN.total_seconds() // 60)))
    return T0 + dt.timedelta(microseconds=rng.randrange(int(SPAN.total_seconds() * 1e6)))


def _datum(rng: random.Random, name: str, dims: str) -> dict[str, Any]:
    datum: dict[str, Any] = {
        "MetricName": name,
        "Dimensions": DIMS[dims],
        "Timestamp": _timestamp(rng),
        "Unit": rng.choice(["Count", "Count", "Seconds"]),
    }
    kind = rng.randrange(3)
    if kind == 0:
        datum["Value"] = rng.uniform(-5, 1e6)
    elif kind == 1:
        datum["Values"] = [rng.uniform(0, 10) for _ in range(rng.randint(1, 3))]
        datum["Counts"] = [rng.randint(1, 3) for _ in datum["Values"]]
    else:
        low = rng.uniform(0, 100)
        high = low + rng.uniform(0, 100)
        n = rng.randint(1, 20)
        datum["StatisticValues"] = {
            "SampleCount": n,
            "Sum": rng.uniform(low * n, high * n),
            "Minimum": low,
            "Maximum": high,
        }
    return datum


@pytest.fixture(scope="module")
def backend() -> CloudWatchBackend:
    rng = random.Random(20240501)
    cw = CloudWatchBackend("us-east-1", "123456789012")
    for _ in range(30):  # 30 requests of up to 30 datums, metrics interleaved
        namespace = rng.choice(METRICS)[0]
        same_namespace = [m for m in METRICS if m[0] == namespace]
        batch = []
        for _ in range(rng.randint(1, 30)):
            _, name, dims = rng.choice(same_namespace)
            batch.append(_datum(rng, name, dims))
        cw.put_metric_data(namespace, batch)
    return cw


def _query(i: int, metric: tuple[str, str, str], stat: str, period: int, **extra) -> dict:
    namespace, name, dims = metric
    metric_stat: dict[str, Any] = {
        "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": DIMS[dims]},
        "Period": str(period),
        "Stat": stat,
    }
    if "unit" in extra:
        metric_stat["Unit"] = extra.pop("unit")
    return {"Id": f"q{i}", "MetricStat": metric_stat, **extra}


def _both(cw: CloudWatchBackend, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    metricindex.uninstall()
    try:
        plain = CloudWatchBackend.get_metric_data(cw, *args, **kwargs)
        metricindex.install()
        indexed = CloudWatchBackend.get_metric_data(cw, *args, **kwargs)
    finally:
        metricindex.uninstall()
    return plain, indexed


def _windows(period: int) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    short = (T0 + dt.timedelta(minutes=7), T0 + dt.timedelta(minutes=9, seconds=30))
    if period < 60:  # a second's periods over hours would take moto's method minutes
        yield short
        return
    yield T0, T0 + SPAN  # the whole data
    yield T0 - dt.timedelta(hours=1), T0 + SPAN + dt.timedelta(hours=1)  # wider
    yield T0 + dt.timedelta(hours=1, seconds=17, microseconds=999), T0 + dt.timedelta(hours=5)
    yield short


@pytest.mark.parametrize("period", [1, 60, 300, 3600, 86400])
def test_every_statistic_and_window_answers_as_moto_does(backend, period):
    queries = [
        _query(i, metric, stat, period)
        for i, (metric, stat) in enumerate(itertools.product(METRICS, STATS))
    ]
    for (start, end), scan_by in itertools.product(
        _windows(period), ("TimestampAscending", "TimestampDescending")
    ):
        plain, indexed = _both(backend, queries, start, end, scan_by)
        assert indexed == plain
        assert any(r["values"] for r in plain)  # the comparison is not between empties


def test_labels_return_data_units_and_missing_metrics_as_moto(backend):
    metric = METRICS[0]
    queries = [
        _query(0, metric, "Sum", 60, Label="count level"),
        _query(1, metric, "Maximum", 300, ReturnData=False),
        _query(2, metric, "Sum", 300, unit="Seconds"),
        _query(3, metric, "Sum", 300, unit="Bytes"),  # no datum has it
        _query(4, ("VisitorCounter", "ViewCount", "fn"), "Maximum", 60),  # no such metric
        _query(5, ("Multi", "M", "two_swapped"), "Sum", 600),
    ]
    plain, indexed = _both(backend, queries, T0, T0 + SPAN, "TimestampDescending")
    assert indexed == plain
    assert [r["id"] for r in indexed] == ["q0", "q2", "q3", "q4", "q5"]


def test_refusals_are_moto_own(backend):
    queries = [_query(0, METRICS[0], "Sum", 60)]
    for start, end in ((T0 + SPAN, T0), (T0, T0 + dt.timedelta(microseconds=5))):
        errors = []
        for install in (False, True):
            (metricindex.install if install else metricindex.uninstall)()
            try:
                with pytest.raises(ValidationError) as caught:
                    backend.get_metric_data(queries, start, end)
                errors.append(caught.value.message)
            finally:
                metricindex.uninstall()
        assert errors[0] == errors[1]


def test_an_expression_goes_to_moto_own_method(backend):
    queries = [
        _query(0, METRICS[3], "Sum", 300, ReturnData=False),
        {"Id": "e1", "Expression": "q0 * 2", "Label": "twice"},
    ]
    plain, indexed = _both(backend, queries, T0, T0 + SPAN, "TimestampAscending")
    assert indexed == plain and [r["id"] for r in indexed] == ["e1"]


def test_install_is_idempotent_and_uninstall_restores_moto():
    original = CloudWatchBackend.get_metric_data
    metricindex.install()
    metricindex.install()
    try:
        assert CloudWatchBackend.get_metric_data is metricindex.get_metric_data
    finally:
        metricindex.uninstall()
    assert CloudWatchBackend.get_metric_data is original
