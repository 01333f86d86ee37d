"""07_recover's evidence figure: the level before, the drop, the climb since, and the count it
proposes. Object API only (no pyplot), like `plots`."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from runbook_lib.notebook.plots import RESET_COLOR, RESET_GID, mpl_times
from runbook_lib.steps.recoverest import Estimate

BEFORE_COLOR = "tab:blue"
RECOVERED_COLOR = "tab:green"


def _count_line(ax: Any, frame: pd.DataFrame, estimate: Estimate) -> None:
    """The count level (steps) and a dotted line at the level before the reset."""
    count = frame["count"] if "count" in frame.columns else pd.Series(dtype="float64")
    valid = count.notna().to_numpy()
    if valid.any():
        ax.plot(
            mpl_times(frame.index)[valid],
            count.to_numpy()[valid],
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


def _recovered_mark(ax: Any, estimate: Estimate, live: int, end: pd.Timestamp) -> None:
    """The live count, and the recovered count with its uncertainty as an error bar."""
    at = mpl_times(pd.DatetimeIndex([end]))[0]
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


def recovery_figure(
    frame: pd.DataFrame,
    estimate: Estimate,
    live: int | None = None,
    *,
    now: Any = None,
    figsize: tuple[float, float] = (11, 4.5),
) -> Figure:
    """The count level over the window (steps), a dashed line at the level before the
    reset, the drop marked in red, and, given the live count, the recovered count with its
    uncertainty as a band."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    _count_line(ax, frame, estimate)
    _reset_mark(ax, estimate)
    if live is not None:
        end = pd.Timestamp(now) if now is not None else frame.index[-1]
        _recovered_mark(ax, estimate, live, end)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("count")
    ax.set_xlabel("time (UTC)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    fig.suptitle("The reset and the count to recover")
    return fig
