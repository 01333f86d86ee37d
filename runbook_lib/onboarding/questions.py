"""The onboarding notebook's "now you try" questions: each with a hint, and its answer or how
to read the answer off the live sandbox, so the notebook's cells never show it
(`onboarding.Quiz.ask` checks a reader's answer against them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target


@dataclass(frozen=True)
class Question:
    """A "now you try" question: its fixed answer, or how to read it off a live object."""

    text: str
    hint: str  # says where to look, never the answer
    answer: Any = None
    read_live: Callable[[Any], Any] | None = None

    def expected(self, live: Any = None) -> Any:
        if self.read_live is None:
            return self.answer
        if live is None:
            raise InvalidInputError(f"The question {self.text!r} is checked against a live value.")
        return self.read_live(live)


def _live_count(target: Target) -> int | None:
    from runbook_lib.aws import counter

    return counter.read_count(target)


# The item's box in docs/architecture.svg is outlined in red (class "data"); the hint says
# so by its colour and its title (a test keeps the two in step).
ITEM_BOX_TITLE = "The item: the data"
QUESTIONS: dict[str, Question] = {
    "terraform_owns_item": Question(
        "Terraform owns the count item",
        f"look at the red box in the picture ({ITEM_BOX_TITLE!r}): is it inside the dashed "
        "Terraform border?",
        answer=False,
    ),
    "visit_api_call": Question(
        "the call that counts a visit",
        "the Lambda never reads first: one call that adds 1 on the server (ADD viewCount :one).",
        answer="UpdateItem",
    ),
    "count_after_apply": Question(
        "viewCount after terraform apply",
        "Terraform writes the configured item back on every apply: read the configuration above.",
        read_live=lambda story: story.count_after,
    ),
    "current_count": Question(
        "the current count",
        "the row 'count is a non-negative integer' says viewCount = N.",
        read_live=lambda report: report.count,
    ),
    "init_changes_count": Question(
        "a confirmed init changes an existing count",
        "init is one PutItem with attribute_not_exists: it writes only when the item is missing.",
        answer=False,
    ),
    "count_after_dry_run": Question(
        "the count after a dry-run set",
        "a dry run only reads: nothing was written.",
        read_live=_live_count,
    ),
    "backup_count": Question(
        "the count in the backup",
        "the 'count' row of the table above (the file's viewCount).",
        read_live=lambda saved: saved["count"],
    ),
    "resets_found": Question(
        "resets in the history",
        "a reset is marked in red on the count panel; the summary's reset_count says how many.",
        read_live=lambda hist: len(hist.resets),
    ),
}
