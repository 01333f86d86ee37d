"""The notebook's kernel, started by the runner itself (see runner.py for why)."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path
from typing import Any

from runbook_lib.notebook.workarounds import kernel_spec_manager, ready_client_class

# How the runner starts the kernel: what nbclient itself would pass, plus a quieter log.
KERNEL_ARGUMENTS = (
    # the kernel's own start-up warnings (TCP transport on loopback) are noise in a
    # scheduler's mail; cell errors still reach the notebook and the summary
    "--IPKernelApp.log_level=ERROR",
    # nbclient's default for headless runs: no IPython history file per kernel
    "--HistoryManager.hist_file=:memory:",
)
KERNEL_EXIT_POLL_S = 0.01  # jupyter_client polls every 0.1 s by default


class _Kernel:
    """The notebook's kernel, started by the runner itself rather than by nbclient.

    Started before papermill is even imported, it boots (~0.5 s) while the runner loads
    papermill and checks the parameters, instead of after. Same kernel, arguments, working
    folder and environment as nbclient would give it (plus RUNBOOK_RUN_DIR); papermill gets
    it as `km`, and nbclient's client is a `ready_client_class()`. A run that never executes
    (bad parameters) kills it at once; otherwise it is asked to shut down gracefully as soon
    as the cells are done, and `close()` waits for it (SIGTERM, then SIGKILL, after
    jupyter_client's shutdown_wait_time) and frees its files.
    """

    def __init__(self, kernel_name: str, cwd: Path, env: dict[str, str]) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        clients: list[Any] = []  # nbclient's; it leaves them open when it does not own km

        class Client(ready_client_class()):  # type: ignore[misc]
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(**kwargs)
                clients.append(self)

        self._sync = run_sync
        self.clients = clients
        self.km = AsyncKernelManager(
            kernel_name=kernel_name, kernel_spec_manager=kernel_spec_manager()
        )
        self.km.client_factory = Client
        self._stopping = False
        self._sync(self.km.start_kernel)(
            extra_arguments=list(KERNEL_ARGUMENTS), cwd=str(cwd), env=env
        )

    def preload(self, modules: list[str]) -> None:
        """Have the kernel import `modules` as soon as it is up, while the runner is still
        loading papermill: the first cells then find them imported (~0.4 s of 02_status's
        cells is its imports). A silent request (no output, no execution count, no name
        bound) from a client of its own; its shell channel queues it until the kernel
        listens, and nbclient's kernel_info, sent later, is answered after it (so these
        imports count in papermill's 60 s start timeout). A module that fails to import is
        skipped here: the cell that imports it shows the error."""
        if not modules:
            return
        from jupyter_client.session import Session

        # its own session: ZMQ names a client's shell socket after its session id, and the
        # kernel answers only the first of two sockets with one name (nbclient's is next)
        own = Session(key=self.km.session.key, signature_scheme=self.km.session.signature_scheme)
        client = self.km.client(session=own)  # one of self.clients: closed with the kernel
        client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        code = f"__import__({__name__!r}, fromlist=['_']).import_quietly({modules!r})"
        client.execute(code, silent=True, store_history=False, allow_stdin=False)

    def request_shutdown(self) -> None:
        """Ask the (idle) kernel to exit; the caller writes the report meanwhile."""
        if not self._stopping and self.km.has_kernel and not self._disconnected():
            self._stopping = True
            self._sync(self.km.request_shutdown)()

    def close(self, *, kill: bool = False) -> None:
        for client in self.clients:
            client.stop_channels()
        self.clients.clear()
        if not self.km.has_kernel:
            return
        if self._disconnected():
            self._end_process()
        elif self._stopping:
            self._sync(self.km.finish_shutdown)(pollinterval=KERNEL_EXIT_POLL_S)
            self._sync(self.km.cleanup_resources)()
        else:  # still running: what nbclient does (interrupt, ask, wait), or kill
            self._sync(self.km.shutdown_kernel)(now=kill)

    def _disconnected(self) -> bool:
        """nbclient tore the manager's connection down (its ZMQ context is destroyed) after
        a kernel that died or never answered before the first cell: no message can reach
        that kernel any more, and asking would raise instead of the error that stopped
        the run."""
        return bool(self.km.context.closed)

    def _end_process(self) -> None:
        import signal

        if self._sync(self.km.is_alive)():
            self._sync(self.km.signal_kernel)(signal.SIGKILL)


def import_quietly(modules: list[str]) -> None:
    """Runs in the kernel (`_Kernel.preload`): import each module, ignoring failures."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the notebook's own import shows the error
            continue


def notebook_imports(path: Path) -> list[str]:
    """The modules a notebook's code cells import at their top level (what `preload`
    imports early): `import a.b` gives a.b, `from a import b` gives a and a.b (b may be a
    submodule). In order, without repeats; [] when the notebook cannot be read."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
        trees = [ast.parse("".join(c["source"])) for c in cells if c["cell_type"] == "code"]
    except (OSError, ValueError, KeyError, TypeError, SyntaxError):
        return []
    names: list[str] = []
    for node in (n for tree in trees for n in tree.body):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return list(dict.fromkeys(names))
