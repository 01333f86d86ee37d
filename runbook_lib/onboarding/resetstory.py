"""The guide's reset as a story: `aws_dynamodb_table_item` + `terraform apply` = the count
back to 0, step by step, with the count after each step. Live from
`resetdemo.demonstrate_reset()`, or as recorded from a real run when it cannot be reproduced
(no terraform on PATH). The onboarding notebook shows it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LOST_COLOUR = "#b00020"  # a step that lost visits


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
        """From `resetdemo.demonstrate_reset()`'s answer (live) or a `to_dict()` with steps."""
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
            colour = LOST_COLOUR if lost else "inherit"
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
