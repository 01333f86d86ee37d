"""Where the time of one `runbook run 02_status` goes: `python -m bench.timeline --out DIR`.

Runs the runner's own `run_notebook` with its phases wrapped in timers and prints one JSON
line: kernel launch, parameter check (papermill's import), execution
(the wait for the kernel, the cells), the HTML template warm-up (in its thread) and render,
the kernel's shutdown; the cells' own times from papermill's metadata; and whether pandas
or matplotlib were imported by the runner.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
HEAVY = ("pandas", "matplotlib")


def _wrap(owner: Any, name: str, spans: dict[str, float]) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spans[name] = spans.get(name, 0.0) + time.perf_counter() - started

    setattr(owner, name, timed)


def _cells(nb_path: str) -> dict[str, float]:
    """Kernel wait and cell time from papermill's metadata in the executed notebook."""
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    started = dt.datetime.fromisoformat(nb["metadata"]["papermill"]["start_time"])
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    first = dt.datetime.fromisoformat(code[0]["metadata"]["papermill"]["start_time"])
    return {
        "kernel_wait_s": (first - started).total_seconds(),
        "cells_s": sum(c["metadata"]["papermill"]["duration"] or 0 for c in code),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.timeline")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    from runbook_lib.notebook import (
        execution,
        kernel,
        render,
        runner,
    )

    imported = time.perf_counter() - T0
    spans: dict[str, float] = {}
    _wrap(runner, "declared_parameters", spans)
    _wrap(execution, "execute", spans)
    for name in ("render_html", "html_exporter"):
        _wrap(render, name, spans)
    for name in ("__init__", "close"):
        _wrap(kernel.Kernel, name, spans)
    started = time.perf_counter()
    outcome = runner.run_notebook("02_status", {}, args.out)
    total = time.perf_counter() - started
    out = {
        "exit_code": outcome.exit_code,
        "import_runner_s": imported,
        "kernel_launch_s": spans["__init__"],
        "parameters_and_papermill_import_s": spans["declared_parameters"],
        "execute_s": spans["execute"],
        **_cells(outcome.notebook_path),
        "html_warm_up_s": spans["html_exporter"],  # in a thread, overlapping execute_s
        "html_render_s": spans["render_html"],
        "kernel_shutdown_wait_s": spans["close"],
        "run_notebook_s": total,
        "runner_heavy_imports": sorted(m for m in HEAVY if m in sys.modules),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
