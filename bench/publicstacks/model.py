"""What a stack is expected to do (its expect.json), one measured row, and the constants."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "bench" / "public_stacks"
LAST_RUN = STACKS / "last_run.json"
RUNBOOK = Path(sys.executable).with_name("runbook")
VISITS = 5
LATER_APPLIES = 2
RUN_TIMEOUT_S = 1200
VERBATIM, AS_AUTHOR = "verbatim", "as-author"
MODES = (VERBATIM, AS_AUTHOR)
MIGRATED = "migrated+intact"
ALREADY_SAFE = "already safe+intact"  # exit 0, nothing to do, every count kept


@dataclass
class Row:
    """One stack's measured outcome in one mode."""

    name: str
    round: int
    shape: str
    expected: str
    exit_code: int | None = None
    outcome: str = ""  # migrated+intact | already safe+intact | safe refusal: ... | FAILED | UNSAFE
    unsafe: bool = False
    seconds: float = 0.0
    given: str = ""  # what the GIVEN did
    counts: dict[str, list[int | str | None]] = field(default_factory=dict)
    message: str = ""
    mode: str = VERBATIM
    adaptations: list[str] = field(default_factory=list)  # as-author: what the copy changed
    wrote: str = ""  # a run that did not migrate: what it left written, if anything


def names() -> list[str]:
    """Every stack with an expect.json, sorted."""
    return sorted(p.name for p in STACKS.iterdir() if (p / "expect.json").is_file())


def load(name: str, mode: str = VERBATIM) -> dict[str, Any]:
    """The stack's expect.json; in the as-author mode with its `as_author` section laid
    over it (env added to the CI's, backend_config), applied and expected to migrate."""
    data: dict[str, Any] = json.loads((STACKS / name / "expect.json").read_text())
    if mode == AS_AUTHOR:
        author = data.get("as_author", {})
        data["env"] = {**data.get("env", {}), **author.get("env", {})}
        data["backend_config"] = author.get("backend_config", {})
        data["given"] = True
        # a stack whose author's own setup still must not migrate says so (and why)
        data["expected"] = author.get("expected", "migrate")
        data["why"] = author.get("why", data.get("why"))
    return data


def expected_count(item: dict[str, Any]) -> int | str:
    """What the visits leave: the initial count + VISITS, typed as stored."""
    total = int(item["initial"]) + VISITS
    return total if item["count_type"] == "N" else f"S:{total}"
