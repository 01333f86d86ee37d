"""Errors in JupyterLab are messages (issue 20): a RunbookError shows as its message and its
next step, written for where the user is, instead of ~45 lines of frames through steps/.

`install()` (called by the notebooks' setup) registers an IPython custom exception display
for RunbookError only. ipykernel still answers the cell with status "error", ename = the
class name and evalue = str(exception), so papermill still raises and the runner still takes
the exit code from ename (errors.exit_code_for); only the displayed `traceback` lines
change. Every other exception keeps IPython's own traceback.

Where the user is: headless under `runbook run` (RUNBOOK_RUN_DIR is set in the kernel's
environment) the texts stay exactly as written, `-p NAME VALUE` and all. In a notebook,
command-line forms are rewritten into the parameters cell's terms (`for_notebook`, in
labhints.py), because the person reading them has a parameters cell in front of them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from runbook_lib.errors import RunbookError
from runbook_lib.notebook.labhints import for_notebook

__all__ = ["error_lines", "for_here", "for_notebook", "install", "interactive"]

RUN_DIR_ENV = "RUNBOOK_RUN_DIR"  # set by the runner (runner.py) in the kernel's environment
TB_NOTE = "Where in the code: run %tb in a new cell."
RED, BOLD, RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"  # ANSI, as IPython colours its tracebacks


# ---- where the user is ------------------------------------------------------------------


def interactive() -> bool:
    """True in a notebook someone is looking at: an IPython kernel not started by
    `runbook run`. The runner's own process has no RUNBOOK_RUN_DIR either, hence the kernel
    check (IPython looked at only when already imported: the CLI never pays for it)."""
    if os.environ.get(RUN_DIR_ENV):
        return False
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def for_here(text: str, namespace: Mapping[str, Any] | None = None) -> str:
    """`text` for where the user is: `for_notebook` in a notebook, unchanged headless.
    `namespace` defaults to the running kernel's user namespace."""
    if not interactive():
        return text
    if namespace is None:
        namespace = _user_namespace()
    return for_notebook(text, namespace)


def _user_namespace() -> Mapping[str, Any]:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "user_ns", None) or {}


# ---- the display ------------------------------------------------------------------------


def error_lines(
    exc: BaseException, namespace: Mapping[str, Any], *, in_notebook: bool
) -> list[str]:
    """The structured traceback shown for `exc`: "Class: message" and "Next step: hint",
    no frames. In a notebook both are `for_notebook`'s, plus how to see the frames."""
    text, hint = str(exc), str(getattr(exc, "hint", "") or "")
    suffix = f" Next step: {hint}"
    message = text[: -len(suffix)] if hint and text.endswith(suffix) else text
    hint = hint if hint and text.endswith(suffix) else ""
    if in_notebook:
        message, hint = for_notebook(message, namespace), for_notebook(hint, namespace)
    lines = [f"{RED}{BOLD}{type(exc).__name__}{RESET}: {message}"]
    if hint:
        lines.append(f"{BOLD}Next step:{RESET} {hint}")
    if in_notebook:
        lines.append(TB_NOTE)
    return lines


def _show(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> Any:
    """IPython's custom exception handler (run as a method of the shell). It publishes the
    lines itself: IPython discards what a custom handler returns."""
    try:
        lines = error_lines(value, shell.user_ns, in_notebook=interactive())
    except Exception:  # a bug here must not hide the user's error: IPython's own display
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    # what IPython's showtraceback records, so %tb and %debug still see the real frames
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    # ipykernel's _showtraceback sends the "error" output (ename, evalue, these lines) and
    # keeps the lines for the execute_reply; the reply's status and ename come from the
    # exception itself (ExecutionResult.error_in_exec), whatever is displayed
    shell._showtraceback(etype, value, lines)
    if getattr(shell, "call_pdb", False):
        shell.debugger(force=True)
    return lines


def install(shell: Any = None) -> None:
    """Show RunbookErrors as messages in this kernel (no-op outside IPython). Installing
    again replaces the handler with the same one: harmless."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython ships with ipykernel
            return
        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return
    shell.set_custom_exc((RunbookError,), _show)
