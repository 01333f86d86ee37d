"""06_history over a fleet: one small panel per counter, the count over the window with its
resets marked (red: still to repair, gray: repaired), side by side on the index, so a reset
on one counter among many is seen at a glance. Read from each run's own files (its
history.csv and result.json): the figure shows what the reports say, nothing re-read."""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path
from typing import Any

RESET_COLOR = "tab:red"  # as the per-run history figure (notebook/plots.py)
REPAIRED_COLOR = "tab:gray"
COLUMNS = 3
STATE_COLOURS = {"OK": "#2b7a0b", "PROBLEM FOUND": "#b00020", "FAILED": "#b00020"}


def _panel_data(row: dict[str, Any], fleet_dir: Path) -> tuple[Any, list[dict[str, Any]]]:
    """(the count series, or None; the resets) of one row's run."""
    import pandas as pd

    if not row.get("result"):
        return None, []
    result_path = fleet_dir / row["result"]
    try:
        record = json.loads(result_path.read_text(encoding="utf-8"))
        csv = result_path.parent / str(record.get("csv_path") or "history.csv")
        frame = pd.read_csv(csv, index_col="timestamp", parse_dates=True)
        series = frame["count"].dropna()
    except (OSError, ValueError, KeyError):
        return None, []
    return (series if not series.empty else None), list(record.get("resets") or [])


def _draw(ax: Any, row: dict[str, Any], series: Any, resets: list[dict[str, Any]]) -> None:
    import pandas as pd

    colour = STATE_COLOURS.get(row["state"], "black")
    ax.set_title(f"{row['name']} · {row['state']}", fontsize=9, loc="left", color=colour)
    ax.tick_params(labelsize=7)
    if series is None:
        ax.text(0.5, 0.5, "no count data", transform=ax.transAxes, ha="center", color="0.5")
        ax.set_xticks([])
        ax.set_yticks([])
        return
    index = pd.DatetimeIndex(series.index)
    times = (index.tz_convert("UTC").tz_localize(None) if index.tz else index).to_numpy()
    ax.plot(times, series.to_numpy(), color="tab:blue", linewidth=1)
    for reset in resets:
        when = pd.Timestamp(reset["time"])
        when = when.tz_convert("UTC").tz_localize(None) if when.tz else when
        color = REPAIRED_COLOR if reset.get("repaired") else RESET_COLOR
        ax.axvline(when.to_datetime64(), color=color, linestyle="--", linewidth=1)
    ax.grid(True, alpha=0.3)


def figure_png(rows: list[dict[str, Any]], fleet_dir: Path) -> bytes | None:
    """The small multiples as PNG bytes; None without rows."""
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    if not rows:
        return None
    cols = min(COLUMNS, len(rows))
    lines = math.ceil(len(rows) / cols)
    fig = Figure(figsize=(4.2 * cols, 2.4 * lines), dpi=90, layout="constrained")
    axes = fig.subplots(lines, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= len(rows):
            ax.set_visible(False)
            continue
        series, resets = _panel_data(rows[i], fleet_dir)
        _draw(ax, rows[i], series, resets)
        if series is not None:
            locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    fig.suptitle("count per counter (UTC); dashed: resets (red: to repair, gray: repaired)",
                 fontsize=9)  # fmt: skip
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def figure_html(rows: list[dict[str, Any]], fleet_dir: Path) -> str:
    """The figure as an embedded <img> (the index stays one self-contained file)."""
    png = figure_png(rows, fleet_dir)
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return (
        '<figure class="fleet-history"><img alt="count history of every counter" '
        f'src="data:image/png;base64,{data}"></figure>'
    )
