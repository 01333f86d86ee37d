"""07_recover's evidence figure: the level before, the drop, the climb since, and the count it
proposes (or, the reset being repaired already, the live count that holds the repair). Object
API only (no pyplot), like `plots`.

The window is the reset and the hours after it, not the whole history read (06_history
shows that): from `LEAD` before the reset to now, at least `MIN_SPAN` long."""

from __future__ import annotations

from typing import Any

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure

from runbook_lib.notebook.plots import RESET_COLOR, RESET_GID, mpl_times
from runbook_lib.steps.history.frame import utc
from runbook_lib.steps.recover.estimate import RATE_WINDOW, Estimate, is_repaired

BEFORE_COLOR = "tab:blue"
RECOVERED_COLOR = "tab:green"
LEAD = RATE_WINDOW  # the hours before the reset whose visit rate sets the uncertainty
MIN_SPAN = pd.Timedelta(hours=6)  # a reset minutes ago still shows the level before it
MARGIN = 0.03  # of the span, right of now: the live and recovered marks are not cut in half


def plot_window(
    frame: pd.DataFrame, estimate: Estimate, now: Any = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end] of the figure: `LEAD` before the reset (or `MIN_SPAN` before now, if
    earlier) to now (default: the frame's last point); never before the frame's first point."""
    end = utc(now, "now") if now is not None else frame.index[-1]
    start = min(utc(estimate.reset_time, "reset_time") - LEAD, end - MIN_SPAN)
    if len(frame):
        start = max(start, frame.index[0])
    return start, end


def _in_window(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """The count points in the window, led by the last one before it placed at `start`: the
    step line enters at the level it had (a quiet spell before the reset has no points)."""
    count = frame["count"].dropna() if "count" in frame.columns else pd.Series(dtype="float64")
    inside = count[(count.index >= start) & (count.index <= end)]
    earlier = count[count.index < start]
    if len(earlier) and not (len(inside) and inside.index[0] == start):
        lead_in = pd.Series([earlier.iloc[-1]], index=pd.DatetimeIndex([start]))
        inside = pd.concat([lead_in, inside]) if len(inside) else lead_in
    return inside


def _count_line(ax: Any, count: pd.Series, estimate: Estimate) -> None:
    """The count level (steps) and a dotted line at the level before the reset."""
    if len(count):
        ax.plot(
            mpl_times(count.index),
            count.to_numpy(),
            color=BEFORE_COLOR,
            drawstyle="steps-post",
            linewidth=1.2,
            label=f"count ({estimate.source})",
        )
    else:
        ax.text(
            0.5,
            0.5,
            f"no count data: {estimate.source}",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="0.4",
        )
    ax.axhline(
        estimate.before,
        color=BEFORE_COLOR,
        linestyle=":",
        linewidth=1,
        label=f"level before: {estimate.before:,}",
    )


def _reset_mark(ax: Any, estimate: Estimate) -> None:
    when = mpl_times(pd.DatetimeIndex([estimate.reset_time]))[0]
    ax.axvline(when, color=RESET_COLOR, linestyle="--", linewidth=1, gid=RESET_GID)
    ax.annotate(
        f"reset: {estimate.before:,} -> {estimate.after:,}",
        xy=(when, estimate.after),
        xytext=(-6, 12),
        ha="right",
        textcoords="offset points",
        color=RESET_COLOR,
        fontweight="bold",
        gid=RESET_GID,
    )


def _recovered_mark(
    ax: Any, estimate: Estimate, live: int, end: pd.Timestamp, repaired: bool
) -> None:
    """The live count, and the recovered count with its uncertainty as an error bar; none
    when the reset is repaired already: the live count holds the repair, and before + (live
    - after) would count it twice."""
    at = mpl_times(pd.DatetimeIndex([end]))[0]
    if repaired:
        label = f"live: {live:,} (repaired already)"
        ax.plot([at], [live], marker="o", color=RECOVERED_COLOR, linestyle="none", label=label)
        return
    recovered = estimate.recovered(live)
    ax.plot([at], [live], marker="o", color="0.3", linestyle="none", label=f"live: {live:,}")
    ax.errorbar(
        [at],
        [recovered],
        yerr=[[0], [estimate.uncertainty]],
        marker="*",
        markersize=12,
        color=RECOVERED_COLOR,
        linestyle="none",
        capsize=4,
        label=f"recovered: {recovered:,} (+ up to {estimate.uncertainty})",
    )


def _time_axis(ax: Any, start: pd.Timestamp, end: pd.Timestamp) -> None:
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    left, right = mpl_times(pd.DatetimeIndex([start, end]))
    ax.set_xlim(left, right + (right - left) * MARGIN)
    ax.set_xlabel("time (UTC)")


def recovery_figure(
    frame: pd.DataFrame,
    estimate: Estimate,
    live: int | None = None,
    *,
    now: Any = None,
    repaired: bool | None = None,
    figsize: tuple[float, float] = (11, 4.5),
) -> Figure:
    """The count level around the reset (steps, `plot_window`), a dotted line at the level
    before it, the drop marked in red and, given the live count, the recovered count with its
    uncertainty as a bar, or the live count marked "repaired already".

    `repaired`: the `Recovery`'s; None works it out as 07_recover does (`is_repaired` on the
    same frame, estimate and live count), so the figure says what `Recovery.result()` says."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    start, end = plot_window(frame, estimate, now)
    _count_line(ax, _in_window(frame, start, end), estimate)
    _reset_mark(ax, estimate)
    if live is not None:
        if repaired is None:
            repaired = is_repaired(frame, estimate, live)
        _recovered_mark(ax, estimate, live, end, repaired)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("count")
    _time_axis(ax, start, end)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    fig.suptitle(
        "The reset, repaired already" if repaired else "The reset and the count to recover"
    )
    return fig
