"""What the onboarding notebook (00_onboarding) needs besides the runbook steps themselves.

- the architecture picture (`docs/architecture.svg`), displayed from the checkout;
- "now you try" answers checked against the live sandbox: `check_answer` is pure, `Quiz`
  keeps the tally the notebook records;
- the guide's reset (`aws_dynamodb_table_item` + `terraform apply` = count back to 0) as
  recorded from a real run, shown when it cannot be reproduced live (no terraform on PATH);
- the guard that keeps the walkthrough on the sandbox.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .errors import InvalidInputError
from .target import Target

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
        return (
            f'<p class="onboarding-answer onboarding-{self.state}" '
            f'style="color:{_COLOURS[self.state]};font-weight:bold">'
            f"{_MARKS[self.state]} {html.escape(self.message)}</p>"
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


# ---- the guide's reset, recorded -----------------------------------------------------------


@dataclass(frozen=True)
class StoryStep:
    title: str
    output: str
    count: int | None  # viewCount after this step; None before the item exists


@dataclass(frozen=True)
class ResetStory:
    """The guide's reset, step by step, with the count after each step."""

    live: bool
    note: str
    steps: tuple[StoryStep, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResetStory:
        """From `migrate.demonstrate_reset()`'s answer (live) or a `to_dict()` with steps."""
        steps = tuple(
            StoryStep(str(s["title"]), str(s.get("output", "")), s.get("count"))
            for s in data.get("steps", [])
        )
        return cls(live=bool(data.get("live", True)), note=str(data.get("note", "")), steps=steps)

    @property
    def counts(self) -> list[int]:
        return [s.count for s in self.steps if s.count is not None]

    @property
    def peak(self) -> int:
        return max(self.counts, default=0)

    @property
    def count_after(self) -> int | None:
        return self.counts[-1] if self.counts else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "live": self.live,
            "note": self.note,
            "peak": self.peak,
            "count_after": self.count_after,
            "steps": [{"title": s.title, "count": s.count} for s in self.steps],
        }

    def __str__(self) -> str:
        lines = [self.note]
        for i, step in enumerate(self.steps, 1):
            count = "-" if step.count is None else str(step.count)
            lines.append(f"{i}. {step.title}  (viewCount: {count})")
            lines += [f"     {line}" for line in step.output.splitlines()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = []
        previous = None
        for i, step in enumerate(self.steps, 1):
            lost = previous is not None and step.count is not None and step.count < previous
            colour = _COLOURS[WRONG] if lost else "inherit"
            count = "–" if step.count is None else str(step.count)
            rows.append(
                f"<tr><td>{i}</td><td>{html.escape(step.title)}"
                f"<details><summary>output</summary><pre>{html.escape(step.output)}</pre>"
                f'</details></td><td style="color:{colour};font-weight:bold;text-align:right">'
                f"{count}</td></tr>"
            )
            previous = step.count if step.count is not None else previous
        return (
            f'<p class="onboarding-story"><i>{html.escape(self.note)}</i></p>'
            "<table><thead><tr><th>#</th><th>step</th><th>viewCount after</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )


RECORDED_WITH = "Terraform v1.11.4, hashicorp/aws v5.100.0, moto server"
# A real run (see the note), trimmed to the lines that matter (ids cut from the long ones).
RECORDED_STEPS: tuple[StoryStep, ...] = (
    StoryStep(
        "The guide's configuration: the table AND its item in Terraform",
        """resource "aws_dynamodb_table_item" "visitor_count" {
  table_name = aws_dynamodb_table.API_table.name
  hash_key   = aws_dynamodb_table.API_table.hash_key

  item = <<ITEM
  {
    "stat": {"S": "Quantity"},
    "viewCount": {"N":"0"}
  }
ITEM
}""",
        None,
    ),
    StoryStep(
        "terraform apply: the first deploy",
        """aws_dynamodb_table.API_table: Creation complete after 0s [id=legacy-demo-VisitorCount]
aws_dynamodb_table_item.visitor_count: Creation complete after 0s

Apply complete! Resources: 2 added, 0 changed, 0 destroyed.""",
        0,
    ),
    StoryStep(
        "5 visits: the Lambda's UpdateItem ADD viewCount :one, five times",
        "{'viewCount': {'N': '5'}}",
        5,
    ),
    StoryStep(
        "terraform plan: the next deploy, for any unrelated change",
        """  # aws_dynamodb_table_item.visitor_count will be updated in-place
  ~ resource "aws_dynamodb_table_item" "visitor_count" {
        id         = "legacy-demo-VisitorCount|stat|Quantity"
      ~ item       = jsonencode(
            {
              - stat      = {
                  - S = "Quantity"
                }
              - viewCount = {
                  - N = "5"
                }
            }
        ) -> <<-EOT
            {
                "stat": {"S": "Quantity"},
                "viewCount": {"N":"0"}
              }
        EOT
    }

Plan: 0 to add, 1 to change, 0 to destroy.""",
        5,
    ),
    StoryStep(
        "terraform apply: the visits are gone",
        """aws_dynamodb_table_item.visitor_count: Modifying...
aws_dynamodb_table_item.visitor_count: Modifications complete after 0s

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
GetItem: {'viewCount': {'N': '0'}, 'stat': {'S': 'Quantity'}}""",
        0,
    ),
)


def recorded_reset_story(reason: str) -> ResetStory:
    """The reset as recorded from a real run, with why it is not live this time."""
    note = f"Recorded output ({RECORDED_WITH}); not live because {reason}."
    return ResetStory(live=False, note=note, steps=RECORDED_STEPS)


def live_demo_unavailable(target: Target, *, wanted: bool = True) -> str | None:
    """Why the reset cannot be reproduced live, or None when it can: it needs the wish,
    the sandbox (it creates a throwaway table) and a terraform binary."""
    from . import terraform

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
    from . import terraform

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
