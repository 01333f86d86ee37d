"""The status report: checks (ok / warn / fail / not checked) and the one-line verdict.

The verdict leads with what is wrong and what to do first; a check that could not run is
shown as NOT CHECKED with its reason, counted in the verdict and never taken as fine.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from runbook_lib.model import Target

# NOT_CHECKED: the check could not run (no permission, an API the endpoint does not serve,
# a read that failed after retries). It is never counted as fine.
OK, WARN, FAIL, NOT_CHECKED = "ok", "warn", "fail", "not checked"
# The failed check the headline leads with: the root cause first, then what happened to the
# count (a drop says more than the alarm it fires), then the rest in report order.
HEADLINE_ORDER = {
    "table exists and ACTIVE": 0,
    "key schema": 1,
    "counter item present": 2,
    "count is a non-negative integer": 3,
    "no count drop in recent history": 4,
}


@dataclass(frozen=True)
class Check:
    name: str
    state: str  # ok | warn | fail | not checked
    detail: str
    next_step: str = ""


@dataclass
class StatusReport:
    target: Target
    checks: list[Check]
    count: int | None
    count_type: str | None = None  # how the count is stored: N, or S (a string count)
    generated_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    )

    def _in(self, state: str) -> list[Check]:
        return [c for c in self.checks if c.state == state]

    @property
    def healthy(self) -> bool:
        """Every check ran and none failed: a check that could not look is never "fine"."""
        return not self._in(FAIL) and not self._in(NOT_CHECKED)

    @property
    def verdict(self) -> str:
        """One line: what is wrong and what to do first, then what else failed or was not
        checked."""
        fails = sorted(self._in(FAIL), key=lambda c: HEADLINE_ORDER.get(c.name, 99))
        unseen = _counted(self._in(NOT_CHECKED), "not checked")
        warns = _counted(self._in(WARN), "warning(s)")
        if fails:
            first = fails[0]
            head = f"UNHEALTHY: {first.detail}"
            if first.next_step:
                head += f"; next: {first.next_step}"
            more = [_counted(fails[1:], "more failed"), unseen]
            return head + "".join(f"; {m}" for m in more if m)
        if unseen:
            return f"NOT FULLY CHECKED: {unseen}; nothing that was checked failed"
        if warns:
            return f"HEALTHY with {warns}"
        return "HEALTHY: all checks passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "verdict": self.verdict,
            "not_checked": [c.name for c in self._in(NOT_CHECKED)],
            "count": self.count,
            "count_type": self.count_type,
            "table": self.target.table,
            "generated_at": self.generated_at,
            "checks": [asdict(c) for c in self.checks],
        }

    def __str__(self) -> str:
        width = max(len(c.name) for c in self.checks)
        lines = [self.verdict]
        for c in self.checks:
            step = f"  -> {c.next_step}" if c.next_step and c.state != OK else ""
            lines.append(f"  [{c.state.upper():4}] {c.name:<{width}}  {c.detail}{step}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.html()

    def html(self, say: Callable[[str], str] = str) -> str:
        """The verdict and the table of checks; `say` words each next step for the reader
        (the notebook layer passes one that speaks of the parameters cell in the lab)."""
        colours = {OK: "#2b7a0b", WARN: "#b26a00", FAIL: "#b00020", NOT_CHECKED: "#5a4fa0"}
        rows = "".join(
            f'<tr><td style="color:{colours[c.state]};font-weight:bold">{c.state.upper()}</td>'
            f"<td>{html.escape(c.name)}</td><td>{html.escape(c.detail)}</td>"
            f"<td>{html.escape(say(c.next_step) if c.state != OK else '')}</td></tr>"
            for c in self.checks
        )
        colour = colours[OK if self.healthy else FAIL if self._in(FAIL) else NOT_CHECKED]
        return (
            f'<p class="runbook-verdict" style="font-size:1.2em;color:{colour}">'
            f"<b>{html.escape(say(self.verdict))}</b></p>"
            '<table class="runbook-status"><thead><tr><th>state</th><th>check</th><th>detail</th>'
            "<th>next step</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
            # notebook front ends right-align table cells; a report reads left to right
            "<style>table.runbook-status td, table.runbook-status th "
            "{text-align: left !important}</style>"
        )


def _counted(checks: list[Check], label: str) -> str:
    """ "2 not checked (alarm states, latest backup age)", or "" for none."""
    if not checks:
        return ""
    return f"{len(checks)} {label} ({', '.join(c.name for c in checks)})"
