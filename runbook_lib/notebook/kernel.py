"""The notebook's kernel, started by the runner itself (see runner.py for why)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbook_lib.notebook.workarounds import ready_client_class

# How the runner starts the kernel: what nbclient itself would pass, plus a quieter log.
KERNEL_ARGUMENTS = (
    # the kernel's own start-up warnings (TCP transport on loopback) are noise in a
    # scheduler's mail; cell errors still reach the notebook and the summary
    "--IPKernelApp.log_level=ERROR",
    # nbclient's default for headless runs: no IPython history file per kernel
    "--HistoryManager.hist_file=:memory:",
)
KERNEL_EXIT_POLL_S = 0.01  # jupyter_client polls every 0.1 s by default


class Kernel:
    """The notebook's kernel, started by the runner itself rather than by nbclient.

    Started before papermill is even imported, it boots (~0.5 s) while the runner loads
    papermill and checks the parameters, instead of after: measured 0.61 s off a
    `runbook run 02_status` (21 paired runs against papermill starting its own kernel, 95%
    interval of the median 0.53-0.70 s; load ~1.5 on 2 cores), 0.21 s of which is the ready
    client's (workarounds.py: papermill's own kernel comes with jupyter_client's client),
    so ~0.4 s is the early start's own. Same kernel, arguments,
    working folder and environment as nbclient would give it (plus RUNBOOK_RUN_DIR);
    papermill gets it as `km` (nbclient's public parameter), and nbclient's client is a
    `ready_client_class()`.

    A run that never executes (bad parameters) kills it at once. Otherwise it is asked to
    shut down as soon as the cells are done and exits while the report is written; `close()`
    then waits for it, polling every 10 ms instead of jupyter_client's 100 ms (SIGTERM, then
    SIGKILL, after jupyter_client's shutdown_wait_time) and frees its files. Measured 0.08 s
    off a run (41 paired runs against shutting it down after the report with
    jupyter_client's shutdown_kernel, as nbclient does; 95% interval of the median
    0.05-0.10 s, load ~1.8).
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
        self.km = AsyncKernelManager(kernel_name=kernel_name)
        self.km.client_factory = Client
        self._stopping = False
        self._sync(self.km.start_kernel)(
            extra_arguments=list(KERNEL_ARGUMENTS), cwd=str(cwd), env=env
        )

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
