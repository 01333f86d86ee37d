"""Run a notebook headless: papermill executes, nbconvert renders, the result is recorded.

Each run writes `<out>/<UTC timestamp>-NAME/` with the executed `NAME.ipynb`, a
self-contained `NAME.html` and `result.json`. Exit codes are for schedulers:
0 all well, 3 the notebook ran and found a problem, 1 execution failed.

Where a run's time goes (`make bench` measures it; 02_status on the sandbox): the kernel's
own start (~0.5 s: a second Python, ipykernel, IPython), the runner's imports (papermill
~0.4 s), the cells (mostly their imports), the HTML export (~0.4 s the first time in a
process: nbconvert and its template) and the kernel's shutdown. So the kernel is started
first and boots while papermill loads (kernel.py), the HTML template is compiled in a thread
while the cells run, and the kernel shuts down while the report is written. Each of the
runner's shortcuts through a library's internals says what it was measured to save, in
paired runs (kernel.py, execution.py, workarounds.py); those that saved nothing measurable
were removed (issue 18: the kernel's early imports of the notebook's modules, and a kernel
spec manager that skipped importing IPython).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError, NotebookNotFoundError, exit_code_for
from runbook_lib.notebook import (
    execution,
    foldercheck,
    paramcheck,
    publish,
    render,
    reportfiles,
    templates,
)
from runbook_lib.notebook.execution import Failure
from runbook_lib.notebook.kernel import Kernel
from runbook_lib.notebook.outcome import EXIT_FAILED, EXIT_INTERRUPTED, RunOutcome
from runbook_lib.notebook.results import result_from_notebook
from runbook_lib.notebook.workarounds import quiet_dead_kernel_tasks, skip_unused_schema_formats
from runbook_lib.redact import refuse_secret_parameters
from runbook_lib.steps.common.result import exit_code_of


def available_notebooks() -> list[str]:
    return sorted(p.stem for p in paths.notebooks_dir().glob("[0-9]*.ipynb"))


def notebook_title(name: str) -> str:
    """What the notebook does, in one line: its title (the first markdown cell's heading)
    without the "NN · " that repeats its number; "" when it has none. Read as JSON, not
    with nbformat: `runbook list` stays instant."""
    try:
        cells = json.loads(notebook_path(name).read_text(encoding="utf-8"))["cells"]
        text = "".join(next(c["source"] for c in cells if c.get("cell_type") == "markdown"))
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return ""
    heading = next((ln for ln in text.splitlines() if ln.startswith("# ")), "")
    return re.sub(r"^\d+\s*·\s*", "", heading[2:].strip())


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
    # `runbook params` and the fleet's checks import papermill here without a run
    skip_unused_schema_formats()
    import papermill

    return papermill.inspect_notebook(str(path))


def prepare_parameters(path: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Every check `runbook run` makes of the parameters, in one call (the fleet checks each
    counter's with it): secrets, names, types, then ranges and required values."""
    refuse_secret_parameters(params)
    declared = declared_parameters(path)
    coerced = _typed(path, params, declared)
    paramcheck.check(path.stem, coerced, set(declared))  # ranges, required values: exit 2
    return coerced


def _typed(
    path: Path, params: dict[str, Any], declared: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Names checked against the parameters cell, values coerced to their declared types.
    Unknown names fail before anything runs, so a typo never silently falls back to a
    default."""
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise InvalidInputError(
            f"Unknown parameter(s) for {path.stem}: {', '.join(unknown)}. "
            f"Valid: {', '.join(declared) or 'none'}.",
            hint=f"check the spelling; `runbook params {path.stem}` lists them with help.",
        )
    return {k: paramcheck.coerce(k, v, declared[k], path.stem) for k, v in params.items()}


def _timestamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class _Run:
    """One run's place and clock: the notebook, its report folder and the folders made."""

    path: Path
    run_dir: Path
    made: list[Path]
    nb_out: Path
    started: float = field(default_factory=time.monotonic)
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


def run_notebook(
    name: str,
    parameters: dict[str, Any] | None = None,
    out: str | Path | None = None,
    *,
    hide_code: bool = False,
    html: bool = True,
    kernel_name: str = "python3",
    log: Callable[[str], None] | None = None,
    execute: Callable[..., RunOutcome] | None = None,
) -> RunOutcome:
    """Execute notebooks/NAME.ipynb with papermill and write its report folder.

    Bad input (unknown notebook or parameter, wrong type, a secret) raises before anything
    is written. An execution failure still writes the executed notebook, the HTML and a
    result.json naming the failing cell: the output is the log.

    The parameters are checked once each, as `prepare_parameters` checks them, in two parts:
    what needs no papermill before the kernel starts, names and types while it boots.
    `execute` (default: start the kernel and run the cells) is where a test stops a run that
    passed every check before a kernel starts.
    """
    skip_unused_schema_formats()  # a run's first step: nothing has imported jsonschema yet
    path = notebook_path(name)
    # a template saved with an edited parameters cell (lab autosave) would not run safe
    templates.refuse_unsafe(path)
    refuse_secret_parameters(dict(parameters or {}))  # before a kernel process exists
    # so are ranges and required values (bad usage, exit 2: no kernel, no report folder);
    # checked on the CLI's text, which paramcheck reads as `coerce` will type it
    paramcheck.check(path.stem, dict(parameters or {}), paramcheck.declared_names(path))
    # folders that cannot be written: one line and exit 2 now, not a traceback afterwards
    foldercheck.check_backups(path.stem, dict(parameters or {}))
    # s3://: the bucket must take the report before anything runs; the report is written
    # under reports/ first and that copy goes once it is uploaded
    remote = publish.parse(str(out)) if publish.is_s3(out) else None
    local_root, source = foldercheck.report_root(out, remote is not None)
    foldercheck.check_reports(local_root, source)
    if remote:
        publish.check_writable(remote)
    run = _reserve(path, local_root, source)
    execute = execute or _run_in_kernel
    outcome = execute(run, dict(parameters or {}), hide_code, html, kernel_name)
    if remote and outcome.exit_code != EXIT_INTERRUPTED:  # a stopped run stays local
        outcome = publish.publish_report(outcome, remote, run.made)
    if log:
        log(outcome.summary())
    return outcome


def _reserve(path: Path, root: Path, source: str) -> _Run:
    """The run's report folder, made now (the kernel is told where it is). A folder that
    turned unwritable since the check is still one line, exit 2: nothing ran yet."""
    try:
        run_dir, made = paths.reserve_run_dir(root, f"{_timestamp()}-{path.stem}")
    except OSError as exc:
        raise foldercheck.reports_refused(root, source, exc.strerror or str(exc)) from None
    return _Run(path, run_dir, made, run_dir / f"{path.stem}.ipynb")


def _run_in_kernel(
    run: _Run, parameters: dict[str, Any], hide_code: bool, html_report: bool, kernel_name: str
) -> RunOutcome:
    """Start the kernel, check the parameters while it boots, execute, write the report.
    Refused before anything ran: the kernel is killed and the report folder removed."""
    kernel, executed = None, False
    try:
        # RUNBOOK_RUN_DIR: the kernel's artifact_path() writes into the report folder
        env = {**os.environ, "RUNBOOK_RUN_DIR": str(run.run_dir)}
        kernel = Kernel(kernel_name, paths.project_root(), env)
        # checked while the kernel boots: a refusal kills it and removes the report folder,
        # like a bad parameter (environment only: the runner never imports boto3)
        from runbook_lib.aws.endpoint import refuse_sandbox_keys

        refuse_sandbox_keys()  # the sandbox's dummy keys off loopback: exit 2
        # names and types (secrets, ranges: checked before the kernel); imports papermill
        params = _typed(run.path, parameters, declared_parameters(run.path))
        exporter = render.warm_up(hide_code) if html_report else None
        executed = True
        nb, failure, interrupted = _execute(run, params, kernel, kernel_name)
        outcome = _outcome(run, nb, failure, interrupted, params)
        # a folder that stopped taking files mid-run: exit 1, the result still shown
        reportfiles.save(outcome, nb, exporter, run.path, run.started_at, hide_code, interrupted)
        return outcome
    except BaseException:
        if not executed:  # refused before anything ran: nothing stays written
            paths.remove_empty_folders(run.made)
        raise
    finally:
        if kernel is not None:
            kernel.close(kill=not executed)


def _execute(
    run: _Run, params: dict[str, Any], kernel: Kernel, kernel_name: str
) -> tuple[Any, Failure | None, bool]:
    """(notebook, why it stopped, interrupted). Ctrl-C: the cells so far become a partial
    report. The kernel is asked to exit as soon as the cells are done."""
    try:
        nb, failure = execution.execute(run.path, run.nb_out, params, kernel, kernel_name)
        kernel.request_shutdown()  # it exits while the report is written
        interrupted = False
    except KeyboardInterrupt:
        quiet_dead_kernel_tasks()
        kernel.close(kill=True)  # busy in a cell: it would not answer a shutdown
        nb, failure = execution.partial(run.path, run.nb_out)
        interrupted = True
    execution.local_paths_out(nb, run.path, run.nb_out)
    return nb, failure, interrupted


def _outcome(
    run: _Run, nb: Any, failure: Failure | None, interrupted: bool, params: dict[str, Any]
) -> RunOutcome:
    """The verdict: exit code from the interruption, the error or the recorded result."""
    seconds = time.monotonic() - run.started
    result = result_from_notebook(nb)
    error = str(failure) if failure else None
    if interrupted:
        exit_code = EXIT_INTERRUPTED
    elif failure:  # the exception's own code: a refusal (2) or a finding (3); else 1
        # (a class defined outside errors.py resolves too: headline.py, which outcome.py
        # imports, imports every such class)
        exit_code = exit_code_for(failure.name or "")
    elif result is None:
        exit_code, error = EXIT_FAILED, "the notebook recorded no result (record_result)"
    else:
        exit_code = exit_code_of(result)
    return RunOutcome(
        name=run.path.stem,
        exit_code=exit_code,
        out_dir=str(run.run_dir),
        notebook_path=str(run.nb_out),
        html_path=None,
        result_path=str(run.run_dir / "result.json"),
        result=result,
        error=error,
        failed_cell=failure.cell if failure else None,
        seconds=seconds,
        parameters=params,
        error_name=failure.name if failure else None,
    )
