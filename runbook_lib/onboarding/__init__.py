"""What the onboarding notebook (00_onboarding) needs besides the runbook steps themselves.

- the architecture picture (`docs/architecture.svg`), displayed from the checkout;
- "now you try" answers (the questions are `questions.QUESTIONS`), checked by
  `check_answer` (pure); `Quiz` keeps the tally the notebook records;
- whether the guide's reset can be reproduced live (the reset itself: `onboarding.resetstory`);
- the guard that keeps the walkthrough on the sandbox;
- the notebook's one Result (`result`), from what its cells found and the reader's answers.
"""

from __future__ import annotations

import html
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target
from runbook_lib.onboarding.questions import QUESTIONS
from runbook_lib.steps.common.result import Result

if TYPE_CHECKING:
    from runbook_lib.onboarding.resetstory import ResetStory
    from runbook_lib.steps.history.frame import History
    from runbook_lib.steps.init import InitOutcome
    from runbook_lib.steps.recover.outcome import Recovery
    from runbook_lib.steps.setcount.outcome import SetResult
    from runbook_lib.steps.status.report import StatusReport

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


# ---- the guide's reset (onboarding.resetstory), live or recorded ---------------------------------


def live_demo_unavailable(target: Target, *, wanted: bool = True) -> str | None:
    """Why the reset cannot be reproduced live, or None when it can: it needs the wish,
    the sandbox (it creates a throwaway table) and a terraform binary."""
    from runbook_lib.tf.binary import find_terraform

    if not wanted:
        return "live_reset_demo is False"
    if not target.is_sandbox:
        return "the target is not the local sandbox"
    if find_terraform() is None:
        return "no terraform binary is on PATH"
    return None


def table_items_in_config(src_dir: Path | None = None) -> list[str]:
    """Addresses of aws_dynamodb_table_item resources in a Terraform folder (default
    terraform/): the resource that resets the count. The runbook's stack has none."""
    from runbook_lib.tf.hclconfig import load_config

    config = load_config(src_dir)
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


# ---- the notebook's result -----------------------------------------------------------------


def result(
    target: Target,
    *,
    report: StatusReport,
    story: ResetStory,
    init: InitOutcome,
    proposal: SetResult,
    saved: dict[str, Any],
    hist: History,
    rec: Recovery,
    quiz: Quiz,
) -> Result:
    """00_onboarding's Result: what each step of the walkthrough found, and the answers.

    Each argument is what its cell holds: the step's own object (a step's Result's
    `detail`), recorded as its dict, so result.json keeps its shape. A problem (exit 3) when
    the sandbox counter is not healthy (02_status's verdict): the reader walked through a
    sandbox that needs repair first."""
    answers = quiz.summary()
    fields = {
        "healthy": report.healthy,
        "count": report.count,
        "table": target.table,
        "reset_story": story.to_dict(),
        "init": init.to_dict(),
        "set": proposal.to_dict(),
        "backup": saved,
        "resets": len(hist.resets),
        "recovered": rec.result(),
        "answers": answers,
    }
    score = f"{answers[RIGHT]} of {answers['total']} answers right"
    if report.healthy:
        message = f"Walkthrough done on {target.table}: {score}; the sandbox counter is healthy."
        return Result("onboarding", "DONE", False, message, fields, detail=quiz)
    message = (
        f"Walkthrough done on {target.table} ({score}), but the sandbox counter is not "
        f"healthy: {report.verdict} Open 02_status for the checks and what to do."
    )
    return Result("onboarding", "SANDBOX UNHEALTHY", True, message, fields, detail=quiz)
