"""The one line a reader needs from a run: the HTML report's header and the notebook's own
verdict block say it the same way."""

from __future__ import annotations

from typing import Any

from runbook_lib.errors import ONE_LINE_ERRORS, RunbookError, exit_code_for


def message_alone(error: str | None, error_name: str | None = None) -> str | None:
    """The error's message without its class name, when that message is the whole story
    (what to do included) and is shown alone: a class that says so (ONE_LINE_ERRORS) or one
    with an exit code of its own (a refusal or a finding). None otherwise.

    `error_name` is the exception's class name as the kernel gave it (papermill's `ename`).
    A caller holding only the text (a result.json record: the fleet's rows, the HTML report)
    passes none: the name is then the text before the first ": ", as the runner wrote it."""
    if not error:
        return None
    name = error_name if error_name is not None else error.partition(": ")[0]
    prefix = f"{name}: "
    if not error.startswith(prefix):  # the text is no longer that exception's (an upload's)
        return None
    if name in ONE_LINE_ERRORS or exit_code_for(name) != RunbookError.exit_code:
        return error[len(prefix) :]
    return None


def verdict_of(
    result: dict[str, Any] | None,
    exit_code: int,
    error: str | None = None,
    failed_cell: int | None = None,
    error_name: str | None = None,
) -> str:
    """The one line a reader needs: the notebook's own headline when it gave one."""
    if exit_code == 130:
        where = f" during cell {failed_cell}" if failed_cell is not None else ""
        return f"Interrupted (Ctrl-C){where}: this report is partial."
    if error:
        alone = message_alone(error, error_name)
        if alone is not None:  # its message is the whole story
            return alone
        where = f" in cell {failed_cell}" if failed_cell is not None else ""
        return f"Failed{where}: {error}"
    result = result or {}
    for key in ("headline", "verdict", "message"):
        text = result.get(key)
        if isinstance(text, str) and text.strip():
            return text.strip().splitlines()[0]
    if result.get("action") == "list" and "native_backups" in result:  # 04's listing
        kinds = ("item_backups", "table_exports", "native_backups")
        counts = [f"{len(result.get(k) or [])} {k.replace('_', ' ')}" for k in kinds]
        pitr = (result.get("pitr") or {}).get("enabled")
        return f"Backups: {', '.join(counts)}; point-in-time recovery {'on' if pitr else 'off'}."
    resets = result.get("resets")
    if isinstance(resets, list):
        return f"{len(resets)} reset(s) in the window" if resets else "No reset in the window."
    return "The notebook ran and found a problem." if exit_code == 3 else "All well."
