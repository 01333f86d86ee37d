"""seed's synthetic history (pure) and the PutMetricData requests built from it."""

from __future__ import annotations

import pandas as pd
import pytest

from runbook_lib.aws import metrics
from runbook_lib.errors import InvalidInputError
from runbook_lib.sandbox import seed
from runbook_lib.steps.history import frame as historyframe

END = pd.Timestamp("2024-05-01T00:00:00Z")  # a Wednesday


def test_same_seed_same_frame_other_seed_other_frame():
    a = seed.synthetic_history(3, end=END, seed=1)
    pd.testing.assert_frame_equal(a, seed.synthetic_history(3, end=END, seed=1))
    assert not a.equals(seed.synthetic_history(3, end=END, seed=2))


def test_shape_columns_and_invariants():
    frame = seed.synthetic_history(14, end=END, start_count=500)
    assert len(frame) == 14 * 288
    assert list(frame.columns) == list(historyframe.COLUMNS)
    assert frame.index[-1] == END - pd.Timedelta(minutes=5)  # last bucket is complete
    assert str(frame.index.tz) == "UTC"
    assert frame["count"].is_monotonic_increasing
    assert frame["count"].iloc[0] == 500 + frame["visits"].iloc[0]
    assert seed.last_count(frame) == 500 + frame["visits"].sum()
    assert (frame["invocations"] == frame["visits"] + frame["errors"]).all()
    assert (frame["requests"] >= frame["invocations"]).all()
    assert 0 < (frame["errors"] > 0).sum() < 0.02 * len(frame)  # a few, on rare buckets


def test_daily_rhythm_quiet_nights_busy_afternoons_quieter_weekends():
    frame = seed.synthetic_history(28, end=END, seed=3)
    by_hour = frame["visits"].groupby(frame.index.hour).mean()
    assert by_hour[13:17].mean() > 5 * by_hour[0:5].mean()
    weekend = frame.index.dayofweek >= 5
    assert frame["visits"][weekend].mean() < 0.8 * frame["visits"][~weekend].mean()


def test_planted_reset_drops_to_zero_and_grows_again():
    when = pd.Timestamp("2024-04-29T15:02:00Z")  # inside the 15:00 bucket
    frame = seed.synthetic_history(3, end=END, reset_at=when)
    at = frame.index.get_loc(pd.Timestamp("2024-04-29T15:00:00Z"))
    assert frame["count"].iloc[at] == frame["visits"].iloc[at] >= 1
    assert frame["count"].iloc[at] < frame["count"].iloc[at - 1]
    assert frame["count"].iloc[at:].is_monotonic_increasing
    (reset,) = historyframe.find_resets(frame.astype(float))
    assert reset.time == frame.index[at]
    assert reset.drop == frame["count"].iloc[at - 1] - frame["count"].iloc[at]


@pytest.mark.parametrize("bad", ["2024-04-01", "2024-05-01T00:00:00Z"])
def test_reset_outside_the_window_is_refused(bad):
    with pytest.raises(InvalidInputError, match="outside the seeded window"):
        seed.synthetic_history(2, end=END, reset_at=bad)


@pytest.mark.parametrize("kwargs", [{"days": 0}, {"days": -1}, {"start_count": -5}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(InvalidInputError):
        seed.synthetic_history(**{"days": 1, **kwargs, "end": END})


def test_put_requests_batch_by_namespace_within_the_limit():
    frame = seed.synthetic_history(14, end=END, visits_per_day=1500)
    reqs = seed.put_requests(frame, table="t", function_name="fn", api_id="api")
    assert all(len(r["MetricData"]) <= metrics.MAX_DATUMS_PER_PUT for r in reqs)
    assert {r["Namespace"] for r in reqs} == {"VisitorCounter", "AWS/Lambda", "AWS/ApiGateway"}
    datums = {
        ns: [d for r in reqs if r["Namespace"] == ns for d in r["MetricData"]]
        for ns in ("VisitorCounter", "AWS/Lambda", "AWS/ApiGateway")
    }
    # as few calls as the limit allows
    expected = sum(-(-len(d) // metrics.MAX_DATUMS_PER_PUT) for d in datums.values())
    assert len(reqs) == expected
    # the gauge: one datum per bucket with visits, Max = the count, Min = first count in it
    gauge = datums["VisitorCounter"]
    assert len(gauge) == (frame["visits"] > 0).sum()
    busy = frame[frame["visits"] > 0]
    assert [d["StatisticValues"]["Maximum"] for d in gauge] == busy["count"].tolist()
    assert [d["StatisticValues"]["Minimum"] for d in gauge] == (
        busy["count"] - busy["visits"] + 1
    ).tolist()
    assert gauge[0]["Dimensions"] == [{"Name": "TableName", "Value": "t"}]
    # sums add up
    lam = datums["AWS/Lambda"]
    inv = sum(d["StatisticValues"]["Sum"] for d in lam if d["MetricName"] == "Invocations")
    err = sum(d["StatisticValues"]["Sum"] for d in lam if d["MetricName"] == "Errors")
    req = sum(d["StatisticValues"]["Sum"] for d in datums["AWS/ApiGateway"])
    assert (inv, err, req) == (
        frame["invocations"].sum(),
        frame["errors"].sum(),
        frame["requests"].sum(),
    )


def test_put_requests_needs_the_columns():
    with pytest.raises(InvalidInputError, match="lacks column"):
        seed.put_requests(pd.DataFrame({"count": [1]}), table="t", function_name="f", api_id="a")
    with pytest.raises(InvalidInputError, match="empty"):
        seed.last_count(pd.DataFrame({"count": []}))
