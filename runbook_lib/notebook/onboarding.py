"""What the onboarding notebook (00_onboarding) needs besides the runbook steps themselves.

- the architecture picture (`docs/architecture.svg`), displayed from the checkout;
- "now you try" questions (`QUESTIONS`: hint, and the answer or how to read it off the
  live sandbox, so the notebook's cells never show it), checked by `check_answer` (pure);
  `Quiz` keeps the tally the notebook records;
- the guide's reset, live or recorded (`resetstory`, re-exported here for the notebook);
- the guard that keeps the walkthrough on the sandbox.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError
from runbook_lib.steps.resetstory import (  # noqa: F401  (the notebook calls them as onboarding.*)
    RECORDED_STEPS,
    RECORDED_WITH,
    ResetStory,
    StoryStep,
    recorded_reset_story,
)
from runbook_lib.target.model import Target

ARCHITECTURE_SVG = Path("docs") / "architecture.svg"
RIGHT, WRONG, UNANSWERED = "right", "wrong", "unanswered"
_MARKS = {RIGHT: "✓", WRONG: "✗", UNANSWERED: "…"}
_COLOURS = {RIGHT: "#2b7a0b", WRONG: "#b00020", UNANSWERED: "#6c757d"}


# ---- the picture ---------------------------------------------------------------------------


def architecture_path() -> Path:
    """docs/architecture.svg in the checkout the runbook runs from."""
    return paths.project_root() / ARCHITECTURE_SVG


def architecture() -> Any:
    """The architecture as an IPython SVG object: embedded in the output, so an exported
    HTML report shows it without the docs/ folder next to it."""
    from IPython.display import SVG

    path = architecture_path()
    if not path.is_file():
        raise InvalidInputError(
            f"The architecture picture {path} is missing.",
            hint="run from a checkout of counter-runbook (or set RUNBOOK_HOME to one).",
        )
    return SVG(filename=str(path))


# ---- answers -------------------------------------------------------------------------------


def same_answer(given: Any, expected: Any) -> bool:
    """Lenient equality for a reader's answer: 5 == 5.0, " Table " == "table";
    but True is not 1, and "5" is not 5."""
    if isinstance(given, bool) or isinstance(expected, bool):
        return isinstance(given, bool) and isinstance(expected, bool) and given == expected
    if isinstance(given, numbers.Real) and isinstance(expected, numbers.Real):
        return float(given) == float(expected)
    if isinstance(given, str) and isinstance(expected, str):
        return given.strip().casefold() == expected.strip().casefold()
    return bool(given == expected)


@dataclass(frozen=True)
class Answer:
    """One checked answer. `auto` marks an answer filled in by `auto_answer`."""

    question: str
    state: str  # right | wrong | unanswered
    given: Any
    expected: Any
    hint: str = ""
    auto: bool = False

    @property
    def message(self) -> str:
        if self.state == RIGHT:
            how = " (filled in by auto_answer)" if self.auto else ""
            return f"Right{how}: {self.question}: {self.expected!r}."
        if self.state == WRONG:
            hint = f" Hint: {self.hint}" if self.hint else ""
            return f"Not quite: {self.question}: you said {self.given!r}.{hint}"
        return (
            f"Not answered yet: {self.question}. Replace None in the cell above with your "
            "answer, then run both cells again."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "state": self.state,
            "given": self.given,
            "expected": self.expected,
            "auto": self.auto,
        }

    def __str__(self) -> str:
        return f"{_MARKS[self.state]} {self.message}"

    def _repr_html_(self) -> str:
        # after a wrong try the answer is there, folded: the reader opens it or tries again
        reveal = (
            '<details class="onboarding-reveal"><summary>show the answer</summary>'
            f"<code>{html.escape(repr(self.expected))}</code></details>"
            if self.state == WRONG
            else ""
        )
        return (
            f'<p class="onboarding-answer onboarding-{self.state}" '
            f'style="color:{_COLOURS[self.state]};font-weight:bold">'
            f"{_MARKS[self.state]} {html.escape(self.message)}</p>{reveal}"
        )


def check_answer(
    question: str, given: Any, expected: Any, *, hint: str = "", auto_answer: bool = False
) -> Answer:
    """Compare a reader's answer with the live value. None means "not answered yet", unless
    auto_answer fills in the expected value (headless runs, demos)."""
    if given is None and auto_answer:
        return Answer(question, RIGHT, expected, expected, hint, auto=True)
    if given is None:
        return Answer(question, UNANSWERED, None, expected, hint)
    state = RIGHT if same_answer(given, expected) else WRONG
    return Answer(question, state, given, expected, hint)


@dataclass
class Quiz:
    """The notebook's answers so far, by question (re-running a check replaces its answer)."""

    auto_answer: bool = False
    answers: dict[str, Answer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.auto_answer, bool):
            raise InvalidInputError(f"auto_answer must be True or False, got {self.auto_answer!r}.")

    def check(self, question: str, given: Any, expected: Any, *, hint: str = "") -> Answer:
        answer = check_answer(question, given, expected, hint=hint, auto_answer=self.auto_answer)
        self.answers[question] = answer
        return answer

    def ask(self, key: str, given: Any, live: Any = None) -> Answer:
        """Check the reader's answer to QUESTIONS[key]. The answer comes from the catalogue
        (or is read off `live`, the object the question is about), so the notebook's check
        cell never shows it: it appears in the output, once the reader has tried."""
        question = QUESTIONS.get(key)
        if question is None:
            raise InvalidInputError(
                f"No onboarding question {key!r}.", hint=f"one of: {', '.join(QUESTIONS)}."
            )
        return self.check(question.text, given, question.expected(live), hint=question.hint)

    def summary(self) -> dict[str, Any]:
        states = [a.state for a in self.answers.values()]
        return {
            "total": len(states),
            RIGHT: states.count(RIGHT),
            WRONG: states.count(WRONG),
            UNANSWERED: states.count(UNANSWERED),
            "auto_answer": self.auto_answer,
        }

    def __str__(self) -> str:
        s = self.summary()
        head = f"{s[RIGHT]} of {s['total']} right, {s[WRONG]} wrong, {s[UNANSWERED]} not answered"
        return "\n".join([head, *(f"  {a}" for a in self.answers.values())])

    def _repr_html_(self) -> str:
        s = self.summary()
        rows = "".join(
            f'<tr><td style="color:{_COLOURS[a.state]};font-weight:bold">{_MARKS[a.state]}</td>'
            f"<td>{html.escape(a.question)}</td><td>{html.escape(a.state)}</td></tr>"
            for a in self.answers.values()
        )
        return (
            f'<p class="onboarding-score"><b>{s[RIGHT]} of {s["total"]} right</b>, '
            f"{s[WRONG]} wrong, {s[UNANSWERED]} not answered yet.</p>"
            f"<table><tbody>{rows}</tbody></table>"
        )


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


# ---- the guide's reset (runbook_lib.resetstory), live or recorded ----------------------------


def live_demo_unavailable(target: Target, *, wanted: bool = True) -> str | None:
    """Why the reset cannot be reproduced live, or None when it can: it needs the wish,
    the sandbox (it creates a throwaway table) and a terraform binary."""
    from runbook_lib.tf import terraform

    if not wanted:
        return "live_reset_demo is False"
    if not target.is_sandbox:
        return "the target is not the local sandbox"
    if terraform.find_terraform() is None:
        return "no terraform binary is on PATH"
    return None


def table_items_in_config(src_dir: Path | None = None) -> list[str]:
    """Addresses of aws_dynamodb_table_item resources in a Terraform folder (default
    terraform/): the resource that resets the count. The runbook's stack has none."""
    from runbook_lib.tf import terraform

    config = terraform.load_config(src_dir)
    return [
        f"aws_dynamodb_table_item.{name}"
        for block in config.get("resource", [])
        for name in (block.get("aws_dynamodb_table_item") or {})
    ]


# ---- the guard -----------------------------------------------------------------------------


def require_sandbox(target: Target) -> None:
    """The walkthrough creates throwaway tables and backups: sandbox only."""
    if not target.is_sandbox:
        raise InvalidInputError(
            f"00_onboarding runs only against the local sandbox; this target is "
            f"{target.endpoint or 'real AWS'} (table {target.table}).",
            hint=(
                'start it with `make lab`, or `runbook sandbox up && eval "$(runbook sandbox '
                'env)"`; for real AWS use the numbered notebooks (README: "Point it at real AWS").'
            ),
        )
