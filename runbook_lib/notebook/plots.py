"""Figures built from DataFrames. Each function returns a `matplotlib.figure.Figure` made with
the object API: nothing is registered with pyplot, so nothing leaks between calls or cells
(Jupyter's inline backend still displays a returned Figure) and it renders under Agg.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

RESET_COLOR = "tab:red"
REPAIRED_COLOR = "tab:gray"  # a reset the runbook repaired: told, not alarming
RESET_GID = "reset"  # gid of every reset marker and line: tests and readers can find them
PANELS = ("count level", "visits per period", "Lambda", "API requests")


def _frame_and_resets(history_or_frame: Any, resets: Sequence[Any] | None) -> tuple[Any, list]:
    frame = getattr(history_or_frame, "frame", history_or_frame)
    if resets is None:
        resets = getattr(history_or_frame, "resets", None) or []
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a History or a DataFrame, got {type(history_or_frame).__name__}")
    return frame, list(resets)


def mpl_times(index: pd.Index) -> np.ndarray:
    """Naive UTC datetime64 for matplotlib (the axis label says UTC)."""
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.to_numpy()


def _col(frame: pd.DataFrame, name: str) -> pd.Series | None:
    if name not in frame.columns or frame[name].isna().all():
        return None
    return frame[name]


def _no_data(ax: Any, what: str) -> None:
    ax.text(
        0.5, 0.5, f"no {what} data", transform=ax.transAxes, ha="center", va="center", color="0.5"
    )


def _mark_resets(ax: Any, resets: list[Any]) -> None:
    """Red for a reset still to repair, gray for one the runbook repaired (the detector's
    `repaired`), each kind labelled once in the legend."""
    labelled = set()
    for reset in resets:
        repaired = bool(getattr(reset, "repaired", False))
        color = REPAIRED_COLOR if repaired else RESET_COLOR
        label = "reset (repaired)" if repaired else "reset"
        when = mpl_times(pd.DatetimeIndex([reset.time]))[0]
        ax.axvline(when, color=color, linestyle="--", linewidth=1, gid=RESET_GID)
        ax.plot(
            [when],
            [reset.after],
            marker="v",
            markersize=9,
            color=color,
            linestyle="none",
            gid=RESET_GID,
            label=None if label in labelled else label,
        )
        labelled.add(label)
        ax.annotate(
            f"-{reset.drop:,.0f}" + (" (repaired)" if repaired else ""),
            xy=(when, reset.after),
            xytext=(6, 10),
            textcoords="offset points",
            color=color,
            fontweight="bold",
            gid=RESET_GID,
        )


def period_text(seconds: int) -> str:
    """60 -> "minute", 300 -> "5 minutes", 3600 -> "hour": a period as a reader says it."""
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n} {unit}s"
    return f"{seconds} seconds"


def _steps(ax: Any, x: np.ndarray, values: pd.Series, color: str, width: float, **kw: Any) -> None:
    ax.plot(x, values.to_numpy(), color=color, linewidth=width, drawstyle="steps-post", **kw)


def _count_panel(ax: Any, x: np.ndarray, frame: pd.DataFrame, resets: list[Any]) -> bool:
    """The count level with the resets marked; False when there is no count data."""
    count = _col(frame, "count")
    ax.set_ylabel("count")
    if count is None:
        _no_data(ax, "count")
        return False
    valid = count.notna().to_numpy()
    _steps(ax, x[valid], count[valid], "tab:blue", 1.2, label="count")
    _mark_resets(ax, resets)
    ax.legend(loc="upper left", fontsize="small")
    return True


def _visits_panel(ax: Any, x: np.ndarray, frame: pd.DataFrame) -> None:
    visits = _col(frame, "visits")
    if visits is None:
        _no_data(ax, "visits")
    else:
        _steps(ax, x, visits, "tab:green", 0.8, label="visits")
    ax.set_ylabel("visits")


def _lambda_panel(ax: Any, x: np.ndarray, frame: pd.DataFrame) -> None:
    invocations, errors = _col(frame, "invocations"), _col(frame, "errors")
    if invocations is None and errors is None:
        _no_data(ax, "Lambda")
    else:
        if invocations is not None:
            _steps(ax, x, invocations, "tab:purple", 0.8, label="invocations")
        if errors is not None:
            _steps(ax, x, errors, RESET_COLOR, 1.2, label="errors")
        ax.legend(loc="upper left", fontsize="small")
    ax.set_ylabel("Lambda")


def _api_panel(ax: Any, x: np.ndarray, frame: pd.DataFrame) -> None:
    requests = _col(frame, "requests")
    if requests is None:
        _no_data(ax, "API")
    else:
        _steps(ax, x, requests, "tab:orange", 0.8)
    ax.set_ylabel("API requests")


def _time_axis(axes: Sequence[Any], x: np.ndarray, period: int | None) -> None:
    """Panel titles and grids, one shared UTC time axis under the last panel."""
    for ax, name in zip(axes, PANELS, strict=True):
        if name == "visits per period" and period:  # the reader needs the period's length
            name = f"visits per {period_text(period)}"
        ax.set_title(name, loc="left", fontsize="medium")
        ax.grid(True, alpha=0.3)
    last = axes[-1]
    locator = mdates.AutoDateLocator()
    last.xaxis.set_major_locator(locator)
    last.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    last.set_xlabel("time (UTC)")
    if len(x):
        last.set_xlim(x[0], x[-1])


def history_figure(
    history_or_frame: Any,
    resets: Sequence[Any] | None = None,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = (11, 9),
) -> Figure:
    """Four stacked panels on one shared time axis: the count level (resets marked in red and
    annotated with the drop), visits per period, Lambda invocations and errors, API requests.

    `history_or_frame`: a `history.frame.History` (its resets are used unless `resets` is
    given) or a frame from `history.frame.to_frame`.
    """
    frame, resets = _frame_and_resets(history_or_frame, resets)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(len(PANELS), 1, sharex=True)
    x = mpl_times(frame.index)
    has_count = _count_panel(axes[0], x, frame, resets)
    _visits_panel(axes[1], x, frame)
    _lambda_panel(axes[2], x, frame)
    _api_panel(axes[3], x, frame)
    _time_axis(axes, x, getattr(history_or_frame, "period", None))
    n, fixed = len(resets), sum(bool(getattr(r, "repaired", False)) for r in resets)
    # without count data no reset could be looked for: "0 resets" would be a false all-clear
    found = f"{n} reset{'s' if n != 1 else ''}" if has_count else "no count data"
    if has_count and fixed:
        found += f" ({'all ' if n > 1 else ''}repaired)" if fixed == n else f" ({fixed} repaired)"
    fig.suptitle(title or f"Visitor count history: {found}")
    return fig
