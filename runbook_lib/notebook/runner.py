"""Run a notebook headless: papermill executes, nbconvert renders, the result is recorded.

Each run writes `<out>/<UTC timestamp>-NAME/` with the executed `NAME.ipynb`, a
self-contained `NAME.html` and `result.json`. Exit codes are for schedulers:
0 all well, 3 the notebook ran and found a problem, 1 execution failed.

Where a run's time goes (`make bench` measures it; 02_status on the sandbox): the kernel's
own start (~0.5 s: a second Python, ipykernel, IPython), the runner's imports (papermill
~0.4 s), the cells, the HTML export (~0.4 s the first time in a process: nbconvert and its
template) and the kernel's shutdown. So the kernel is started first and boots while papermill
loads, the HTML template is compiled in a thread while the cells run, and the kernel shuts
down while the report is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import EXIT_CODES, ONE_LINE_ERRORS, InvalidInputError, NotebookNotFoundError
from runbook_lib.notebook import paramcheck, publish, report
from runbook_lib.notebook.kernel import _Kernel
from runbook_lib.notebook.results import result_from_notebook, to_jsonable
from runbook_lib.notebook.summary import summary_lines
from runbook_lib.redact import refuse_secret_parameters

# jsonschema (which nbformat, papermill and nbconvert import) imports rfc3987_syntax when it
# is installed, only to check the "iri" and "iri-reference" string formats; that import
# compiles some forty lark grammars, about 1.1 s of every run. The notebook schema uses
# neither format. A None entry makes the import fail with ImportError, which jsonschema
# handles by not registering those two checkers. Set here, in the runner's process only and
# before anything imports jsonschema; setdefault keeps a module some caller already loaded.
sys.modules.setdefault("rfc3987_syntax", None)

EXIT_OK, EXIT_FAILED, EXIT_PROBLEM, EXIT_INTERRUPTED = 0, 1, 3, 130
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
        """What a terminal or a scheduler's mail shows. Strings (messages, commands) are
        never cut: a command cut short cannot be copied. Only nested values are shortened,
        and the commands inside them are shown whole on lines of their own."""
        state = {
            EXIT_OK: "OK",
            EXIT_PROBLEM: "PROBLEM FOUND",
            EXIT_FAILED: "FAILED",
            EXIT_INTERRUPTED: "INTERRUPTED",
        }.get(self.exit_code, "FAILED")
        if self.exit_code == EXIT_INTERRUPTED:  # one line: the user stopped it, knows why
            cell = f" in cell {self.failed_cell}" if self.failed_cell is not None else ""
            return f"{self.name}: {state}{cell} (Ctrl-C, exit 130); partial report: {self.where()}"
        ename, _, message = (self.error or "").partition(": ")
        if ename in ONE_LINE_ERRORS or ename in EXIT_CODES:  # the message says what to do
            return f"{self.name}: {message}"
        lines = [f"{self.name}: {state} (exit {self.exit_code}, {self.seconds:.1f}s)"]
        if self.error:
            where = f" in cell {self.failed_cell}" if self.failed_cell is not None else ""
            lines.append(f"  error{where}: {self.error}")
        if self.result:
            lines += summary_lines(self.result)
        lines.append(f"  report: {self.where()}")
        lines.append(f"  result: {self.result_path}")
        return "\n".join(lines)

    def where(self) -> str:
        return self.html_path or self.notebook_path


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
    coerced = {k: coerce(k, v, declared[k]) for k, v in params.items()}
    paramcheck.check(path.stem, coerced, set(declared))  # ranges, required values: exit 2
    return coerced


def render_html(nb: Any, *, hide_code: bool = False, header: str = "", title: str = "") -> str:
    """Self-contained HTML from the in-memory notebook: images are embedded as data URIs,
    CSS is inlined and no script comes from the network, so the file can be e-mailed as
    it is. `header` (report.header_html) opens the body; `title` names the page."""
    shown = report.for_html(nb, title or nb.get("metadata", {}).get("title", ""))
    body, _ = html_exporter(hide_code).from_notebook_node(
        shown, resources={"runbook_header": header, "runbook_css": report.CSS}
    )
    return body


@functools.cache
def html_exporter(hide_code: bool = False) -> Any:
    """The nbconvert "lab" HTML exporter, built once per process and warmed up.

    Building it and rendering a first notebook costs ~0.4 s (nbconvert's imports, the Jinja
    template, the CSS it inlines); later renders take a few ms. `runbook demo` renders
    seven notebooks with the one exporter, and `run_notebook` builds it in a thread while
    the kernel runs the cells.
    """
    from nbconvert import HTMLExporter
    from nbformat import v4

    # the lab template with its CDN scripts left out and the verdict header (report.py)
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[report.template_loader()],
        template_file=report.TEMPLATE_FILE,
    )
    exporter.exclude_input = hide_code
    exporter.exclude_input_prompt = hide_code
    exporter.exclude_output_prompt = hide_code
    warm_up = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# warm-up\n*compiles* the template"),
            v4.new_code_cell(
                "1",
                outputs=[
                    v4.new_output("stream", text="1"),
                    v4.new_output("display_data", data={"text/html": "<b>1</b>"}),
                ],
            ),
        ],
        metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}},
    )
    exporter.from_notebook_node(warm_up)
    return exporter


def _in_thread(fn: Callable[[], Any]) -> Future:
    """Run fn in a daemon thread; its Future gives the result (or re-raises its error)."""
    future: Future = Future()

    def work() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=work, name="runbook-html-warm-up", daemon=True).start()
    return future


def _timestamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _reserve_run_dir(root: Path, name: str) -> tuple[Path, list[Path]]:
    """Create root/name, or name-2, name-3... when a run in the same second has it (a run
    takes under a second). Created now, atomically, because the kernel is told where it is
    before it starts. Returns the folder and every folder made, deepest first, so a refused
    run can take them away again."""
    made = [p for p in (root, *root.parents) if not p.exists()]
    root.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        run_dir = root / (name if n == 1 else f"{name}-{n}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        return run_dir, [run_dir, *made]
    raise AssertionError("unreachable")


def _remove_folders(folders: list[Path]) -> None:
    """Remove folders this run made, if still empty (deepest first)."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _execute(
    path: Path, nb_out: Path, params: dict[str, Any], kernel: _Kernel, kernel_name: str
) -> tuple[Any, str | None, int | None]:
    """papermill on the runner's kernel: (executed notebook, error, failing cell). A cell
    error is not raised: papermill has written the notebook with its error banner."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        nb = papermill.execute_notebook(
            str(path),
            str(nb_out),
            parameters=params,
            kernel_name=kernel_name,
            cwd=str(paths.project_root()),
            progress_bar=False,
            log_output=False,
            km=kernel.km,
        )
    except PapermillExecutionError as exc:
        return (
            nbformat.read(str(nb_out), as_version=4),
            f"{exc.ename}: {exc.evalue}",
            exc.exec_count,
        )
    return nb, None, None


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
    path = notebook_path(name)
    refuse_secret_parameters(dict(parameters or {}))  # before a kernel process exists
    # so are ranges and required values (bad usage, exit 2: no kernel, no report folder)
    paramcheck.check(path.stem, dict(parameters or {}), paramcheck.declared_names(path))
    out = str(out) if out is not None else str(paths.reports_dir())
    # s3://: the bucket must take the report before anything runs; the report is written
    # under reports/ first and that copy goes once it is uploaded
    remote = publish.parse(out) if publish.is_s3(out) else None
    if remote:
        publish.check_writable(remote)
    local_root = paths.reports_dir() if remote else Path(out)
    run_dir, made = _reserve_run_dir(local_root, f"{_timestamp()}-{path.stem}")
    nb_out = run_dir / f"{path.stem}.ipynb"
    started, started_at = time.monotonic(), dt.datetime.now(dt.timezone.utc)
    interrupted = False
    kernel, executed = None, False
    try:
        # RUNBOOK_RUN_DIR: the kernel's artifact_path() writes into the report folder
        kernel = _Kernel(
            kernel_name, paths.project_root(), {**os.environ, "RUNBOOK_RUN_DIR": str(run_dir)}
        )
        params = prepare_parameters(path, dict(parameters or {}))  # imports papermill
        exporter = _in_thread(lambda: html_exporter(hide_code)) if html else None
        executed = True
        try:
            nb, error, failed_cell = _execute(path, nb_out, params, kernel, kernel_name)
            kernel.request_shutdown()  # it exits while the report is written
        except KeyboardInterrupt:  # Ctrl-C: the cells so far become a partial report
            _quiet_dead_kernel_tasks()
            kernel.close(kill=True)  # busy in a cell: it would not answer a shutdown
            nb, failed_cell = _partial(path, nb_out)
            interrupted, error = True, "interrupted (Ctrl-C)"
        _local_paths_out(nb, path, nb_out)
        seconds = time.monotonic() - started
        result = result_from_notebook(nb)
        if interrupted:
            exit_code = EXIT_INTERRUPTED
        elif error:  # a refusal or a contradiction has its own code; anything else failed
            exit_code = EXIT_CODES.get(error.partition(": ")[0], EXIT_FAILED)
        elif result is None:
            exit_code, error = EXIT_FAILED, "the notebook recorded no result (record_result)"
        else:
            exit_code = EXIT_PROBLEM if result.get("problem") else EXIT_OK
        html_path = None
        if exporter is not None:
            exporter.result()
            html_path = run_dir / f"{path.stem}.html"
            html_path.write_text(
                _report_html(
                    nb, path.stem, hide_code, started_at, result, exit_code, error, failed_cell
                ),
                encoding="utf-8",
            )
        record = to_jsonable(
            {
                **(result or {}),
                "notebook": path.stem,
                "exit_code": exit_code,
                "error": error,
                "failed_cell": failed_cell,
                "interrupted": interrupted,
                "seconds": round(seconds, 2),
                "parameters": params,
            }
        )
        result_path = run_dir / "result.json"
        result_path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    except BaseException:
        if not executed:  # refused before anything ran: nothing stays written
            _remove_folders(made)
        raise
    finally:
        if kernel is not None:
            kernel.close(kill=not executed)
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
    if remote and not interrupted:  # a stopped run stays local, where it is quickest read
        outcome = _publish(outcome, remote, made)
    if log:
        log(outcome.summary())
    return outcome


def _publish(outcome: RunOutcome, remote: publish.S3Location, made: list[Path]) -> RunOutcome:
    """Upload the report folder, then remove the local copy. If the upload fails, the
    local report stays where it is, the summary says where, and the run exits 1."""
    folder = Path(outcome.out_dir)
    shown = {str(folder): f"{remote.url}/{folder.name}", str(paths.project_root()): "<runbook>"}
    try:
        prefix = publish.upload(folder, remote, shown)
    except Exception as exc:  # any failure: the report must not be lost with it
        outcome.exit_code = EXIT_FAILED
        outcome.error = (
            f"{publish.describe_failure(exc, remote)}; the report is kept at {folder}"
            + (f" (the notebook's own outcome: {outcome.error})" if outcome.error else "")
        )
        return outcome
    shutil.rmtree(folder, ignore_errors=True)
    _remove_folders(made[1:])  # reports/ itself, if this run made it
    for attr in ("notebook_path", "html_path", "result_path"):
        if getattr(outcome, attr):
            setattr(outcome, attr, f"{prefix}/{Path(getattr(outcome, attr)).name}")
    outcome.out_dir = prefix
    return outcome


def _local_paths_out(nb: Any, path: Path, nb_out: Path) -> None:
    """papermill records where it read and wrote the notebook as absolute paths: the report
    names them relative to the project and to the report folder instead."""
    import nbformat

    meta = nb.get("metadata", {}).get("papermill")
    if not meta:
        return
    source = path.resolve()
    root = paths.project_root().resolve()
    meta["input_path"] = str(source.relative_to(root) if source.is_relative_to(root) else path.name)
    meta["output_path"] = nb_out.name
    nbformat.write(nb, str(nb_out))


def _quiet_dead_kernel_tasks() -> None:
    """After Ctrl-C, nbclient's task for the running cell ends with "Kernel died" (the
    kernel is killed) and asyncio would print that traceback when the task is collected:
    noise after the one line the user gets. Other errors still reach asyncio's handler."""
    from jupyter_core.utils import ensure_event_loop
    from nbclient.exceptions import DeadKernelError

    def handler(loop: Any, context: dict[str, Any]) -> None:
        if not isinstance(context.get("exception"), DeadKernelError):
            loop.default_exception_handler(context)

    ensure_event_loop().set_exception_handler(handler)


def _partial(path: Path, nb_out: Path) -> tuple[Any, int | None]:
    """The notebook as papermill last saved it, marked as interrupted, and the number of
    the cell that was running."""
    import nbformat

    source = nb_out if nb_out.exists() else path
    nb = nbformat.read(str(source), as_version=4)
    code = [cell for cell in nb.cells if cell.get("cell_type") == "code"]
    # papermill marks the cell it was in "completed" on the way out: the running cell is
    # the last one that started
    started = [
        n
        for n, cell in enumerate(code, start=1)  # numbered as papermill numbers a failed cell
        if cell.get("metadata", {}).get("papermill", {}).get("start_time")
    ]
    nb.metadata["runbook"] = {"interrupted": True}
    nbformat.write(nb, str(nb_out))
    return nb, (started[-1] if started else None)


def _report_html(
    nb: Any,
    name: str,
    hide_code: bool,
    started_at: dt.datetime,
    result: dict[str, Any] | None,
    exit_code: int,
    error: str | None,
    failed_cell: int | None,
) -> str:
    """The HTML with its verdict header and <title> (report.py)."""
    target = report.target_of(nb)
    verdict = report.verdict_of(result, exit_code, error, failed_cell)
    header = report.header_html(
        name=name,
        title=report.title_of(nb, name),
        target=report.target_label(target),
        verdict=verdict,
        exit_code=exit_code,
        started=started_at,
    )
    return render_html(
        nb,
        hide_code=hide_code,
        header=header,
        title=report.page_title(name, target, exit_code, verdict),
    )
