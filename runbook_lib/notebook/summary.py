"""The terminal summary of a run: what a shell or a scheduler's mail shows.

Strings (messages, commands) are never cut: a command cut short cannot be copied. Only
nested values are shortened, and the commands inside them are shown whole on lines of
their own.
"""

from __future__ import annotations

import json
from typing import Any

SUMMARY_KEYS = 12  # result entries shown; the rest are in result.json
SUMMARY_WIDTH = 110  # a nested value's JSON is cut here
COMMAND_KEYS = ("command", "undo", "to_apply", "apply")  # parts of a command-holding key
# Shown first, whatever the result's own order: the sentence that says what was found and
# what to do, then the count (02_status's first screen shows it); the rest keep their order.
FIRST_KEYS = ("headline", "verdict", "message", "count")


def _is_command(key: str, value: Any) -> bool:
    text = value if isinstance(value, str) else ""
    return any(part in key.lower() for part in COMMAND_KEYS) or "To apply:" in text


def _commands_in(value: Any, path: str) -> list[tuple[str, str]]:
    """(dotted key, text) of every command-holding string nested in value."""
    found: list[tuple[str, str]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        where = f"{path}.{key}"
        if isinstance(item, (dict, list)):
            found += _commands_in(item, where)
        elif isinstance(item, str) and _is_command(str(key), item):
            found.append((where, item))
    return found


def _whole(key: str, text: str) -> list[str]:
    """key: text, continuation lines indented under the first."""
    first, *rest = text.splitlines() or [""]
    pad = " " * (len(key) + 4)
    return [f"  {key}: {first}", *(f"{pad}{line}" for line in rest)]


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The result's entries for the terminal (see RunOutcome.summary)."""
    lines: list[str] = []
    first = [k for k in FIRST_KEYS if k in result]
    order = [*first, *(k for k in result if k not in first and k != "checks")]
    shown = [(k, result[k]) for k in order][:SUMMARY_KEYS]
    for key, value in shown:
        if isinstance(value, str):
            lines += _whole(key, value)
            continue
        text = json.dumps(value, default=str)
        if len(text) <= SUMMARY_WIDTH or not isinstance(value, (dict, list)):
            lines.append(f"  {key}: {text}")
            continue
        lines.append(f"  {key}: {text[:SUMMARY_WIDTH]}… (whole in result.json)")
        for where, command in _commands_in(value, key):
            lines += _whole(where, command)
    for check in result.get("checks", []) or []:
        if check.get("state") != "ok":
            step = f" -> {check['next_step']}" if check.get("next_step") else ""
            lines.append(f"  [{check['state'].upper()}] {check['name']}: {check['detail']}{step}")
    return lines
