"""The one line a reader needs from a run: the HTML report's header and the notebook's own
verdict block say it the same way."""

from __future__ import annotations

from typing import Any


def verdict_of(
    result: dict[str, Any] | None,
    exit_code: int,
    error: str | None = None,
    failed_cell: int | None = None,
) -> str:
    """The one line a reader needs: the notebook's own headline when it gave one."""
    if exit_code == 130:
        where = f" during cell {failed_cell}" if failed_cell is not None else ""
        return f"Interrupted (Ctrl-C){where}: this report is partial."
    if error:
        from runbook_lib.errors import EXIT_CODES, ONE_LINE_ERRORS

        ename, _, message = error.partition(": ")
        if ename in ONE_LINE_ERRORS or ename in EXIT_CODES:  # its message is the whole story
            return message
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
