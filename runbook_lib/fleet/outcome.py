"""What a fleet run came to: its rows, its exit code, its headline, and the summary a
terminal or a scheduler's mail shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

ATTENTION = (3,)  # rows a reader must act on
UNSEEN = (1,)  # rows whose counter was not looked at


@dataclass
class FleetOutcome:
    notebook: str
    fleet_file: str  # as given
    folder: str  # the fleet's report folder (an s3:// URL once uploaded)
    rows: list[dict[str, Any]]
    exit_code: int
    interrupted: bool = False
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    seconds: float = 0.0
    error: str | None = None  # the upload's failure, when --out s3:// could not take it

    @property
    def state(self) -> str:
        from runbook_lib.notebook.report import STATES

        return STATES.get(self.exit_code, "FAILED")

    @property
    def headline(self) -> str:
        """One line: which counters need what, or that all are well."""
        n = len(self.rows)
        if self.interrupted:
            ran = sum(r["exit_code"] not in (None, 130) for r in self.rows)
            stopped = sum(r["exit_code"] == 130 for r in self.rows)
            waiting = sum(r["exit_code"] is None for r in self.rows)
            return (
                f"Interrupted (Ctrl-C): {ran} of {n} runs finished, {stopped} stopped, "
                f"{waiting} not started; this index is partial."
            )
        parts = []
        attention = [r["name"] for r in self.rows if r["counts_as"] in ATTENTION]
        unseen = [r["name"] for r in self.rows if r["counts_as"] in UNSEEN]
        if attention:
            parts.append(
                f"{len(attention)} of {n} counters need attention ({', '.join(attention)})"
            )
        if unseen:
            parts.append(f"{len(unseen)} of {n} could not be looked at ({', '.join(unseen)})")
        if self.error:
            parts.append(self.error)
        return "; ".join(parts) + "." if parts else f"All {n} counters OK."

    def to_dict(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "fleet_file": self.fleet_file,
            "exit_code": self.exit_code,
            "state": self.state,
            "headline": self.headline,
            "interrupted": self.interrupted,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "seconds": round(self.seconds, 1),
            "error": self.error,
            "counters": len(self.rows),
            "rows": self.rows,
        }

    def summary(self) -> str:
        """The fleet's verdict, a line per counter, and where the index is."""
        lines = [
            f"fleet {self.notebook}: {self.state} (exit {self.exit_code}, {len(self.rows)} "
            f"counters, {self.seconds:.1f}s): {self.headline}"
        ]
        width = max((len(r["name"]) for r in self.rows), default=0)
        for row in self.rows:
            count = f"count {row['count']}" if row.get("count") is not None else "count ?"
            lines.append(
                f"  {row['state']:<13} {row['name']:<{width}}  {count:<12} {row['verdict']}"
            )
        lines.append(f"  index: {self.folder}/index.html")
        lines.append(f"  result: {self.folder}/result.json")
        return "\n".join(lines)
