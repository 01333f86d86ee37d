"""The report folder's files after a run: `NAME.html` and `result.json`.

The folder was checked and made before the kernel started (`foldercheck`, `runner`). If it
stops taking files while the run is under way (removed, remounted read-only, a full disk),
the run's result is not lost: the outcome becomes exit 1, its error names the folder and
the fix, and the terminal summary still shows the whole result (commands included).
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.notebook import render
from runbook_lib.notebook.outcome import EXIT_FAILED, EXIT_INTERRUPTED, FOLDER_ERROR, RunOutcome
from runbook_lib.notebook.results import to_jsonable


def save(
    outcome: RunOutcome,
    nb: Any,
    exporter: Future[Any] | None,
    notebook: Path,
    started_at: dt.datetime,
    hide_code: bool,
    interrupted: bool,
) -> None:
    """Write the HTML (when `exporter` is warming one up) and result.json beside the
    executed notebook; a folder that cannot take them is said in `outcome`, not raised."""
    if exporter is not None:
        exporter.result()
        try:
            outcome.html_path = str(write_html(outcome, nb, notebook, started_at, hide_code))
        except OSError as exc:
            _unwritten(outcome, exc)
    try:  # result.json still, when only the HTML could not be written
        write_result(outcome, interrupted)
    except OSError as exc:
        _unwritten(outcome, exc)


def _unwritten(outcome: RunOutcome, exc: OSError) -> None:
    """Exit 1 (a stopped run stays 130), and the error naming the folder and the fix."""
    if outcome.exit_code != EXIT_INTERRUPTED:
        outcome.exit_code = EXIT_FAILED
    folder = paths.shown(Path(outcome.out_dir))
    said = (
        f"Cannot write the report to {folder}: {exc.strerror or type(exc).__name__}. The run "
        "itself finished: its result is shown here. Next step: make that folder writable (or "
        "pass --out DIR) before the next run."
    )
    if outcome.error is None:
        outcome.error = f"{FOLDER_ERROR}: {said}"
    elif said not in outcome.error:  # the run's own error stays first: it is the story
        outcome.error = f"{outcome.error} Also: {said}"


def write_html(
    outcome: RunOutcome, nb: Any, notebook: Path, started_at: dt.datetime, hide_code: bool
) -> Path:
    html_path = Path(outcome.out_dir) / f"{notebook.stem}.html"
    page = render.report_html(
        nb,
        notebook.stem,
        hide_code=hide_code,
        started_at=started_at,
        result=outcome.result,
        exit_code=outcome.exit_code,
        error=outcome.error,
        failed_cell=outcome.failed_cell,
    )
    html_path.write_text(page, encoding="utf-8")
    return html_path


def write_result(outcome: RunOutcome, interrupted: bool) -> None:
    record = to_jsonable(
        {
            **(outcome.result or {}),
            "notebook": outcome.name,
            "exit_code": outcome.exit_code,
            "error": outcome.error,
            "failed_cell": outcome.failed_cell,
            "interrupted": interrupted,
            "seconds": round(outcome.seconds, 2),
            "parameters": outcome.parameters,
        }
    )
    Path(outcome.result_path).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
