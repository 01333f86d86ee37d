"""The few calls every notebook's setup cell makes: resolve the target, show the banner."""

from __future__ import annotations

import os
from typing import Any

from runbook_lib.model import Target
from runbook_lib.notebook import labmessages, verdictblock
from runbook_lib.notebook.banner import Banner, target_banner
from runbook_lib.resolve import resolve_target
from runbook_lib.steps.status.report import StatusReport


def start(**params: Any) -> Target:
    """Resolve the target from the notebook's parameters and display where it points.

    Runs before anything touches the table, so the reader always sees sandbox vs real AWS
    (account, region, table) first.
    """
    labmessages.install()  # before anything can raise: a project error reads as a message
    target = resolve_target(**params)
    follow_region(target)
    show(target_banner(target))
    verdictblock.show_placeholder()  # the verdict lands here when the last cell runs
    return target


def follow_region(target: Target) -> None:
    """The notebook's kernel points where its banner says: every client a later cell makes
    without a session (CloudWatch history, backups by table name) and every Terraform run
    of a provider with no region of its own uses the target's region, which may be the
    stack's rather than the shell's. The kernel runs one notebook for one target."""
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = target.region


def show(obj: Any) -> None:
    """display() inside a kernel, print() elsewhere (scripts, tests)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        print(obj)
        return
    if get_ipython() is None:
        print(obj)
    elif type(obj).__module__.startswith("matplotlib") and hasattr(obj, "savefig"):
        display(figure_png(obj))
    elif isinstance(obj, StatusReport):  # its next steps worded for where the reader is
        display({"text/html": obj.html(verdictblock.for_reader), "text/plain": str(obj)}, raw=True)
    else:
        display(obj)


def say(obj: Any) -> None:
    """A step's text (its verdict, To apply and Undo lines) as a block that wraps at words,
    its commands written for where the reader is (see verdictblock.for_reader)."""
    import html

    from IPython import get_ipython
    from IPython.display import display

    text = str(obj)
    if get_ipython() is None:  # a script or a test: plain text
        print(text)
        return
    shown = "\n".join(verdictblock.for_reader(line) for line in text.splitlines())
    page = f'<div style="{verdictblock.WRAP};font-family:monospace">{html.escape(shown)}</div>'
    display({"text/html": page, "text/plain": shown}, raw=True)


def figure_png(fig: Any) -> Any:
    """A matplotlib Figure as an embedded PNG: plots.py builds figures without pyplot, so
    no inline backend registers them; this renders the same in JupyterLab, papermill and
    the HTML report."""
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return Image(data=buf.getvalue(), format="png")


def show_summary(summary: dict[str, Any]) -> None:
    """Headline numbers as a small table, then visits per day (pandas only when asked).

    For people: counts as integers, the error rate as a percentage, times in UTC, a missing
    figure as "no data", and the first and last day marked when the window covers only part
    of them (their totals are not comparable with whole days)."""
    import pandas as pd

    rows = {
        LABELS.get(k, k.replace("_", " ")): _for_people(k, v, summary)
        for k, v in summary.items()
        if not isinstance(v, (dict, list))
    }
    show(pd.Series(rows, name="value", dtype="object").to_frame())
    per_day = summary.get("visits_per_day") or {}
    if per_day:
        days = {
            _day_label(day, summary): _for_people("visits", n, summary)
            for day, n in per_day.items()
        }
        show(pd.Series(days, name="visits", dtype="object").rename_axis("day (UTC)").to_frame())


LABELS = {
    "points": "points in the window",
    "count_points": "points with a count",
    "first_time": "window from",
    "last_time": "last point at",
    "visits_total": "visits (total)",
    "busiest_hour_utc": "busiest hour",
    "busiest_hour_visits": "visits in the busiest hour",
    "invocations_total": "Lambda invocations",
    "errors_total": "Lambda errors",
    "error_rate": "Lambda error rate",
    "requests_total": "API requests",
    "reset_count": "resets",
    "period": "period per point",
    "calls": "GetMetricData calls",
}


def _for_people(key: str, value: Any, summary: dict[str, Any]) -> str:
    import pandas as pd

    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return "no data"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "error_rate":
        return f"{float(value) * 100:.2f} %"
    if key == "period":
        from runbook_lib.notebook.plots import period_text

        return f"{int(value)} s (one point per {period_text(int(value))})"
    if key == "busiest_hour_utc":
        return f"{int(value):02d}:00-{(int(value) + 1) % 24:02d}:00 UTC"
    if key.endswith("_time") and isinstance(value, str):
        return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _day_label(day: str, summary: dict[str, Any]) -> str:
    """The day, marked "(partial: from/to HH:MM UTC)" when the window cuts it."""
    import pandas as pd

    first, last, period = (summary.get(k) for k in ("first_time", "last_time", "period"))
    if not (first and last and period):
        return day
    start = pd.Timestamp(first).tz_convert("UTC")
    end = pd.Timestamp(last).tz_convert("UTC") + pd.Timedelta(seconds=int(period))
    marks = []
    if day == start.strftime("%Y-%m-%d") and start != start.normalize():
        marks.append(f"from {start:%H:%M}")
    if day == end.strftime("%Y-%m-%d") and end != end.normalize():
        marks.append(f"to {end:%H:%M}")
    return f"{day} (partial: {' '.join(marks)} UTC)" if marks else day


__all__ = ["Banner", "Target", "say", "show", "show_summary", "start"]
