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
RESET_GID = "reset"  # gid of every reset marker and line: tests and readers can find them
PANELS = ("count level", "visits per period", "Lambda", "API requests")


def _frame_and_resets(history_or_frame: Any, resets: Sequence[Any] | None) -> tuple[Any, list]:
    frame = getattr(history_or_frame, "frame", history_or_frame)
    if resets is None:
        resets = getattr(history_or_frame, "resets", None) or []
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a History or a DataFrame, got {type(history_or_frame).__name__}")
    return frame, list(resets)


def _x(index: pd.Index) -> np.ndarray:
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
    for i, reset in enumerate(resets):
        when = _x(pd.DatetimeIndex([reset.time]))[0]
        label = "reset" if i == 0 else None
        ax.axvline(when, color=RESET_COLOR, linestyle="--", linewidth=1, gid=RESET_GID)
        ax.plot(
            [when],
            [reset.after],
            marker="v",
            markersize=9,
            color=RESET_COLOR,
            linestyle="none",
            gid=RESET_GID,
            label=label,
        )
        ax.annotate(
            f"-{reset.drop:,.0f}",
            xy=(when, reset.after),
            xytext=(6, 10),
            textcoords="offset points",
            color=RESET_COLOR,
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


def history_figure(
    history_or_frame: Any,
    resets: Sequence[Any] | None = None,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = (11, 9),
) -> Figure:
    """Four stacked panels on one shared time axis: the count level (resets marked in red and
    annotated with the drop), visits per period, Lambda invocations and errors, API requests.

    `history_or_frame`: a `history.History` (its resets are used unless `resets` is given)
    or a frame from `history.to_frame`.
    """
    frame, resets = _frame_and_resets(history_or_frame, resets)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(len(PANELS), 1, sharex=True)
    ax_count, ax_visits, ax_lambda, ax_api = axes
    x = _x(frame.index)

    count = _col(frame, "count")
    if count is None:
        _no_data(ax_count, "count")
    else:
        valid = count.notna().to_numpy()
        ax_count.plot(
            x[valid],
            count.to_numpy()[valid],
            color="tab:blue",
            linewidth=1.2,
            drawstyle="steps-post",
            label="count",
        )
        _mark_resets(ax_count, resets)
        ax_count.legend(loc="upper left", fontsize="small")
    ax_count.set_ylabel("count")

    visits = _col(frame, "visits")
    if visits is None:
        _no_data(ax_visits, "visits")
    else:
        ax_visits.plot(
            x,
            visits.to_numpy(),
            color="tab:green",
            linewidth=0.8,
            drawstyle="steps-post",
            label="visits",
        )
    ax_visits.set_ylabel("visits")

    invocations, errors = _col(frame, "invocations"), _col(frame, "errors")
    if invocations is None and errors is None:
        _no_data(ax_lambda, "Lambda")
    else:
        if invocations is not None:
            ax_lambda.plot(
                x,
                invocations.to_numpy(),
                color="tab:purple",
                linewidth=0.8,
                drawstyle="steps-post",
                label="invocations",
            )
        if errors is not None:
            ax_lambda.plot(
                x,
                errors.to_numpy(),
                color=RESET_COLOR,
                linewidth=1.2,
                drawstyle="steps-post",
                label="errors",
            )
        ax_lambda.legend(loc="upper left", fontsize="small")
    ax_lambda.set_ylabel("Lambda")

    requests = _col(frame, "requests")
    if requests is None:
        _no_data(ax_api, "API")
    else:
        ax_api.plot(
            x, requests.to_numpy(), color="tab:orange", linewidth=0.8, drawstyle="steps-post"
        )
    ax_api.set_ylabel("API requests")

    period = getattr(history_or_frame, "period", None)
    for ax, name in zip(axes, PANELS, strict=True):
        if name == "visits per period" and period:  # the reader needs the period's length
            name = f"visits per {period_text(period)}"
        ax.set_title(name, loc="left", fontsize="medium")
        ax.grid(True, alpha=0.3)
    locator = mdates.AutoDateLocator()
    ax_api.xaxis.set_major_locator(locator)
    ax_api.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax_api.set_xlabel("time (UTC)")
    if len(x):
        ax_api.set_xlim(x[0], x[-1])
    n = len(resets)
    # without count data no reset could be looked for: "0 resets" would be a false all-clear
    found = "no count data" if count is None else f"{n} reset{'s' if n != 1 else ''}"
    fig.suptitle(title or f"Visitor count history: {found}")
    return fig
