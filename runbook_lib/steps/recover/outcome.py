"""What 07_recover found and did (`Recovery`): its text, whether it is a problem (decided
where it is built, in `_recover`), the history, estimate and live count its figures show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from runbook_lib.steps import setcount
from runbook_lib.steps.history.frame import History
from runbook_lib.steps.recover import estimate as est
from runbook_lib.steps.reset import resets


@dataclass
class Recovery:
    """What 07_recover found and did; `result()` is its result.json."""

    verdict: str
    problem: bool
    hist: History | None = None
    estimate: est.Estimate | None = None
    live: int | None = None
    recovered: int | None = None
    # the reset is made good already (the detector 02 and 06 share, `resets`): `recovered`
    # stays None and every figure shows the live count, not before + (live - after) on top
    repaired: bool = False
    reset: resets.Reset | None = None  # the reset repaired (or to repair), as judged
    applied: bool = False
    dry_run: bool = True
    command: str | None = None  # the confirmed run (dry run) or the refused write's command
    write: setcount.SetResult | None = None
    attempts: int = 0

    def result(self) -> dict[str, Any]:
        e = self.estimate.to_dict() if self.estimate else {}
        data: dict[str, Any] = {
            "verdict": self.verdict,
            "reset_time": e.get("reset_time"),
            "before": e.get("before"),
            "after": e.get("after"),
            "live": self.live,
            "recovered": self.recovered,
            "repaired": self.repaired,
            "repair": self.reset.repair.to_dict() if self.reset and self.reset.repair else None,
            "uncertainty": e.get("uncertainty"),
            "source": e.get("source"),
            "applied": self.applied,
            "dry_run": self.dry_run,
        }
        if self.command:
            data["command"] = self.command
        if self.write is not None and self.applied:
            w = self.write
            data |= {"undo_command": w.undo_command, "undo_runbook": w.undo_runbook}
            data |= {"backup_path": w.backup_path, "audit_path": w.audit_path}
        return data | {"estimate": e or None, "attempts": self.attempts}

    @property
    def headline(self) -> str:
        """The verdict in a word or three (the Result's); `verdict` is the full text."""
        if self.applied:
            return "RECOVERED" if not self.problem else "RECOVERED: COUNT MOVED"
        if self.verdict.startswith("REFUSED"):
            return "REFUSED"
        if self.repaired:
            return "ALREADY REPAIRED"
        if self.recovered is not None:
            return "DRY RUN: RESET FOUND"
        if not self.problem:
            return "NO RESET"
        if self.hist is not None and not self.hist.has_count_data:
            return "NO COUNT DATA"
        return "NO RESET AT reset_time"

    def figures(self) -> pd.DataFrame | None:
        if self.estimate is None or self.live is None:
            return None
        now = dt.datetime.now(dt.timezone.utc)
        return est.figures(self.estimate, self.live, now, repaired=self.repaired)

    def __str__(self) -> str:
        return self.verdict
