"""What every runbook step returns: one `Result`, whatever the step.

A step's `run(target, **params)` decides, once, whether its finding is a problem an operator
must act on now; the exit code follows from that here and nowhere else (`exit_code_of`, which
the runner applies to the recorded result.json). The notebook's last cell records the
result (`notebook.results.record_result(result)`); its fields become result.json, unchanged
in shape from the step's own `to_dict()`.

- `verdict`: the headline in a word or three ("HEALTHY", "DRY RUN", "REFUSED", ...);
- `problem`: True when there is something to do now (exit 3); a refusal of a write that
  would lose visits is a problem, a dry run or a repaired reset is not;
- `message`: what happened and what to do, the text a notebook shows;
- `fields`: result.json's fields (plain data; "problem" is added when recorded);
- `detail`: the step's own object (a report, a history, a migration), for the cells that show
  its tables and plots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EXIT_OK = 0
EXIT_PROBLEM = 3  # ran, and found something to act on now


def exit_code_of(recorded: Mapping[str, Any]) -> int:
    """The exit code of a recorded result (result.json): 3 for a problem, else 0. Failures
    (1, 2) come from exceptions, which carry their own code (errors.RunbookError)."""
    return EXIT_PROBLEM if recorded.get("problem") else EXIT_OK


@dataclass(frozen=True)
class Result:
    """One step's outcome: its verdict, whether it is a problem, its message and fields."""

    step: str
    verdict: str
    problem: bool
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    detail: Any = field(default=None, compare=False, repr=False)

    @property
    def exit_code(self) -> int:
        return exit_code_of({"problem": self.problem})

    def to_dict(self) -> dict[str, Any]:
        """result.json's fields, with `problem` as decided by the step."""
        return {**self.fields, "problem": bool(self.problem)}

    def __str__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        # a notebook's own display: the verdict as a heading, the message as text
        return f"**{self.step}: {self.verdict}**\n\n```\n{self.message}\n```"
