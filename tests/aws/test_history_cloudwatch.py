"""history against CloudWatch: a moto server for the round trip, botocore's Stubber for paging.

moto's GetMetricData never pages and costs O(periods x data points in the window) per query,
so each test seeds its own window in the past (a fixed `now`) and unique dimension values:
tests sharing the session's server never see, or slow down, each other's data.
"""

from __future__ import annotations

import datetime as dt
import uuid

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber

from runbook_lib import aws
from runbook_lib.aws import metrics
from runbook_lib.errors import AccessDeniedError, InvalidInputError, ThrottledError
from runbook_lib.sandbox import seed
from runbook_lib.steps import history
from runbook_lib.steps.history import frame

HOUR = pd.Timedelta(hours=1)


@pytest.fixture
def cw(moto_url):
    return aws.client("cloudwatch")


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:10]
    return {"table": f"t-{tag}-VisitorCount", "function_name": f"fn-{tag}", "api_id": tag}


def _calls(client, operation="GetMetricData", event="before-call.monitoring"):
    """A list that grows by one per API call of `operation` (botocore event hook).

    The Stubber answers in its own before-call handler, which stops the chain there: count
    stubbed calls on `before-parameter-build.cloudwatch` instead."""
    made = []
    client.meta.events.register(f"{event}.{operation}", lambda **kw: made.append(1))
    return made


def _seeded(cw, names, now, days=14, **kwargs):
    frame = seed.synthetic_history(days, end=now, **kwargs)
    puts = _calls(cw, "PutMetricData")
    n = seed.seed_history(cw, frame, **names)
    assert n == len(puts) == len(seed.put_requests(frame, **names))
    return frame


def _expected_visits(frame):
    """Visits the history can see: positive steps between buckets that have data."""
    return frame["count"][frame["visits"] > 0].diff().clip(lower=0).sum()


def test_seeded_reset_is_found_with_its_size_and_time(cw, names):
    # GIVEN 14 days of history with a reset planted at 15:00 a day before `now`
    now = pd.Timestamp("2022-03-01T00:00:00Z")
    reset_at = pd.Timestamp("2022-02-28T15:00:00Z")
    frame = _seeded(cw, names, now, reset_at=reset_at)
    at = frame.index.get_loc(reset_at)

    # WHEN the last two days are read (1-minute period, as CloudWatch keeps them)
    calls = _calls(cw)
    hist = history.load_history(2, **names, cloudwatch=cw, now=now)

    # THEN exactly that reset is found, to the minute, with its size
    assert hist.period == 60
    assert len(hist.frame) == 2 * 1440
    # one call for the window, one at the finest period around the drop to date the reset
    assert hist.calls == len(calls) == metrics.plan_calls(2 * 1440, 4) + 1 == 2
    (reset,) = hist.resets
    assert reset.time == reset_at
    # after: the first count published at the low level (the bucket's Minimum), not the
    # bucket's Maximum, which holds the visits after it too
    first = frame["count"].iloc[at] - frame["visits"].iloc[at] + 1
    assert reset.before == frame["count"].iloc[at - 1]
    assert reset.after == first
    assert reset.drop == frame["count"].iloc[at - 1] - first
    assert hist.summary["reset_count"] == 1
    assert hist.summary["resets"][0]["time"] == reset_at.isoformat()
    # and the rest of the frame is what was seeded
    window = frame[frame.index >= now - 2 * pd.Timedelta(days=1)]
    assert hist.summary["last_count"] == seed.last_count(frame)
    assert hist.summary["invocations_total"] == window["invocations"].sum()
    assert hist.summary["errors_total"] == window["errors"].sum()
    assert hist.summary["requests_total"] == window["requests"].sum()
    assert hist.summary["visits_total"] == _expected_visits(window)


def test_fourteen_days_hourly_finds_the_same_reset(cw, names):
    now = pd.Timestamp("2022-04-01T00:00:00Z")
    reset_at = pd.Timestamp("2022-03-25T09:00:00Z")
    frame = _seeded(cw, names, now, reset_at=reset_at)
    calls = _calls(cw)
    hist = history.load_history(14, **names, cloudwatch=cw, now=now, period=3600)
    assert hist.calls == len(calls) == metrics.plan_calls(14 * 24, 4) + 1 == 2
    (reset,) = hist.resets
    hourly_max = frame["count"].resample("1h").max()
    # dated as the 60 s read dates it: the hour's bucket only found the drop
    assert reset.time == reset_at and reset.pinned
    assert reset.previous_time == reset_at - pd.Timedelta(minutes=5)
    assert reset.before == hourly_max[reset_at - HOUR]
    at = frame.index.get_loc(reset_at)
    assert reset.after == frame["count"].iloc[at] - frame["visits"].iloc[at] + 1
    assert hist.summary["points"] == 14 * 24


def test_clean_history_has_no_resets(cw, names):
    now = pd.Timestamp("2022-05-01T00:00:00Z")
    frame = _seeded(cw, names, now, days=3)
    hist = history.load_history(3, **names, cloudwatch=cw, now=now)
    assert hist.resets == []
    assert hist.summary["reset_count"] == 0
    assert hist.summary["last_count"] == seed.last_count(frame)
    assert hist.frame["count"].dropna().is_monotonic_increasing
    assert 12 <= hist.summary["busiest_hour_utc"] <= 17  # busy afternoons


def test_chunked_fetch_makes_plan_calls_calls_and_loses_nothing(cw, names):
    # GIVEN 36 queries over 2 days at 60 s: 103,680 points, over one call's 100,800
    now = pd.Timestamp("2022-06-01T00:00:00Z")
    _seeded(cw, names, now, days=2, visits_per_day=60)
    base = metrics.default_specs(names["table"], names["function_name"], names["api_id"])
    specs = [
        metrics.MetricSpec(f"{s.id}{i}", s.namespace, s.metric_name, s.dimensions, s.stat)
        for i in range(9)
        for s in base
    ]
    queries = metrics.build_queries(specs, 60)
    start, end = now - pd.Timedelta(days=2), now
    points = history.points_per_metric(start, end, 60)
    assert metrics.plan_calls(points, len(queries)) == 2

    calls = _calls(cw)
    chunked, _ = history.fetch(cw, queries, start, end)
    single, _ = history.fetch(cw, queries[:4], start, end)

    # THEN two calls, and the split at the chunk boundary neither loses nor repeats a point
    assert len(calls) == 2 + 1
    assert len(chunked) == 36
    for key in ("count", "invocations", "errors", "requests"):
        pd.testing.assert_series_equal(chunked[f"{key}0"], chunked[f"{key}8"], check_names=False)
        pd.testing.assert_series_equal(single[f"{key}0"], chunked[f"{key}5"], check_names=False)
    assert chunked["count0"].index.is_monotonic_increasing
    assert not chunked["count0"].index.has_duplicates


def test_scan_by_descending_gives_the_same_series(cw, names):
    now = pd.Timestamp("2022-07-01T00:00:00Z")
    _seeded(cw, names, now, days=1)
    queries = metrics.build_queries(metrics.default_specs(names["table"]), 300)
    start = now - pd.Timedelta(days=1)
    up, _ = history.fetch(cw, queries, start, now)
    down, _ = history.fetch(cw, queries, start, now, scan_by="TimestampDescending")
    pd.testing.assert_series_equal(up["count"], down["count"])
    assert str(up["count"].index.tz) == "UTC"
    with pytest.raises(InvalidInputError, match="TimestampAscending"):
        history.fetch(cw, queries, start, now, scan_by="newest")


def test_history_csv_round_trip(cw, names, tmp_path):
    now = pd.Timestamp("2022-08-01T00:00:00Z")
    _seeded(cw, names, now, days=1)
    hist = history.load_history(1, **names, cloudwatch=cw, now=now, period=300)
    path = hist.to_csv(tmp_path / "out" / "history.csv")
    back = pd.read_csv(path, index_col="timestamp", parse_dates=True)
    assert list(back.columns) == list(frame.COLUMNS)
    assert len(back) == len(hist.frame) == 288
    assert back["visits"].sum() == hist.frame["visits"].sum()
    assert hist.resets_table().empty


def test_missing_metrics_read_as_empty_not_an_error(cw, names):
    hist = history.load_history(
        1, **names, cloudwatch=cw, now=pd.Timestamp("2022-09-01T00:00:00Z"), period=3600
    )
    assert hist.resets == []
    assert hist.frame["count"].isna().all()
    assert hist.summary["count_points"] == 0 and hist.summary["last_count"] is None
    assert hist.summary["invocations_total"] == 0


@pytest.mark.slow
def test_fourteen_days_at_one_minute_in_one_call(cw, names):
    # the default period for 14 days is 60 s: 4 x 20,160 points, still one call.
    # Low traffic keeps moto (O(periods x points) per query) to a few seconds.
    now = pd.Timestamp("2022-10-01T00:00:00Z")
    reset_at = pd.Timestamp("2022-09-24T13:05:00Z")
    frame = _seeded(cw, names, now, reset_at=reset_at, visits_per_day=30)
    calls = _calls(cw)
    hist = history.load_history(14, **names, cloudwatch=cw, now=now)
    assert hist.period == 60
    assert hist.calls == len(calls) == metrics.plan_calls(14 * 1440, 4) + 1 == 2
    (reset,) = hist.resets
    assert reset.time == reset_at
    assert reset.after == frame["count"][reset_at]


# ---- paging and errors with botocore's Stubber (moto never returns a NextToken) -------------


@pytest.fixture
def stubbed():
    client = boto3.session.Session(
        aws_access_key_id="stub", aws_secret_access_key="stub", region_name="us-east-1"
    ).client("cloudwatch", config=aws.RETRY_CONFIG)
    with Stubber(client) as stub:
        yield client, stub
    stub.assert_no_pending_responses()


def _page(ids, stamps, values, token=None):
    resp = {
        "MetricDataResults": [
            {"Id": i, "Timestamps": stamps, "Values": values, "StatusCode": "PartialData"}
            for i in ids
        ],
        "Messages": [],
    }
    if token:
        resp["NextToken"] = token
    else:
        for result in resp["MetricDataResults"]:
            result["StatusCode"] = "Complete"
    return resp


def test_paging_follows_next_token_until_done(stubbed):
    client, stub = stubbed
    queries = metrics.build_queries(metrics.default_specs("t", "fn"), 60)
    ids = [q["Id"] for q in queries]
    start = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(minutes=6)
    t = [start + dt.timedelta(minutes=m) for m in range(6)]
    expected = {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    stub.add_response("get_metric_data", _page(ids, t[:2], [1.0, 2.0], "p2"), expected)
    stub.add_response(
        "get_metric_data", _page(ids, t[2:4], [3.0, 4.0], "p3"), {**expected, "NextToken": "p2"}
    )
    stub.add_response(
        "get_metric_data", _page(ids, t[4:], [5.0, 6.0]), {**expected, "NextToken": "p3"}
    )
    calls = _calls(client, event="before-parameter-build.cloudwatch")
    series, read = history.fetch(client, queries, start, end)
    assert read.calls == len(calls) == 3
    assert set(series) == set(ids)
    assert series["count"].tolist() == [1, 2, 3, 4, 5, 6]
    assert series["errors"].index[-1] == pd.Timestamp(t[-1])


def test_paging_in_descending_order_still_returns_oldest_first(stubbed):
    client, stub = stubbed
    queries = metrics.build_queries(metrics.default_specs("t"), 60)
    start = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    t = [start + dt.timedelta(minutes=m) for m in range(4)]
    stub.add_response("get_metric_data", _page(["count"], t[:1:-1], [4.0, 3.0], "x"), None)
    stub.add_response("get_metric_data", _page(["count"], t[1::-1], [2.0, 1.0]), None)
    series, _ = history.fetch(
        client, queries, start, start + dt.timedelta(minutes=4), scan_by="TimestampDescending"
    )
    assert series["count"].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("code", "error"), [("AccessDenied", AccessDeniedError), ("Throttling", ThrottledError)]
)
def test_client_errors_become_runbook_errors(stubbed, code, error):
    client, stub = stubbed
    stub.add_client_error("get_metric_data", service_error_code=code, service_message="no")
    with pytest.raises(error, match="GetMetricData"):
        history.load_history(
            1, table="t", cloudwatch=client, now=pd.Timestamp("2024-05-01T00:00:00Z")
        )
