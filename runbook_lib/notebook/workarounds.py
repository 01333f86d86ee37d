"""Where the runner leans on a library's behaviour rather than its public API.

Each workaround is one function, and tests/unit/test_workarounds.py checks the library
facts it relies on, so an upgrade that changes them fails a test instead of the runner.
Each is kept for a gain measured on `runbook run 02_status` (issue 18): the median of paired
runs, the workaround's absence against its presence, alternating, on the sandbox (2 cores,
shared with other work: the load average is given with each figure).
"""

from __future__ import annotations

import functools
import sys
import time
from types import ModuleType
from typing import Any, cast

# jsonschema's optional format checkers: jsonschema._format imports each of these inside
# `with suppress(ImportError)` (or try/except ImportError) only to register a "format"
# checker. rfc3987_syntax alone compiles some forty lark grammars (~1.1 s); together the
# rest cost ~0.1 s more. Nothing in the runner's process validates a "format": nbformat
# validates notebooks with fastjsonschema, and its schema has no "format" keyword.
# Measured: 1.20 s of wall time and 1.30 s of CPU off a run (21 paired runs, 95% interval of
# the median 1.14-1.28 s; load ~1.2).
SCHEMA_FORMAT_MODULES = (
    "rfc3987_syntax",
    "rfc3986_validator",
    "rfc3339_validator",
    "fqdn",
    "webcolors",
    "jsonpointer",
    "uri_template",
    "isoduration",
)


def skip_unused_schema_formats() -> None:
    """Keep jsonschema (imported by nbformat, papermill, nbconvert) from importing its
    optional format-checker modules: a None entry in sys.modules makes the import fail with
    ImportError, which jsonschema handles by not registering that checker. Called in the
    runner's process only, before jsonschema is imported; setdefault keeps a module a caller
    already loaded."""
    # cast: typeshed types sys.modules as holding modules only; None is the import system's
    # documented way to block an import
    modules = cast("dict[str, ModuleType | None]", sys.modules)
    for name in SCHEMA_FORMAT_MODULES:
        modules.setdefault(name, None)


KERNEL_INFO_WAIT_S = 1.0  # per kernel_info request while the kernel boots (as jupyter_client)
IOPUB_IDLE_WAIT_S = 0.05  # then for its idle status on IOPub before asking again


@functools.cache
def ready_client_class() -> type:
    """jupyter_client's AsyncKernelClient with a wait_for_ready that ends as soon as the
    kernel is provably ready, instead of after a fixed 0.2 s of IOPub silence.

    jupyter_client's own check: kernel_info answered on shell and some message seen on
    IOPub, then IOPub drained until it stays quiet for 0.2 s (~0.2 s of every run, since
    nbclient waits once per notebook). Here: kernel_info answered, and its `idle` status seen
    on IOPub. A kernel publishes that last for a request, so IOPub is subscribed and holds
    nothing older; if the subscription was not up yet, the idle is missed and kernel_info is
    sent again, as jupyter_client does. Like jupyter_client's, it ends by handing the reply
    to the private `_handle_kernel_info_reply` (protocol version adaptation).

    Measured: 0.21 s off a run (41 paired runs, 95% interval of the median 0.14-0.25 s;
    load ~2.8, higher than the other figures': other work started meanwhile).
    """
    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
            while True:
                msg_id = self.kernel_info()
                reply = await _reply_to(self.shell_channel, msg_id, KERNEL_INFO_WAIT_S)
                if reply is not None and await _idle_after(
                    self.iopub_channel, msg_id, IOPUB_IDLE_WAIT_S
                ):
                    self._handle_kernel_info_reply(reply)
                    return
                if not await self.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    return ReadyClient


async def _reply_to(channel: Any, msg_id: str, wait_s: float) -> Any:
    """The reply to msg_id on channel, or None after wait_s without one."""
    from queue import Empty

    while True:
        try:
            msg = await channel.get_msg(timeout=wait_s)
        except Empty:
            return None
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


async def _idle_after(channel: Any, msg_id: str, wait_s: float) -> bool:
    """True once the kernel's idle status for msg_id arrives; False after wait_s of nothing."""
    from queue import Empty

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


def quiet_dead_kernel_tasks() -> None:
    """After Ctrl-C, nbclient's task for the running cell ends with DeadKernelError (the
    kernel is killed) and asyncio would print that traceback when the task is collected:
    noise after the one line the user gets. Other errors still reach asyncio's handler.
    The loop is jupyter_core's, the one nbclient's run_sync runs its tasks on."""
    from jupyter_core.utils import ensure_event_loop
    from nbclient.exceptions import DeadKernelError

    def handler(loop: Any, context: dict[str, Any]) -> None:
        if not isinstance(context.get("exception"), DeadKernelError):
            loop.default_exception_handler(context)

    ensure_event_loop().set_exception_handler(handler)
