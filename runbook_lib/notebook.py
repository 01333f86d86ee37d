"""The few calls every notebook's setup cell makes: resolve the target, show the banner."""

from __future__ import annotations

from typing import Any

from .banner import Banner, target_banner
from .target import Target, resolve_target


def start(**params: Any) -> Target:
    """Resolve the target from the notebook's parameters and display where it points.

    Runs before anything touches the table, so the reader always sees sandbox vs real AWS
    (account, region, table) first.
    """
    target = resolve_target(**params)
    show(target_banner(target))
    return target


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
    else:
        display(obj)


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
    """Headline numbers as a small table, then visits per day (pandas only when asked)."""
    import pandas as pd

    headline = {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}
    show(pd.Series(headline, name="value").to_frame())
    per_day = summary.get("visits_per_day") or {}
    if per_day:
        show(pd.Series(per_day, name="visits").rename_axis("day (UTC)").to_frame())


__all__ = ["Banner", "Target", "show", "show_summary", "start"]
