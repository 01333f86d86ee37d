"""What one run came to: its exit code, where its report is, and the summary a terminal or a
scheduler's mail shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook_lib.notebook.headline import message_alone
from runbook_lib.notebook.summary import summary_lines
from runbook_lib.steps.common.result import EXIT_OK, EXIT_PROBLEM

EXIT_FAILED, EXIT_INTERRUPTED = 1, 130
FOLDER_ERROR = "UnwritableFolderError"  # paths.py: a report or backups folder failed mid-run


@dataclass
class RunOutcome:
    name: str
    exit_code: int
    out_dir: str
    notebook_path: str
    html_path: str | None
    result_path: str
    result: dict[str, Any] | None
    error: str | None = None
    failed_cell: int | None = None
    seconds: float = 0.0
    parameters: dict[str, Any] = field(default_factory=dict)
    # the exception's class name when a cell raised one (papermill's `ename`, structured:
    # never read back out of `error`), or the runner's own (KernelError); not in result.json
    error_name: str | None = None

    def summary(self) -> str:
        """What a terminal or a scheduler's mail shows. Strings (messages, commands) are
        never cut: a command cut short cannot be copied. Only nested values are shortened,
        and the commands inside them are shown whole on lines of their own."""
        state = {
            EXIT_OK: "OK",
            EXIT_PROBLEM: "PROBLEM FOUND",
            EXIT_FAILED: "FAILED",
            EXIT_INTERRUPTED: "INTERRUPTED",
        }.get(self.exit_code, "FAILED")
        if self.exit_code == EXIT_INTERRUPTED:  # one line: the user stopped it, knows why
            cell = f" in cell {self.failed_cell}" if self.failed_cell is not None else ""
            return f"{self.name}: {state}{cell} (Ctrl-C, exit 130); partial report: {self.where()}"
        alone = message_alone(self.error, self.error_name)
        if alone is not None:  # the message says what to do
            return f"{self.name}: {alone}"
        folder = f"{FOLDER_ERROR}: "  # reportfiles' own error, in its text only
        if self.error and self.error.startswith(folder) and not self.result:  # one line
            return f"{self.name}: FAILED (exit {self.exit_code}): {self.error[len(folder) :]}"
        lines = [f"{self.name}: {state} (exit {self.exit_code}, {self.seconds:.1f}s)"]
        if self.error:
            where = f" in cell {self.failed_cell}" if self.failed_cell is not None else ""
            lines.append(f"  error{where}: {self.error}")
        if self.result:
            lines += summary_lines(self.result)
        lines.append(f"  report: {self.where()}")
        lines.append(f"  result: {self.result_path}")
        return "\n".join(lines)

    def where(self) -> str:
        return self.html_path or self.notebook_path
