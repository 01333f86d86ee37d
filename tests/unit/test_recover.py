"""The estimation of 07_recover on pandas frames (no server): before, after, the visits since,
the uncertainty, the fallbacks, the choice of reset and whether it is repaired already."""

from __future__ import annotations

import matplotlib.dates as mdates
import pandas as pd
import pytest

from runbook_lib.model import Target
from runbook_lib.notebook import recoverplot
from runbook_lib.sandbox import recoverdemo, seed
from runbook_lib.steps.history import frame as historyframe
from runbook_lib.steps.recover import estimate as est

END = pd.Timestamp("2026-05-04T12:00:00Z")


def _planted(**kwargs) -> tuple[pd.DataFrame, list[historyframe.Reset]]:
    """The planted frame as 06_history would read it (5-minute points)."""
    raw = recoverdemo.reset_frame(3, end=END, **kwargs)
    frame = historyframe.to_frame({"count": raw["count"].astype(float)}, 300)
    return frame, historyframe.find_resets(frame)


def _minimum(raw_count: pd.Series, raw_visits: pd.Series) -> pd.Series:
    """The count's Minimum per bucket as seed publishes it (the first count in the bucket)."""
    return (raw_count - raw_visits + 1).astype(float)


def test_the_planted_reset_gives_before_after_and_5037():
    raw = recoverdemo.reset_frame(3, end=END)
    frame, (reset,) = _planted()

    estimate = est.from_counts(frame, reset, _minimum(raw["count"], raw["visits"]))

    assert (estimate.before, estimate.after, estimate.counted_since) == (5000, 0, 37)
    assert estimate.recovered(37) == 5037
    assert estimate.reset_time == END - pd.Timedelta(hours=6)
    assert estimate.source == est.COUNT_SOURCE
    # the gap is one 5-minute period; ~76 visits an hour before, ~6 after: a few visits
    assert 1 <= estimate.uncertainty <= 10
    assert estimate.uncertainty == est.uncertainty(estimate.rate_per_hour, pd.Timedelta("300s"))


def test_without_a_minimum_after_is_the_resets_period_and_recovered_a_lower_bound():
    raw = recoverdemo.reset_frame(3, end=END, since=40)
    frame, (reset,) = _planted(since=40)
    first_bucket = int(raw["count"][raw.index == reset.time].iloc[0])

    estimate = est.from_counts(frame, reset, None)

    assert estimate.after == first_bucket >= 1
    assert "lower bound" in estimate.after_from
    assert estimate.recovered(40) == 5040 - first_bucket < 5040


def test_the_uncertainty_grows_with_the_gap_and_the_rate():
    assert est.uncertainty(0.0, pd.Timedelta(hours=5)) == 0
    assert est.uncertainty(12.0, pd.Timedelta(minutes=5)) == 1
    assert est.uncertainty(12.0, pd.Timedelta(minutes=30)) == 6
    assert est.uncertainty(13.0, pd.Timedelta(minutes=30)) == 7  # 6.5 rounded up


def test_pick_reset_takes_the_latest_or_the_one_asked_for():
    t = pd.Timestamp("2026-05-01T00:00Z")
    early = historyframe.Reset(t, 100.0, 0.0, 100.0, t - pd.Timedelta("5min"))
    late = historyframe.Reset(
        t + pd.Timedelta(days=1), 50.0, 0.0, 50.0, t + pd.Timedelta("1435min")
    )

    assert est.pick_reset([early, late]) is late
    assert est.pick_reset([early, late], "2026-05-01T00:10") is early
    assert est.pick_reset([early, late], "2026-05-01T12:00") is None
    assert est.pick_reset([]) is None


def test_repaired_after_the_set_or_after_the_climb_back():
    raw = recoverdemo.reset_frame(3, end=END)
    frame, (reset,) = _planted()
    estimate = est.from_counts(frame, reset, _minimum(raw["count"], raw["visits"]))

    assert not est.is_repaired(frame, estimate, 37)
    assert not est.is_repaired(frame, estimate, 45)  # a few more visits are not a repair
    assert est.is_repaired(frame, estimate, 5037)
    # the Lambda published after the repair: one step up of the whole drop, live just above
    climbed = frame.copy()
    climbed.loc[END + pd.Timedelta("5min"), "count"] = 5038.0
    assert est.is_repaired(climbed, estimate, 5039)


def test_no_count_metric_falls_back_to_invocations_then_requests():
    raw = recoverdemo.reset_frame(3, end=END)
    when = END - pd.Timedelta(hours=6)
    sums = raw[["invocations", "errors", "requests"]].astype(float)
    frame = historyframe.to_frame({k: sums[k] for k in sums}, 300)

    assert est.from_sums(frame, None) is None, "without a reset time there is no drop to see"
    estimate = est.from_sums(frame, when)
    assert estimate.source == est.INVOCATIONS_SOURCE and "lower confidence" in estimate.source
    assert (estimate.before, estimate.after, estimate.counted_since) == (5000, 0, 37)
    assert estimate.recovered(37) == 5037

    only_requests = historyframe.to_frame({"requests": sums["requests"] + 1}, 300)
    estimate = est.from_sums(only_requests, when)
    assert estimate.source == est.REQUESTS_SOURCE and estimate.before > 5000

    assert est.from_sums(historyframe.to_frame({}, 300, start=when, end=END), when) is None


def test_errors_are_not_visits_in_the_fallback():
    raw = recoverdemo.reset_frame(3, end=END)
    sums = raw[["invocations", "errors"]].astype(float)
    sums["errors"] = 0.0
    sums.iloc[10, sums.columns.get_loc("errors")] = 3.0
    sums.iloc[10, sums.columns.get_loc("invocations")] += 3.0
    frame = historyframe.to_frame({k: sums[k] for k in sums}, 300)

    assert est.from_sums(frame, END - pd.Timedelta(hours=6)).before == 5000


def test_the_figures_table_names_each_number_its_time_and_source():
    raw = recoverdemo.reset_frame(3, end=END)
    frame, (reset,) = _planted()
    estimate = est.from_counts(frame, reset, _minimum(raw["count"], raw["visits"]))

    table = est.figures(estimate, 37, END)

    assert table.loc["recovered = before + (live - after)", "value"] == 5037
    assert table.loc["before: the count before the reset", "source"] == "count metric"
    assert table.loc["live: the count now", "time"] == "2026-05-04 12:00 UTC"
    assert list(table.columns) == ["figure", "value", "time", "source"][1:]
    assert est.REPAIRED_FIGURE not in table.index


def test_the_figures_table_has_one_header_row():
    """An index name renders as a second, empty header row in pandas' HTML (issue 20)."""
    frame, (reset,) = _planted()
    html = est.figures(est.from_counts(frame, reset, None), 37, END).to_html()

    header = html.split("<thead>")[1].split("</thead>")[0]
    assert header.count("<tr") == 1 and "<th>figure</th>" in header, header


def test_a_repaired_reset_shows_the_live_count_not_before_plus_live():
    """After a repair, before + (live - after) counts the repair twice (issue 20: 9,378)."""
    raw = recoverdemo.reset_frame(3, end=END)
    frame, (reset,) = _planted()
    estimate = est.from_counts(frame, reset, _minimum(raw["count"], raw["visits"]))
    assert est.is_repaired(frame, estimate, 5037)

    table = est.figures(estimate, 5037, END, repaired=True)

    assert est.RECOVERED_FIGURE not in table.index
    assert table.loc[est.REPAIRED_FIGURE, "value"] == table.loc[est.LIVE_FIGURE, "value"] == 5037
    assert table.loc["before: the count before the reset", "value"] == 5000


def _legend(fig) -> list[str]:
    (ax,) = fig.axes
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_plot_proposes_the_recovered_count_only_when_not_repaired():
    raw = recoverdemo.reset_frame(3, end=END)
    frame, (reset,) = _planted()
    estimate = est.from_counts(frame, reset, _minimum(raw["count"], raw["visits"]))
    up_to = estimate.uncertainty

    proposed = _legend(recoverplot.recovery_figure(frame, estimate, 37, now=END))
    repaired = _legend(recoverplot.recovery_figure(frame, estimate, 5037, now=END))
    told = _legend(recoverplot.recovery_figure(frame, estimate, 5037, now=END, repaired=False))

    assert proposed[-2:] == ["live: 37", f"recovered: 5,037 (+ up to {up_to})"]
    assert repaired == [
        "count (count metric)",
        "level before: 5,000",
        "live: 5,037 (repaired already)",
    ]
    assert told[-1] == f"recovered: 10,037 (+ up to {up_to})", "an explicit repaired is obeyed"
    assert len(_legend(recoverplot.recovery_figure(frame, estimate, None, now=END))) == 2


def _x_window(fig) -> tuple[pd.Timestamp, pd.Timestamp]:
    (ax,) = fig.axes
    left, right = (pd.Timestamp(mdates.num2date(x)) for x in ax.get_xlim())
    return left, right


@pytest.mark.parametrize(
    ("reset_age", "start_before_end"),
    [
        (pd.Timedelta(hours=6), pd.Timedelta(hours=9)),  # LEAD (3 h) before the reset
        (pd.Timedelta(minutes=30), recoverplot.MIN_SPAN),  # a recent reset: the minimum span
        (pd.Timedelta(days=2, hours=22), pd.Timedelta(days=3)),  # never before the data
    ],
)
def test_the_plot_shows_the_reset_and_the_hours_after_it_not_the_whole_window(
    reset_age, start_before_end
):
    raw = recoverdemo.reset_frame(3, end=END, reset_age=reset_age)
    frame = historyframe.to_frame({"count": raw["count"].astype(float)}, 300)
    (reset,) = historyframe.find_resets(frame)
    estimate = est.from_counts(frame, reset, None)
    now = frame.index[-1] + pd.Timedelta("5min")  # as 07 passes it: the history's end

    fig = recoverplot.recovery_figure(frame, estimate, 37, now=now)

    start = max(now - start_before_end, frame.index[0])
    assert recoverplot.plot_window(frame, estimate, now) == (start, now)
    left, right = _x_window(fig)
    assert abs(left - start) < pd.Timedelta("1s")
    assert now < right < now + (now - start) * 0.1, "a margin right of now for the marks"
    assert left < reset.time < right
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("count")]
    first = pd.Timestamp(mdates.num2date(mdates.date2num(line.get_xdata()[0])))
    assert abs(first - start) < pd.Timedelta("1s"), "the line enters at the window's start"
    assert line.get_ydata()[0] == frame["count"][frame.index <= start].iloc[-1]


def test_a_planted_reset_refuses_real_aws():
    real = Target(table="t-VisitorCount", endpoint=None)
    with pytest.raises(Exception, match="sandbox only"):
        recoverdemo.plant_reset(real, seed.synthetic_history(1, end=END))


def test_after_a_quiet_spell_the_line_enters_the_window_at_the_level_it_had():
    """No point at the window's start (nobody visited, nothing published): the step line
    still starts at the left edge, at the last level published before it."""
    raw = recoverdemo.reset_frame(3, end=END)
    frame = historyframe.to_frame({"count": raw["count"].astype(float)}, 300)
    (reset,) = historyframe.find_resets(frame)
    estimate = est.from_counts(frame, reset, None)
    start, now = recoverplot.plot_window(frame, estimate, END)
    quiet = (frame.index > start - pd.Timedelta(hours=1)) & (frame.index < reset.previous_time)
    frame.loc[quiet, "count"] = float("nan")

    fig = recoverplot.recovery_figure(frame, estimate, 37, now=now)

    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("count")]
    first = pd.Timestamp(mdates.num2date(mdates.date2num(line.get_xdata()[0])))
    assert abs(first - start) < pd.Timedelta("1s")
    assert line.get_ydata()[0] == frame["count"][frame.index <= start].dropna().iloc[-1]
    assert line.get_ydata()[1] == reset.before, "then the last point before the reset"
