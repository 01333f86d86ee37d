"""plots under Agg: assertions on the Axes, not on pixels."""

from __future__ import annotations

import io

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from matplotlib import pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg

from runbook_lib.notebook import plots
from runbook_lib.sandbox import seed
from runbook_lib.steps.history import frame as historyframe

END = pd.Timestamp("2024-05-01T00:00:00Z")


@pytest.fixture
def frame_and_resets():
    raw = seed.synthetic_history(4, end=END, reset_at="2024-04-29T15:00:00Z")
    series = {c: raw[c].astype(float) for c in ("count", "invocations", "errors", "requests")}
    series["count"] = series["count"][raw["visits"] > 0]  # the gauge has gaps, as in CloudWatch
    frame = historyframe.to_frame(series, 300)
    return frame, historyframe.find_resets(frame)


def _reset_artists(ax):
    return [a for a in (*ax.lines, *ax.texts) if a.get_gid() == plots.RESET_GID]


def test_four_panels_share_one_time_axis(frame_and_resets):
    frame, resets = frame_and_resets
    fig = plots.history_figure(frame, resets)
    axes = fig.axes
    assert len(axes) == 4
    assert [ax.get_title(loc="left") for ax in axes] == list(plots.PANELS)
    shared = axes[0].get_shared_x_axes()
    assert all(shared.joined(axes[0], ax) for ax in axes[1:])
    assert axes[-1].get_xlabel() == "time (UTC)"
    assert [t.get_text() for t in axes[2].get_legend().get_texts()] == ["invocations", "errors"]


def test_resets_are_marked_in_red_and_annotated(frame_and_resets):
    frame, resets = frame_and_resets
    assert len(resets) == 1
    fig = plots.history_figure(frame, resets)
    ax_count = fig.axes[0]
    marks = _reset_artists(ax_count)
    lines = [a for a in marks if hasattr(a, "get_xdata")]
    texts = [a for a in marks if not hasattr(a, "get_xdata")]
    assert len(lines) == 2  # the vertical line and the marker
    assert all(matplotlib.colors.same_color(a.get_color(), plots.RESET_COLOR) for a in lines)
    assert [t.get_text() for t in texts] == [f"-{resets[0].drop:,.0f}"]
    assert "1 reset" in fig.get_suptitle()
    assert not any(_reset_artists(ax) for ax in fig.axes[1:])


def test_history_object_brings_its_own_resets(frame_and_resets):
    frame, resets = frame_and_resets
    hist = historyframe.History(frame, resets, 300, 1, {}, frame.index[0], frame.index[-1])
    fig = plots.history_figure(hist)
    assert len(_reset_artists(fig.axes[0])) == 3


def test_clean_history_has_no_reset_marks():
    raw = seed.synthetic_history(1, end=END).astype(float)
    fig = plots.history_figure(raw, [])
    assert _reset_artists(fig.axes[0]) == []
    assert "0 resets" in fig.get_suptitle()


def test_empty_frame_says_no_data_and_renders():
    fig = plots.history_figure(historyframe.to_frame({}, 60), [])
    assert len(fig.axes) == 4
    assert fig.axes[0].texts[0].get_text() == "no count data"
    FigureCanvasAgg(fig).draw()


def test_renders_under_agg_without_touching_pyplot(frame_and_resets):
    frame, resets = frame_and_resets
    before = plt.get_fignums()
    fig = plots.history_figure(frame, resets)
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == before  # nothing registered with pyplot


def test_rejects_what_it_cannot_plot():
    with pytest.raises(TypeError, match="History or a DataFrame"):
        plots.history_figure([1, 2, 3])
