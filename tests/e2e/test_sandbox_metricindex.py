"""The sandbox's GetMetricData (sandbox.metricindex) answers exactly as moto's own, over HTTP.

GIVEN two sandbox servers as `start_server` starts them, one with the index (as `sandbox up`
starts it) and one with moto's own method (`plain_metrics=True`), seeded with the same data:
two days of the sandbox's history with a reset in it (StatisticValues, one datum per 5-minute
bucket), then visits one datum each (Values), as `runbook sandbox drill` writes them
WHEN the runbook's reads are made against both: 06's load_history (60, 300 and 3600 s),
07's count_minimum, 02's drop window (not aligned to the period), raw GetMetricData with
every statistic and both ScanBy orders
THEN every answer is the same. The in-process comparison on varied synthetic datums is
tests/unit/test_metricindex.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from runbook_lib.aws import metrics
from runbook_lib.sandbox import provision, seed
from runbook_lib.sandbox import server as sandbox
from runbook_lib.steps import history

NOW = pd.Timestamp("2024-05-01T12:00:00Z")  # a fixed past: every read sees the same data
RESET_AT = pd.Timestamp("2024-04-30T22:10:00Z")
NAMES = {"table": "idx-VisitorCount", "function_name": "idx-fn", "api_id": "idxapi"}


def _visits(table: str) -> list[dict[str, Any]]:
    """Visits after the seeded history, one datum each, as the drill publishes them."""
    dims = [{"Name": "TableName", "Value": table}]
    start = NOW - pd.Timedelta(minutes=50)
    return [
        {
            "MetricName": metrics.DEFAULT_METRIC_NAME,
            "Dimensions": dims,
            "Timestamp": (start + pd.Timedelta(seconds=97 * i)).to_pydatetime(),
            "Value": float(5000 + i),
            "Unit": "Count",
        }
        for i in range(25)
    ]


def _seed(url: str) -> Any:
    cw = provision.sandbox_client(url, sandbox.REGION, "cloudwatch")
    frame = seed.synthetic_history(2, end=NOW - pd.Timedelta(hours=1), reset_at=RESET_AT)
    seed.seed_history(cw, frame, **NAMES)
    cw.put_metric_data(Namespace=metrics.DEFAULT_NAMESPACE, MetricData=_visits(NAMES["table"]))
    return cw


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two servers of this module's own, seeded alike: moto's own method, the index."""
    logs = tmp_path_factory.mktemp("metricindex")
    pids, got = [], {}
    try:
        for name, plain in (("plain", True), ("indexed", False)):
            pid, url = sandbox.start_server(log_path=logs / f"{name}.log", plain_metrics=plain)
            pids.append(pid)
            got[name] = _seed(url)
        yield {**got, "logs": logs}
    finally:
        for pid in pids:
            sandbox.stop_pid(pid)


def _load(cw: Any, period: int, days: float = 2) -> history.History:
    return history.load_history(
        days,
        table=NAMES["table"],
        function_name=NAMES["function_name"],
        api_id=NAMES["api_id"],
        period=period,
        cloudwatch=cw,
        now=NOW,
    )


@pytest.mark.parametrize("period", [60, 300, 3600])
def test_06_history_reads_the_same_history(clients, period):
    plain, indexed = _load(clients["plain"], period), _load(clients["indexed"], period)
    pd.testing.assert_frame_equal(indexed.frame, plain.frame)
    assert indexed.resets == plain.resets and len(plain.resets) == 1  # the planted reset
    assert indexed.summary == plain.summary and plain.summary["count_points"] > 40


def test_07_count_minimum_is_the_same(clients):
    at = RESET_AT.floor("60s")
    got = [
        history.count_minimum(
            clients[name], NAMES["table"], metrics.DEFAULT_NAMESPACE, "ViewCount", at, 60
        )
        for name in ("plain", "indexed")
    ]
    pd.testing.assert_series_equal(got[1], got[0])
    assert len(got[0]) == 1


def test_raw_answers_are_the_same_for_every_statistic_and_order(clients):
    specs = [
        metrics.count_spec(NAMES["table"], id=f"c{stat.lower()}", stat=stat)
        for stat in metrics.STATS
    ] + metrics.default_specs(NAMES["table"], NAMES["function_name"], NAMES["api_id"])[1:]
    # 02's window: 24 hours back from a `now` that is not on a period's boundary
    start = (NOW - pd.Timedelta(hours=24, seconds=-17)).to_pydatetime()
    windows = [(start, NOW.to_pydatetime()), ((NOW - pd.Timedelta(days=2)).to_pydatetime(), NOW)]
    for (begin, end), period, order in (
        (w, p, o) for w in windows for p in (60, 300) for o in metrics.SCAN_ORDERS
    ):
        queries = metrics.build_queries(specs, period)
        answers = [
            clients[name].get_metric_data(
                MetricDataQueries=queries, StartTime=begin, EndTime=end, ScanBy=order
            )["MetricDataResults"]
            for name in ("plain", "indexed")
        ]
        assert answers[1] == answers[0], (begin, period, order)
        assert all(r["Values"] for r in answers[0])


def test_the_servers_are_the_two_kinds(clients):
    """The comparison compares something: each server says which method it answers with."""
    assert "GetMetricData: moto's own" in (clients["logs"] / "plain.log").read_text()
    indexed = (clients["logs"] / "indexed.log").read_text()
    assert "GetMetricData: one pass (sandbox.metricindex)" in indexed
    assert dt.datetime.now(dt.timezone.utc) > NOW  # the data is in the past of every read
