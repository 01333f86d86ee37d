"""Machine-readable results: recorded by a notebook's last cell, read back by the runner.

The result travels inside the executed notebook as a display output with its own MIME
type, so plain `papermill` runs carry it too and the notebook stays the single record.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from runbook_lib.steps.common.result import Result

RESULT_MIME = "application/vnd.counter-runbook.result+json"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_jsonable(result: dict[str, Any]) -> dict[str, Any]:
    """A plain-JSON copy (Decimal, datetime, Path, numpy scalars converted)."""
    return json.loads(json.dumps(result, default=_default))


def record_result(result: Result | dict[str, Any], *, problem: bool = False) -> dict[str, Any]:
    """Show the verdict and attach the result to the notebook for the runner.

    A step's `Result` carries its own `problem` (every product notebook ends with
    `record_result(result)`); a plain dict (a test's or a bench's own notebook) says it with
    `problem=`. A problem means the notebook ran but found something an operator must act
    on: the runner then exits 3 (`steps.common.result.exit_code_of`) so a scheduler alerts.
    A reader sees the verdict block (here, and filled in under the banner); the whole result
    travels under RESULT_MIME, which no front end renders, and becomes result.json.
    """
    from IPython.display import display

    from runbook_lib.notebook import verdictblock

    fields = result.to_dict() if isinstance(result, Result) else {**result, "problem": problem}
    payload = to_jsonable({**fields, "problem": bool(fields["problem"])})
    page, text = verdictblock.update(payload)
    display({RESULT_MIME: payload, "text/html": page, "text/plain": text}, raw=True)
    return payload


def result_from_notebook(nb: Any) -> dict[str, Any] | None:
    """The last recorded result in an executed notebook (nbformat node or dict)."""
    found = None
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if RESULT_MIME in data:
                found = data[RESULT_MIME]
    return dict(found) if found is not None else None


def artifact_path(filename: str) -> Path:
    """Where a notebook writes a file that belongs with its report (a CSV, say).

    `runbook run` sets RUNBOOK_RUN_DIR to the report folder; interactive use falls back to
    reports/artifacts/.
    """
    import os

    from runbook_lib import paths

    name = Path(str(filename)).name
    if name in ("", ".", "..") or not str(filename).strip():
        from runbook_lib.errors import InvalidInputError

        raise InvalidInputError(
            f"{filename!r} is not a file name; give one like history.csv "
            "(it is written next to the report)."
        )
    folder = Path(os.environ.get("RUNBOOK_RUN_DIR") or paths.reports_dir() / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
