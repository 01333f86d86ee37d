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
    else:
        display(obj)


__all__ = ["Banner", "Target", "show", "start"]
