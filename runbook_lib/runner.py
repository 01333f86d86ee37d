"""Run a notebook headless: papermill executes, nbconvert renders, the result is recorded.

Each run writes `<out>/<UTC timestamp>-NAME/` with the executed `NAME.ipynb`, a
self-contained `NAME.html` and `result.json`. Exit codes are for schedulers:
0 all well, 3 the notebook ran and found a problem, 1 execution failed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .errors import InvalidInputError, NotebookNotFoundError
from .redact import refuse_secret_parameters
from .results import result_from_notebook, to_jsonable

EXIT_OK, EXIT_FAILED, EXIT_PROBLEM = 0, 1, 3
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


@dataclass
class RunOutcome:
    name: str
    exit_code: int
    out_dir: str
    notebook_path: str
    html_path: str | None
    result_path: str
    result: dict[str, Any] | None
    error: str | None = None
    failed_cell: int | None = None
    seconds: float = 0.0
    parameters: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        state = {EXIT_OK: "OK", EXIT_PROBLEM: "PROBLEM FOUND", EXIT_FAILED: "FAILED"}[
            self.exit_code
        ]
        lines = [f"{self.name}: {state} (exit {self.exit_code}, {self.seconds:.1f}s)"]
        if self.error:
            where = f" in cell {self.failed_cell}" if self.failed_cell is not None else ""
            lines.append(f"  error{where}: {self.error}")
        if self.result:
            shown = {k: v for k, v in self.result.items() if k not in ("checks",)}
            for key, value in list(shown.items())[:12]:
                text = json.dumps(value, default=str)
                lines.append(f"  {key}: {text[:110]}{'…' if len(text) > 110 else ''}")
            for check in self.result.get("checks", []) or []:
                if check.get("state") != "ok":
                    lines.append(f"  [{check['state'].upper()}] {check['name']}: {check['detail']}")
        lines.append(f"  report: {self.html_path or self.notebook_path}")
        lines.append(f"  result: {self.result_path}")
        return "\n".join(lines)


def available_notebooks() -> list[str]:
    return sorted(p.stem for p in paths.notebooks_dir().glob("[0-9]*.ipynb"))


def notebook_path(name: str) -> Path:
    """notebooks/NAME.ipynb from NAME, NAME.ipynb, or a path to an .ipynb."""
    candidate = Path(name)
    if candidate.suffix == ".ipynb" and candidate.exists():
        return candidate.resolve()
    stem = candidate.name.removesuffix(".ipynb")
    found = paths.notebooks_dir() / f"{stem}.ipynb"
    if found.exists():
        return found
    matches = [n for n in available_notebooks() if n.split("_", 1)[-1] == stem or n == stem]
    if len(matches) == 1:
        return paths.notebooks_dir() / f"{matches[0]}.ipynb"
    raise NotebookNotFoundError(
        f"No notebook named {name!r}. Available: {', '.join(available_notebooks()) or 'none'}."
    )


def declared_parameters(path: Path) -> dict[str, dict[str, Any]]:
    """The notebook's parameters cell, as papermill documents it (name, type, default, help)."""
    import papermill

    return papermill.inspect_notebook(str(path))


def coerce(name: str, raw: Any, declared: dict[str, Any]) -> Any:
    """Turn a CLI string into the parameter's declared type; clear error if it can't."""
    if not isinstance(raw, str):
        return raw
    kind = (declared.get("inferred_type_name") or "").strip("\"'").replace(" ", "")
    optional = kind.startswith("Optional[")
    base = kind[len("Optional[") : -1] if optional else kind
    if optional and raw.strip() in ("", "None", "none", "null"):
        return None
    try:
        if base == "bool":
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError
        if base == "int":
            return int(raw.strip())
        if base == "float":
            return float(raw.strip())
    except ValueError:
        raise InvalidInputError(
            f"Parameter {name} must be {kind}, got {raw!r}.",
            hint=f"pass -p {name} <{base}>; see `runbook params NAME` for every parameter.",
        ) from None
    return raw


def prepare_parameters(path: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Validate names against the parameters cell and coerce values. Unknown names fail
    before anything runs, so a typo never silently falls back to a default."""
    refuse_secret_parameters(params)
    declared = declared_parameters(path)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise InvalidInputError(
            f"Unknown parameter(s) for {path.stem}: {', '.join(unknown)}. "
            f"Valid: {', '.join(declared) or 'none'}.",
            hint=f"check the spelling; `runbook params {path.stem}` lists them with help.",
        )
    return {k: coerce(k, v, declared[k]) for k, v in params.items()}


def render_html(nb: Any, *, hide_code: bool = False) -> str:
    """Self-contained HTML from the in-memory notebook: images are embedded as data URIs,
    CSS is inlined, so the file can be e-mailed as it is."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = hide_code
    exporter.exclude_input_prompt = hide_code
    exporter.exclude_output_prompt = hide_code
    body, _ = exporter.from_notebook_node(nb)
    return body


def _timestamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def run_notebook(
    name: str,
    parameters: dict[str, Any] | None = None,
    out: str | Path | None = None,
    *,
    hide_code: bool = False,
    html: bool = True,
    kernel_name: str = "python3",
    log: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Execute notebooks/NAME.ipynb with papermill and write its report folder.

    Bad input (unknown notebook or parameter, wrong type, a secret) raises before anything
    is written. An execution failure still writes the executed notebook, the HTML and a
    result.json naming the failing cell: the output is the log.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    path = notebook_path(name)
    params = prepare_parameters(path, dict(parameters or {}))
    out = str(out) if out is not None else str(paths.reports_dir())
    remote = out.startswith("s3://")
    folder_name = f"{_timestamp()}-{path.stem}"
    local_root = Path(tempfile.mkdtemp(prefix="runbook-")) if remote else Path(out)
    run_dir = local_root / folder_name
    run_dir.mkdir(parents=True, exist_ok=False)
    nb_out = run_dir / f"{path.stem}.ipynb"
    started = time.monotonic()
    error, failed_cell = None, None
    previous_run_dir = os.environ.get("RUNBOOK_RUN_DIR")
    os.environ["RUNBOOK_RUN_DIR"] = str(run_dir)  # the kernel inherits it: artifact_path()
    try:
        nb = papermill.execute_notebook(
            str(path),
            str(nb_out),
            parameters=params,
            kernel_name=kernel_name,
            cwd=str(paths.project_root()),
            progress_bar=False,
            log_output=False,
            # the kernel's own start-up warnings (TCP transport on loopback) are noise in a
            # scheduler's mail; cell errors still reach the notebook and the summary
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
        failed_cell = exc.exec_count
        nb = nbformat.read(str(nb_out), as_version=4)
    finally:
        if previous_run_dir is None:
            os.environ.pop("RUNBOOK_RUN_DIR", None)
        else:
            os.environ["RUNBOOK_RUN_DIR"] = previous_run_dir
    seconds = time.monotonic() - started
    result = result_from_notebook(nb)
    if error:
        exit_code = EXIT_FAILED
    elif result is None:
        exit_code, error = EXIT_FAILED, "the notebook recorded no result (record_result)"
    else:
        exit_code = EXIT_PROBLEM if result.get("problem") else EXIT_OK
    html_path = None
    if html:
        html_path = run_dir / f"{path.stem}.html"
        html_path.write_text(render_html(nb, hide_code=hide_code), encoding="utf-8")
    record = to_jsonable(
        {
            **(result or {}),
            "notebook": path.stem,
            "exit_code": exit_code,
            "error": error,
            "failed_cell": failed_cell,
            "seconds": round(seconds, 2),
            "parameters": params,
        }
    )
    result_path = run_dir / "result.json"
    result_path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    outcome = RunOutcome(
        name=path.stem,
        exit_code=exit_code,
        out_dir=str(run_dir),
        notebook_path=str(nb_out),
        html_path=str(html_path) if html_path else None,
        result_path=str(result_path),
        result=result,
        error=error,
        failed_cell=failed_cell,
        seconds=seconds,
        parameters=params,
    )
    if remote:
        outcome = _publish(outcome, f"{out.rstrip('/')}/{folder_name}")
    if log:
        log(outcome.summary())
    return outcome


def _publish(outcome: RunOutcome, prefix: str) -> RunOutcome:
    """Copy the report folder to S3 through papermill's own I/O layer."""
    from papermill.iorw import papermill_io

    for local in sorted(Path(outcome.out_dir).iterdir()):
        papermill_io.write(
            local.read_text(encoding="utf-8"),
            f"{prefix}/{local.name}",
            extensions=[".ipynb", ".json", ".html", ".csv"],
        )
    moved = {
        attr: f"{prefix}/{Path(getattr(outcome, attr)).name}" if getattr(outcome, attr) else None
        for attr in ("notebook_path", "html_path", "result_path")
    }
    outcome.out_dir = prefix
    outcome.notebook_path = moved["notebook_path"] or ""
    outcome.html_path = moved["html_path"]
    outcome.result_path = moved["result_path"] or ""
    return outcome
