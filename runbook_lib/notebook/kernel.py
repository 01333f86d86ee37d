"""The notebook's kernel, started by the runner itself (see runner.py for why)."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

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
