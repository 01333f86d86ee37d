"""The README's table of figures, from a results dict (bench/results.json)."""

from __future__ import annotations

from typing import Any


def _num(value: float, unit: str) -> str:
    if unit == "items/s":
        return f"{value:,.0f}"
    if unit.startswith("x"):
        return f"{value:.2f}x"
    return f"{value:g} {unit}".strip()


def measured(fig: dict[str, Any]) -> str:
    """ "median (min–max, N runs)", or why it was not measured."""
    if "skipped" in fig:
        return f"not measured: {fig['skipped']}"
    unit = fig["unit"].split(" (")[0]
    lo, hi = _num(fig["min"], unit), _num(fig["max"], unit)
    extra = " items/s" if unit == "items/s" else ""
    return f"{_num(fig['median'], unit)}{extra} ({lo}–{hi}, {fig['runs']} runs{_load(fig)})"


def _met(value: Any) -> str:
    return {True: "yes", False: "**no**", None: "–"}[value]


def _row(name: str, fig: dict[str, Any]) -> str:
    target = fig.get("target") or "–"
    return f"| {name} | {measured(fig)} | {target} | {_met(fig.get('met'))} |"


def _load(fig: dict[str, Any]) -> str:
    """ "; load L1–L2 on N CPUs": the 1-minute load average over the rounds, when recorded."""
    per_round = (fig.get("load_average") or {}).get("1min_per_round")
    if not per_round:
        return ""
    return f"; load {min(per_round):.2f}–{max(per_round):.2f} on {fig.get('cpus', '?')} CPUs"


def _calls_row(name: str, op: dict[str, Any]) -> str:
    ops = ", ".join(f"{k.split(':')[1]} {v}" for k, v in op["operations"].items())
    depth = op.get("sequential_depth")
    got = f"{op['calls']} ({ops}); depth {depth}"
    minimum = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in op["minimum"].items())
    return f"| api_calls: {name} | {got} | {minimum} | {_met(op['met'])} |"


def _history_row(fig: dict[str, Any]) -> str:
    """moto's CPU per 06 read, indexed against moto's own, and the whole run's time."""
    if "skipped" in fig:
        return _row("history_server_cpu_s", fig)
    plain, run = fig["plain_moto"], fig["runbook_run_06_history_s"]
    got = (
        f"{measured(fig)}; moto's own GetMetricData {plain['median']:g} s "
        f"({plain['min']:g}–{plain['max']:g}); `runbook run 06_history` {run['median']:g} s"
    )
    name = f"history_server_cpu_s (06's read, {fig['days']} days seeded)"
    return f"| {name} | {got} | {fig['target']} | {_met(fig['met'])} |"


def markdown_table(results: dict[str, Any]) -> str:
    rows = ["| figure | measured | target | met |", "|---|---|---|---|"]
    for key in ("status_vs_kernel_floor", "status_vs_papermill_floor"):
        rows.append(_row(key, results[key]))
    calls = results["api_calls"]
    for name in ("init", "read", "set", "status"):
        rows.append(_calls_row(name, calls[name]))
    for days, h in calls["history"].items():
        got = (
            f"{h['get_metric_data_calls']} GetMetricData for {h['metrics']} metrics "
            f"({h['points_per_metric']:,} points each at {h['period_s']} s); "
            f"GetMetricStatistics would need {h['get_metric_statistics_calls_needed']}"
        )
        rows.append(f"| api_calls: history {days} d | {got} | {h['minimum']} | {_met(h['met'])} |")
    for key in (
        "export_items_per_s",
        "export_vs_scan_ratio",
        "restore_vs_batchwrite_ratio",
        "restore_read_back_all_vs_batchwrite_ratio",
    ):
        fig = results.get(key)
        if fig is not None:
            rows.append(_row(f"{key} ({fig['items']:,} items)", fig))
    for kind, fig in results["dynamodump"].items():
        label = f"dynamodump {kind} time / runbook {kind} time"
        if "items" in fig:
            label += f" ({fig['items']:,} items)"
        rows.append(_row(label, fig))
    for size, fig in results["export_rss_growth_mb"].items():
        if size != "met":
            rows.append(_row(f"export_rss_growth_mb at {int(size):,} items", fig))
    for mode, fig in results["sandbox_up_s"].items():
        rows.append(_row(f"sandbox_up_s {mode.replace('_', ' ')}", fig))
    rows.append(_row("demo_s (warm .venv)", results["demo_s"]))
    history = results.get("history_server_cpu_s")
    if history is not None:
        rows.append(_history_row(history))
    return "\n".join(rows) + "\n"
