"""history's pure functions: periods, queries, call planning, the frame, resets, summary."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runbook_lib.aws import metrics
from runbook_lib.errors import InvalidInputError
from runbook_lib.steps import history
from runbook_lib.steps.history import frame as historyframe
from runbook_lib.steps.reset import resets

NOW = pd.Timestamp("2024-06-01T12:00:00Z")
DAY = pd.Timedelta(days=1)
SECOND = pd.Timedelta(seconds=1)


def _series(values, start="2024-05-01T00:00:00Z", period=300, name=None):
    index = pd.date_range(start, periods=len(values), freq=f"{period}s", name="timestamp")
    s = pd.Series(values, index=index, dtype="float64", name=name)
    return s.dropna()


# ---- choose_period ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (pd.Timedelta(hours=1), 60),
        (15 * DAY, 60),
        (15 * DAY + SECOND, 300),
        (63 * DAY, 300),
        (63 * DAY + SECOND, 3600),
        (455 * DAY, 3600),
    ],
)
def test_auto_period_follows_the_age_of_the_start(age, expected):
    # GIVEN a window starting `age` ago WHEN no period is given THEN the retention tier picks it
    assert history.choose_period(NOW - age, NOW, now=NOW) == expected


def test_window_older_than_455_days_is_refused():
    with pytest.raises(InvalidInputError, match="455 days"):
        history.choose_period(NOW - 455 * DAY - SECOND, NOW, now=NOW)


def test_the_end_does_not_matter_only_the_start_age():
    # a short window far in the past still needs the coarse period
    start = NOW - 100 * DAY
    assert history.choose_period(start, start + pd.Timedelta(hours=2), now=NOW) == 3600


def test_naive_datetimes_are_utc():
    naive_now = dt.datetime(2024, 6, 1, 12)
    assert history.choose_period(naive_now - dt.timedelta(days=20), naive_now, naive_now) == 300


@pytest.mark.parametrize(
    ("age", "period"),
    [
        (pd.Timedelta(hours=1), 1),
        (pd.Timedelta(hours=1), 30),
        (pd.Timedelta(hours=3), 10),
        (2 * DAY, 60),
        (2 * DAY, 120),
        (15 * DAY, 3600),
        (20 * DAY, 600),
        (63 * DAY, 900),
        (400 * DAY, 7200),
    ],
)
def test_explicit_period_allowed_for_its_age(age, period):
    assert history.choose_period(NOW - age, NOW, now=NOW, period=period) == period


@pytest.mark.parametrize(
    ("age", "period", "message"),
    [
        (2 * DAY, 90, "multiple of 60 seconds"),
        (2 * DAY, 30, "high-resolution 1/5/10/30 s data is kept only 3 hours"),
        (pd.Timedelta(hours=1), 45, "1, 5, 10 or 30"),
        (20 * DAY, 60, "multiple of 300 seconds .1-minute data is kept 15 days"),
        (15 * DAY + SECOND, 120, "multiple of 300"),
        (100 * DAY, 300, "multiple of 3600 seconds .5-minute data is kept 63 days"),
        (DAY, 0, "positive whole number"),
        (DAY, -60, "positive whole number"),
        (DAY, 60.0, "positive whole number"),
        (DAY, True, "positive whole number"),
    ],
)
def test_explicit_bad_period_says_what_is_allowed(age, period, message):
    with pytest.raises(InvalidInputError, match=message):
        history.choose_period(NOW - age, NOW, now=NOW, period=period)


def test_bad_windows_are_refused():
    with pytest.raises(InvalidInputError, match="must be before end"):
        history.choose_period(NOW, NOW, now=NOW)
    with pytest.raises(InvalidInputError, match="in the future"):
        history.choose_period(NOW + DAY, NOW + 2 * DAY, now=NOW)
    with pytest.raises(InvalidInputError, match="not a date"):
        history.choose_period("yesterday-ish", NOW, now=NOW)


def test_align_window_floors_start_and_ceils_end():
    s, e = historyframe.align_window("2024-05-01T10:07:30Z", "2024-05-01T11:02:00Z", 300)
    assert s == pd.Timestamp("2024-05-01T10:05:00Z")
    assert e == pd.Timestamp("2024-05-01T11:05:00Z")
    assert history.points_per_metric(s, e, 300) == 12


# ---- queries ---------------------------------------------------------------------------------


def test_default_specs_and_queries_follow_the_metric_contract():
    specs = metrics.default_specs(
        "site-VisitorCount", "visitor-fn", "abc123", "VisitorCounter", "ViewCount"
    )
    queries = metrics.build_queries(specs, 300)
    by_id = {q["Id"]: q for q in queries}
    assert list(by_id) == ["count", "invocations", "errors", "requests"]
    assert all(q["ReturnData"] is True and q["MetricStat"]["Period"] == 300 for q in queries)
    count = by_id["count"]["MetricStat"]
    assert count["Stat"] == "Maximum"
    assert count["Metric"] == {
        "Namespace": "VisitorCounter",
        "MetricName": "ViewCount",
        "Dimensions": [{"Name": "TableName", "Value": "site-VisitorCount"}],
    }
    assert by_id["invocations"]["MetricStat"]["Metric"]["Namespace"] == "AWS/Lambda"
    assert by_id["errors"]["MetricStat"]["Metric"]["MetricName"] == "Errors"
    assert by_id["errors"]["MetricStat"]["Stat"] == "Sum"
    assert by_id["requests"]["MetricStat"]["Metric"] == {
        "Namespace": "AWS/ApiGateway",
        "MetricName": "Count",
        "Dimensions": [{"Name": "ApiId", "Value": "abc123"}],
    }


def test_specs_without_function_or_api_read_only_the_count():
    assert [s.id for s in metrics.default_specs("t")] == ["count"]
    with pytest.raises(InvalidInputError, match="table is required"):
        metrics.default_specs("")


def test_specs_and_queries_validate_early():
    with pytest.raises(InvalidInputError, match="lowercase letter"):
        metrics.MetricSpec("Count", "ns", "m", (), "Sum")
    with pytest.raises(InvalidInputError, match="Maximum, Minimum, Sum"):
        metrics.MetricSpec("c", "ns", "m", (), "max")
    spec = metrics.MetricSpec("c", "ns", "m", (), "Sum")
    with pytest.raises(InvalidInputError, match="repeated: c"):
        metrics.build_queries([spec, spec], 60)
    with pytest.raises(InvalidInputError, match="at least one"):
        metrics.build_queries([], 60)


# ---- plan_calls ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "n_metrics", "calls"),
    [
        (0, 4, 0),
        (1, 1, 1),
        (20_160, 4, 1),  # 14 days at 60 s, the four contract metrics: one call
        (21_600, 4, 1),  # 15 days at 60 s: 86,400 points
        (25_200, 4, 1),  # exactly 100,800
        (25_201, 4, 2),
        (100_800, 1, 1),
        (100_801, 1, 2),
        (21_600, 5, 2),  # 108,000 points
        (302_400, 1, 3),
        (10, 500, 1),
        (10, 501, 2),  # over 500 queries: a second request
        (202, 500, 2),  # 201 points x 500 metrics fit one call
    ],
)
def test_plan_calls(points, n_metrics, calls):
    assert metrics.plan_calls(points, n_metrics) == calls


@pytest.mark.parametrize("bad", [(-1, 4), (10, -1), (1.5, 4), (True, 4)])
def test_plan_calls_refuses_bad_input(bad):
    with pytest.raises(InvalidInputError, match="whole number"):
        metrics.plan_calls(*bad)


@given(points=st.integers(1, 400_000), n_metrics=st.integers(1, 1200))
def test_plan_calls_is_near_the_lower_bound(points, n_metrics):
    calls = metrics.plan_calls(points, n_metrics)
    total = points * n_metrics
    assert calls >= math.ceil(total / metrics.MAX_DATAPOINTS_PER_CALL)
    assert calls >= math.ceil(n_metrics / metrics.MAX_QUERIES_PER_CALL)
    if n_metrics <= metrics.MAX_QUERIES_PER_CALL and total <= metrics.MAX_DATAPOINTS_PER_CALL:
        assert calls == 1


@given(
    points=st.integers(1, 30_000),
    n_metrics=st.integers(1, 40),
    period=st.sampled_from([60, 300, 3600]),
)
def test_plan_chunks_cover_the_window_once_within_limits(points, n_metrics, period):
    start = pd.Timestamp("2024-01-01T00:00:00Z")
    end = start + pd.Timedelta(seconds=points * period)
    chunks = metrics.plan_chunks(start, end, period, n_metrics)
    assert len(chunks) == metrics.plan_calls(points, n_metrics)
    covered = 0
    for part, s, e in chunks:
        n = (e - s).total_seconds() / period
        assert n * (part.stop - part.start) <= metrics.MAX_DATAPOINTS_PER_CALL
        covered += n * (part.stop - part.start)
    assert covered == points * n_metrics  # every (period, metric) cell exactly once


# ---- to_frame --------------------------------------------------------------------------------


def test_to_frame_regular_grid_visits_and_sums():
    count = _series([10, 12, np.nan, np.nan, 15, 15, 20])
    inv = _series([np.nan, 2, np.nan, np.nan, 3, np.nan, 5])
    frame = historyframe.to_frame({"count": count, "invocations": inv}, 300)
    assert list(frame.columns) == ["count", "visits", "invocations", "errors", "requests"]
    assert len(frame) == 7
    assert (frame.index.to_series().diff().dropna() == pd.Timedelta(seconds=300)).all()
    assert str(frame.index.tz) == "UTC"
    assert frame["count"].isna().sum() == 2  # the gap stays a gap
    assert frame["visits"].tolist() == [0, 2, 0, 0, 3, 0, 5]
    assert frame["invocations"].tolist() == [0, 2, 0, 0, 3, 0, 5]  # Sum: no data is zero
    assert frame["errors"].isna().all()  # not read: unknown, not zero


def test_to_frame_spans_the_requested_window():
    count = _series([5, 6], start="2024-05-01T01:00:00Z", period=3600)
    frame = historyframe.to_frame(
        {"count": count, "requests": count * 0},
        3600,
        start="2024-05-01T00:00:00Z",
        end="2024-05-01T04:00:00Z",
    )
    assert len(frame) == 4
    assert frame["count"].isna().tolist() == [True, False, False, True]
    assert frame["requests"].tolist() == [0, 0, 0, 0]


def test_to_frame_snaps_off_grid_points_and_aggregates_by_kind():
    idx = pd.DatetimeIndex(["2024-05-01T00:00:10Z", "2024-05-01T00:00:50Z"])
    frame = historyframe.to_frame(
        {"count": pd.Series([3.0, 4.0], index=idx), "errors": pd.Series([1.0, 2.0], index=idx)},
        60,
    )
    assert len(frame) == 1
    assert frame["count"].iloc[0] == 4  # Maximum
    assert frame["errors"].iloc[0] == 3  # Sum


def test_to_frame_without_data_is_empty_with_columns():
    frame = historyframe.to_frame({"count": pd.Series(dtype="float64")}, 60)
    assert frame.empty
    assert list(frame.columns) == list(historyframe.COLUMNS)
    assert historyframe.find_resets(frame) == []
    summary = historyframe.summary(frame, [])
    json.dumps(summary)
    assert summary["points"] == 0 and summary["busiest_hour_utc"] is None


# ---- find_resets ---------------------------------------------------------------------------


def test_a_drop_is_a_reset_with_its_size_and_time():
    frame = historyframe.to_frame({"count": _series([100, 105, 110, 3, 4])}, 300)
    (reset,) = historyframe.find_resets(frame)
    assert reset.time == pd.Timestamp("2024-05-01T00:15:00Z")
    assert reset.previous_time == pd.Timestamp("2024-05-01T00:10:00Z")
    assert (reset.before, reset.after, reset.drop) == (110, 3, 107)
    assert frame["visits"].tolist() == [0, 5, 5, 0, 1]


def test_a_gap_is_not_a_reset():
    # GIVEN a count with hours of missing data between equal-or-higher levels
    frame = historyframe.to_frame({"count": _series([50, np.nan, np.nan, np.nan, 50, 52])}, 300)
    # THEN nothing is reported: missing data is not a drop to zero
    assert historyframe.find_resets(frame) == []
    assert frame["visits"].sum() == 2


def test_a_drop_across_a_gap_is_one_reset_dated_where_data_resumes():
    frame = historyframe.to_frame({"count": _series([50, 51, np.nan, np.nan, 2, 3])}, 300)
    (reset,) = historyframe.find_resets(frame)
    assert reset.time == pd.Timestamp("2024-05-01T00:20:00Z")
    assert reset.previous_time == pd.Timestamp("2024-05-01T00:05:00Z")
    assert reset.drop == 49


def test_every_drop_is_reported_and_flat_is_not():
    frame = historyframe.to_frame({"count": _series([10, 10, 4, 9, 9, 0, 1])}, 300)
    resets = historyframe.find_resets(frame)
    assert [(r.before, r.after, r.drop) for r in resets] == [(10, 4, 6), (9, 0, 9)]


# ---- summary -------------------------------------------------------------------------------


def _day_frame():
    """Two days at 5 min; visits mostly at 14:00 UTC, one error, requests > invocations."""
    index = pd.date_range("2024-05-01T00:00:00Z", periods=2 * 288, freq="300s", name="timestamp")
    visits = np.zeros(len(index))
    visits[index.hour == 14] = 2
    visits[index.hour == 3] = 1
    count = 1000 + np.cumsum(visits)
    errors = np.zeros(len(index))
    errors[10] = 1
    series = {
        "count": pd.Series(count, index=index),
        "invocations": pd.Series(visits + errors, index=index),
        "errors": pd.Series(errors, index=index),
        "requests": pd.Series(visits + errors + 1, index=index),
    }
    return historyframe.to_frame(series, 300), visits


def test_busiest_hour_is_the_utc_hour_with_most_visits():
    frame, _ = _day_frame()
    assert historyframe.busiest_hour(frame) == 14


def test_busiest_hour_ties_pick_the_earliest_and_quiet_is_none():
    index = pd.date_range("2024-05-01T00:00:00Z", periods=24, freq="3600s")
    frame = historyframe.to_frame({"count": pd.Series(np.arange(24.0), index=index)}, 3600)
    assert historyframe.busiest_hour(frame) == 1  # hour 0 has no step before it; 1..23 tie
    flat = historyframe.to_frame({"count": pd.Series(np.ones(24), index=index)}, 3600)
    assert historyframe.busiest_hour(flat) is None


def test_summary_is_json_serialisable_and_adds_up():
    frame, visits = _day_frame()
    frame.loc[frame.index[300], "count"] = 0  # plant a drop
    resets = historyframe.find_resets(frame)
    summary = historyframe.summary(frame, resets)
    back = json.loads(json.dumps(summary))
    assert back == summary
    assert summary["points"] == 576
    assert summary["busiest_hour_utc"] == 14
    assert summary["errors_total"] == 1
    assert summary["invocations_total"] == visits.sum() + 1
    assert summary["requests_total"] == visits.sum() + 1 + 576
    assert set(summary["visits_per_day"]) == {"2024-05-01", "2024-05-02"}
    assert summary["reset_count"] == 1 == len(summary["resets"])
    assert summary["resets"][0]["after"] == 0
    assert isinstance(summary["resets"][0]["time"], str)
    assert isinstance(summary["visits_total"], int)


# ---- a repaired reset: told, not a problem; the repair's jump is no visits ------------------


def _repaired_history():
    """A reset at 00:15 (110 -> 3), visits, then the runbook's repair at 00:32 (+110) seen in
    the 00:35 bucket (one visit with it)."""
    count = _series([100, 105, 110, 3, 4, 6, 6, 117, 118])
    frame = historyframe.to_frame({"count": count}, 300)
    repair = resets.Write(pd.Timestamp("2024-05-01T00:32:00Z"), 6, 116, resets.RECOVER, "r1")
    points = historyframe.count_points(frame)
    found = resets.settle(historyframe.find_resets(frame), points, [repair])
    frame = historyframe.exclude_jumps(frame, resets.own_jumps(found, [repair], points, 300), 300)
    start, end = frame.index[0], frame.index[-1] + pd.Timedelta("5min")
    hist = historyframe.History(frame, found, 300, 1, {}, start, end, now=end, writes=[repair])
    return hist, found


def test_a_repaired_reset_is_said_and_not_a_problem():
    hist, (reset,) = _repaired_history()

    assert reset.repaired and not hist.problem
    assert hist.verdict == (
        "OK: reset at 00:15 UTC (110 → 3), repaired at 00:32 UTC by 07_recover (+110, audit id "
        "r1), and the count metric climbed back; the count went from 100 to 118"
    )
    assert hist.resets_table()["repaired"].tolist() == [
        "repaired at 00:32 UTC by 07_recover (+110, audit id r1), and the count metric climbed back"
    ]
    assert hist.result()["resets"][0]["repair"]["audit_id"] == "r1"


def test_the_repairs_jump_is_not_counted_as_visits():
    hist, _ = _repaired_history()

    # visits: 5, 5, (reset), 1, 2, 0, 111 - 110, 1: the repair's +110 is the runbook's
    assert hist.frame["visits"].tolist() == [0, 5, 5, 0, 1, 2, 0, 1, 1]
    assert hist.result()["visits"] == 15
    assert hist.result()["busiest_hour_utc"] == 0


def test_an_open_reset_stays_a_problem_with_the_next_step():
    frame = historyframe.to_frame({"count": _series([100, 105, 110, 3, 4])}, 300)
    found = resets.settle(historyframe.find_resets(frame), historyframe.count_points(frame), [])
    end = frame.index[-1]
    hist = historyframe.History(frame, found, 300, 1, {}, frame.index[0], end, now=end)

    assert hist.problem
    assert hist.verdict.startswith("RESET: count dropped from 110 to 3 at 00:15 UTC; next: ")
    assert "runbook run 07_recover (dry run first)" in hist.verdict


def test_the_plot_marks_a_repaired_reset_in_gray_and_says_so():
    import matplotlib.colors

    from runbook_lib.notebook import plots

    hist, _ = _repaired_history()
    fig = plots.history_figure(hist)

    marks = [a for a in fig.axes[0].lines if a.get_gid() == plots.RESET_GID]
    assert marks and all(
        matplotlib.colors.same_color(a.get_color(), plots.REPAIRED_COLOR) for a in marks
    )
    texts = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == plots.RESET_GID]
    assert texts == ["-107 (repaired)"]
    assert fig.get_suptitle() == "Visitor count history: 1 reset (repaired)"
