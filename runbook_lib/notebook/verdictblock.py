"""The verdict, in the notebook itself, where the eye lands.

The HTML report opens with its verdict; a notebook in JupyterLab had only a raw JSON dump in
its last cell, and the lab leaves the reader there after Run All. So every notebook shows one
block, twice from the same result:

- right under the banner, a placeholder that `record_result` fills in when the last cell
  runs (an IPython display id: JupyterLab and papermill both update it in place), so the
  first screen holds the verdict;
- as the last cell's output, where Run All leaves the reader.

The block holds the state, the headline, the count, every check that is not OK, and the
message's own lines (To apply, Undo, To do it) as readable lines that wrap at words. In a
notebook the commands read as parameters-cell edits; headless they keep the `-p` form.
"""

from __future__ import annotations

import html
import uuid
from typing import Any

from runbook_lib.notebook import labmessages
from runbook_lib.notebook.headline import verdict_of

COLOURS = {"OK": "#2b7a0b", "PROBLEM FOUND": "#b00020", "WAITING": "#5a5a5a"}
# Text wraps at words (JupyterLab's own output style breaks inside words).
WRAP = "white-space:pre-wrap;word-break:normal;overflow-wrap:break-word"
BOX = (
    "border-left:8px solid {colour};padding:6px 14px;margin:4px 0;line-height:1.45;"
    "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;" + WRAP
)
_STATE: dict[str, str | None] = {"display_id": None}


def headline(result: dict[str, Any]) -> str:
    """The one line a reader needs, as the HTML report's header gives it."""
    return verdict_of(result, 3 if result.get("problem") else 0)


def count_line(result: dict[str, Any]) -> str | None:
    """The count as the run left it, named for what it is."""
    applied = bool(result.get("applied"))
    for key, label in (
        ("count", "count"),
        ("recovered", "count now (recovered)" if applied else None),
        ("new", "count now" if applied else None),
        ("live", "live count"),
        ("old", "live count"),
        ("count_after", "count after"),
        ("value", "count"),
    ):
        value = result.get(key)
        if label and isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{label}: {int(value):,}"
    return None


def detail_lines(result: dict[str, Any]) -> list[str]:
    """Checks that are not OK, then the message's further lines and any command or undo
    that the message does not already hold."""
    lines = [
        f"[{c['state'].upper()}] {c['name']}: {c['detail']}"
        + (f" → {c['next_step']}" if c.get("next_step") else "")
        for c in result.get("checks") or []
        if c.get("state") != "ok"
    ]
    text = next((result[k] for k in ("message", "verdict") if isinstance(result.get(k), str)), "")
    rest = [line for line in text.strip().splitlines()[1:] if line.strip()]
    lines += rest
    wrote = result.get("applied") is True  # 04's backup_path is a source, not a backup
    for key, label in (
        ("command", "To do it"),
        ("backup_path", "Backup of the item as it was" if wrote else None),
        ("undo_command", "Undo (AWS CLI)"),
        ("undo_runbook", "Undo (runbook)"),
    ):
        value = result.get(key)
        if label and isinstance(value, str) and value and value not in text:
            lines.append(f"{label}: {value}")
    return lines


def render(result: dict[str, Any]) -> tuple[str, str]:
    """(HTML, plain text) of the block for a recorded result."""
    state = "PROBLEM FOUND" if result.get("problem") else "OK"
    top = headline(result)
    count = count_line(result)
    lines = [for_reader(line) for line in detail_lines(result)]
    text = "\n".join([f"{state} · {top}", *([count] if count else []), *lines])
    colour = COLOURS[state]
    esc = html.escape
    body = "".join(f'<div style="margin-top:3px">{esc(line)}</div>' for line in lines)
    page = (
        f'<div class="runbook-verdict-block" style="{BOX.format(colour=colour)}">'
        f'<div style="font-size:1.15em;color:{colour}"><b>{state}</b> · '
        f'<span class="runbook-verdict-line">{esc(for_reader(top))}</span></div>'
        + (f"<div><b>{esc(count)}</b></div>" if count else "")
        + body
        + "</div>"
    )
    return page, text


def for_reader(text: str) -> str:
    """A command line as a notebook user acts on it; unchanged headless."""
    if not labmessages.interactive():
        return text
    return labmessages.for_notebook(text, _user_namespace())


def _user_namespace() -> dict[str, Any]:
    from IPython import get_ipython

    shell = get_ipython()
    return dict(shell.user_ns) if shell is not None else {}


def show_placeholder() -> None:
    """The block's place under the banner, filled in by `update` when the last cell runs."""
    from IPython import get_ipython
    from IPython.display import HTML, display

    if get_ipython() is None:
        return
    _STATE["display_id"] = f"runbook-verdict-{uuid.uuid4().hex}"
    waiting = (
        f'<div class="runbook-verdict-block" style="{BOX.format(colour=COLOURS["WAITING"])}">'
        "<b>VERDICT</b> · shown here when the last cell has run (Run All). A cell that "
        "stops with an error says why in its own output.</div>"
    )
    display(HTML(waiting), display_id=_STATE["display_id"])


def update(result: dict[str, Any]) -> tuple[str, str]:
    """Fill the placeholder under the banner; return the block for the last cell."""
    page, text = render(result)
    display_id = _STATE["display_id"]
    if display_id is not None:
        from IPython.display import update_display

        update_display({"text/html": page, "text/plain": text}, display_id=display_id, raw=True)
    return page, text
