"""Progress bars for the long steps (table export and restore): tqdm, shown only when a human
is watching, so logs and tests stay clean."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

PROGRESS_MIN_INTERVAL_S = 0.5


def _interactive() -> bool:
    """A human is watching: a terminal, or a Jupyter kernel (JupyterLab, papermill)."""
    with contextlib.suppress(Exception):
        if sys.stderr.isatty():
            return True
    with contextlib.suppress(ImportError):
        from IPython import get_ipython

        shell = get_ipython()
        return shell is not None and getattr(shell, "kernel", None) is not None
    return False


def progress_bar(enabled: bool, *, desc: str, total: int | None = None) -> Any:
    """A tqdm bar counting items; disabled unless `enabled` and someone is watching."""
    from tqdm.std import tqdm  # tqdm.auto needs ipywidgets; text bars work everywhere

    return tqdm(
        total=total,
        desc=desc,
        unit="item",
        disable=not (enabled and _interactive()),
        mininterval=PROGRESS_MIN_INTERVAL_S,
        file=sys.stderr,
    )
