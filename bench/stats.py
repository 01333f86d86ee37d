"""Summaries and targets: median, min and max of repeated measurements."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def summary(values: Sequence[float], unit: str, digits: int = 3) -> dict[str, Any]:
    """Median, min, max and every value of a measurement repeated len(values) times."""
    if not values:
        raise ValueError("no values to summarise")
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": len(values),
        "unit": unit,
        "values": [round(v, digits) for v in values],
    }


def figure(
    values: Sequence[float],
    unit: str,
    *,
    target: str | None,
    met: Callable[[float], bool] | None,
    digits: int = 3,
    **extra: Any,
) -> dict[str, Any]:
    """A summary with its target (text) and whether the median meets it (None: no target)."""
    out = summary(values, unit, digits)
    out["target"] = target
    out["met"] = bool(met(out["median"])) if met is not None else None
    out.update(extra)
    return out


def skipped(reason: str, **extra: Any) -> dict[str, Any]:
    """A figure this run did not measure, and why."""
    return {"skipped": reason, **extra}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call, on the monotonic clock."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result
