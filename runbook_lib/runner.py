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
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .errors import InvalidInputError, NotebookNotFoundError
from .redact import refuse_secret_parameters
from .results import result_from_notebook, to_jsonable

# jsonschema (which nbformat, papermill and nbconvert import) imports rfc3987_syntax when it
# is installed, only to check the "iri" and "iri-reference" string formats; that import
# compiles some forty lark grammars, about 1.1 s of every run. The notebook schema uses
# neither format. A None entry makes the import fail with ImportError, which jsonschema
# handles by not registering those two checkers. Set here, in the runner's process only and
# before anything imports jsonschema; setdefault keeps a module some caller already loaded.
sys.modules.setdefault("rfc3987_syntax", None)

EXIT_OK, EXIT_FAILED, EXIT_PROBLEM = 0, 1, 3
# How the runner starts the kernel: what nbclient itself would pass, plus a quieter log.
KERNEL_ARGUMENTS = (
    # the kernel's own start-up warnings (TCP transport on loopback) are noise in a
    # scheduler's mail; cell errors still reach the notebook and the summary
    "--IPKernelApp.log_level=ERROR",
    # nbclient's default for headless runs: no IPython history file per kernel
    "--HistoryManager.hist_file=:memory:",
)
KERNEL_EXIT_POLL_S = 0.01  # jupyter_client polls every 0.1 s by default
KERNEL_INFO_WAIT_S = 1.0  # per kernel_info request while the kernel boots (as jupyter_client)
IOPUB_IDLE_WAIT_S = 0.05  # then for its idle status on IOPub before asking again
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
                    step = f" -> {check['next_step']}" if check.get("next_step") else ""
                    lines.append(
                        f"  [{check['state'].upper()}] {check['name']}: {check['detail']}{step}"
                    )
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
    body, _ = html_exporter(hide_code).from_notebook_node(nb)
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

    exporter = HTMLExporter(template_name="lab")
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


@functools.cache
def _ready_client_class() -> type:
    """jupyter_client's AsyncKernelClient with a wait_for_ready that ends as soon as the
    kernel is provably ready, instead of after a fixed 0.2 s of IOPub silence.

    jupyter_client's own check: kernel_info answered on shell and some message seen on
    IOPub, then IOPub drained until it stays quiet for 0.2 s (~0.2 s of every run, since
    nbclient waits once per notebook). Here: kernel_info answered, and its `idle` status seen
    on IOPub. A kernel publishes that last for a request, so IOPub is subscribed and holds
    nothing older; if the subscription was not up yet, the idle is missed and kernel_info is
    sent again, as jupyter_client does.
    """
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    async def reply_to(channel: Any, msg_id: str, wait_s: float) -> Any:
        while True:  # queue.Empty after wait_s without the reply
            msg = await channel.get_msg(timeout=wait_s)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    async def idle_after(channel: Any, msg_id: str, wait_s: float) -> bool:
        while True:
            try:
                msg = await channel.get_msg(timeout=wait_s)
            except Empty:
                return False
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"
            ):
                return True

    class ReadyClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
            while True:
                msg_id = self.kernel_info()
                try:
                    reply = await reply_to(self.shell_channel, msg_id, KERNEL_INFO_WAIT_S)
                except Empty:
                    reply = None
                if reply is not None and await idle_after(
                    self.iopub_channel, msg_id, IOPUB_IDLE_WAIT_S
                ):
                    self._handle_kernel_info_reply(reply)  # protocol version adaptation
                    return
                if not await self.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    return ReadyClient


class _Kernel:
    """The notebook's kernel, started by the runner itself rather than by nbclient.

    Started before papermill is even imported, it boots (~0.5 s) while the runner loads
    papermill and checks the parameters, instead of after. Same kernel, arguments, working
    folder and environment as nbclient would give it (plus RUNBOOK_RUN_DIR); papermill gets
    it as `km`, and nbclient's client is a `_ready_client_class()`. A run that never executes
    (bad parameters) kills it at once; otherwise it is asked to shut down gracefully as soon
    as the cells are done, and `close()` waits for it (SIGTERM, then SIGKILL, after
    jupyter_client's shutdown_wait_time) and frees its files.
    """

    def __init__(self, kernel_name: str, cwd: Path, env: dict[str, str]) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        clients: list[Any] = []  # nbclient's; it leaves them open when it does not own km

        class Client(_ready_client_class()):  # type: ignore[misc]
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(**kwargs)
                clients.append(self)

        self._sync = run_sync
        self.clients = clients
        self.km = AsyncKernelManager(kernel_name=kernel_name)
        self.km.client_factory = Client
        self._stopping = False
        self._sync(self.km.start_kernel)(
            extra_arguments=list(KERNEL_ARGUMENTS), cwd=str(cwd), env=env
        )

    def request_shutdown(self) -> None:
        """Ask the (idle) kernel to exit; the caller writes the report meanwhile."""
        if not self._stopping and self.km.has_kernel:
            self._stopping = True
            self._sync(self.km.request_shutdown)()

    def close(self, *, kill: bool = False) -> None:
        for client in self.clients:
            client.stop_channels()
        self.clients.clear()
        if not self.km.has_kernel:
            return
        if self._stopping:
            self._sync(self.km.finish_shutdown)(pollinterval=KERNEL_EXIT_POLL_S)
            self._sync(self.km.cleanup_resources)()
        else:  # still running: what nbclient does (interrupt, ask, wait), or kill
            self._sync(self.km.shutdown_kernel)(now=kill)


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
    out = str(out) if out is not None else str(paths.reports_dir())
    remote = out.startswith("s3://")
    local_root = Path(tempfile.mkdtemp(prefix="runbook-")) if remote else Path(out)
    run_dir, made = _reserve_run_dir(local_root, f"{_timestamp()}-{path.stem}")
    if remote:
        made.append(local_root)
    nb_out = run_dir / f"{path.stem}.ipynb"
    started = time.monotonic()
    kernel, executed = None, False
    try:
        # RUNBOOK_RUN_DIR: the kernel's artifact_path() writes into the report folder
        kernel = _Kernel(
            kernel_name, paths.project_root(), {**os.environ, "RUNBOOK_RUN_DIR": str(run_dir)}
        )
        params = prepare_parameters(path, dict(parameters or {}))  # imports papermill
        exporter = _in_thread(lambda: html_exporter(hide_code)) if html else None
        executed = True
        nb, error, failed_cell = _execute(path, nb_out, params, kernel, kernel_name)
        kernel.request_shutdown()  # it exits while the report is written
        seconds = time.monotonic() - started
        result = result_from_notebook(nb)
        if error:
            exit_code = EXIT_FAILED
        elif result is None:
            exit_code, error = EXIT_FAILED, "the notebook recorded no result (record_result)"
        else:
            exit_code = EXIT_PROBLEM if result.get("problem") else EXIT_OK
        html_path = None
        if exporter is not None:
            exporter.result()
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
    if remote:
        outcome = _publish(outcome, f"{out.rstrip('/')}/{run_dir.name}")
    if log:
        log(outcome.summary())
    return outcome


def _publish(outcome: RunOutcome, prefix: str) -> RunOutcome:
    """Copy the report folder to S3 through papermill's own I/O layer."""
    from papermill.iorw import papermill_io
    from papermill.s3 import S3

    # papermill keeps one boto3 session per process, built from the environment of its first
    # use; a long-lived caller (a test session, a restarted sandbox) may point elsewhere now.
    with S3.lock:
        S3.s3_session = (None, None, None)

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
