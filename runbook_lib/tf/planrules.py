"""Which planned Terraform changes would touch the count: the one set of rules.

Two readers, one classification. 05_migrate's proof reads the `terraform plan -json` UI
stream ("planned_change" messages, one action word each); `runbook guard-plan` reads a saved
plan (`terraform show -json tfplan`: `resource_changes[].change.actions`, a list). Both are
normalised to the UI stream's words, then judged by `is_unsafe`:

- an `aws_dynamodb_table_item` that is created, updated, deleted or replaced is unsafe: a
  create or update writes the configured value (`viewCount = 0`) over the live count, a
  delete removes the counter. Only a no-op, a read, a move or a forget (a `removed` block
  with `destroy = false`, "remove" in the UI stream) leaves the item alone;
- an `aws_dynamodb_table` that is deleted or replaced takes the count with it; creating or
  updating a table does not touch an item.

Everything here is pure: no Terraform, no AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runbook_lib.tf.hcledit import ITEM_TYPE
from runbook_lib.tf.stackmodel import TABLE_TYPE

# Normalised (UI stream) actions that leave a table item alone. "remove" is how the JSON UI
# names a forget; "noop" and "read" write nothing; "move" only renames the address. Any
# other word, including one a future Terraform adds, counts as a write: never a false OK.
SAFE_ITEM_ACTIONS = frozenset({"noop", "read", "remove", "move"})
# A table that is deleted or replaced takes the count with it.
UNSAFE_TABLE_ACTIONS = frozenset({"delete", "replace"})
# 05_migrate's proof only (not guard-plan, where a new stack's first plan creates its table):
# a plan of a stack already in use that creates or replaces a table does not start from the
# state that table is recorded in.
NEW_TABLE_ACTIONS = frozenset({"create", "replace"})
# A saved plan's action lists (terraform show -json) in the UI stream's words.
_SAVED_ACTIONS: dict[tuple[str, ...], str] = {
    ("no-op",): "noop",
    ("read",): "read",
    ("create",): "create",
    ("update",): "update",
    ("delete",): "delete",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("forget",): "remove",
    # a replacement whose old object is forgotten: the new one is still written
    ("create", "forget"): "replace",
}


def normalize_action(actions: str | Sequence[str]) -> str:
    """A UI stream action word, or a saved plan's `change.actions` list, as one UI word.

    "update" -> "update"; ["delete", "create"] -> "replace"; ["forget"] -> "remove";
    an unknown list is joined with "+" (and so judged unsafe for an item) (pure).
    """
    if isinstance(actions, str):
        return actions
    words = tuple(str(a) for a in actions)
    return _SAVED_ACTIONS.get(words, "+".join(words) or "noop")


def is_unsafe(resource_type: str, action: str) -> bool:
    """Would this (normalised) action on this resource type write, delete or recreate the
    count? (pure)"""
    if resource_type == ITEM_TYPE:
        return action not in SAFE_ITEM_ACTIONS
    if resource_type == TABLE_TYPE:
        return action in UNSAFE_TABLE_ACTIONS
    return False


def unsafe_changes(changes: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Planned changes that would write, delete or recreate the count (pure)."""
    return [dict(c) for c in changes if is_unsafe(c["type"], normalize_action(c["action"]))]


def new_tables(changes: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Planned changes that create or replace a DynamoDB table (pure)."""
    return [
        dict(c)
        for c in changes
        if c["type"] == TABLE_TYPE and normalize_action(c["action"]) in NEW_TABLE_ACTIONS
    ]


def parse_plan_lines(lines: Iterable[str]) -> tuple[list[dict[str, str]], str, list[str]]:
    """`terraform plan -json` output -> (planned changes, summary, error diagnostics) (pure)."""
    changes, errors, summary = [], [], ""
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        kind = event.get("type")
        if kind == "planned_change":
            change = event.get("change") or {}
            res = change.get("resource") or {}
            changes.append(
                {
                    "address": str(res.get("addr")),
                    "type": str(res.get("resource_type")),
                    "action": normalize_action(str(change.get("action"))),
                }
            )
        elif kind == "change_summary":
            summary = str(event.get("@message", ""))
        elif kind == "diagnostic" and event.get("@level") == "error":
            diag = event.get("diagnostic") or {}
            errors.append(f"{diag.get('summary', '')}: {diag.get('detail', '')}".strip(": "))
    return changes, summary, errors


def is_plan_json(doc: Any) -> bool:
    """A `terraform show -json` document of a plan (not of a state, not anything else).

    `resource_changes` is left out of a plan that changes nothing, `planned_values` never
    is; a state's JSON has `values` instead (pure)."""
    return (
        isinstance(doc, dict)
        and "format_version" in doc
        and ("resource_changes" in doc or "planned_values" in doc)
    )


def saved_plan_changes(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A saved plan's managed resource changes, every module and instance (addresses are
    `module.x.aws_dynamodb_table_item.y["k"]`, as Terraform prints them) (pure).

    Each: {address, type, action (normalised), actions (as planned), before, after}."""
    out = []
    for rc in doc.get("resource_changes") or []:
        if not isinstance(rc, dict) or rc.get("mode", "managed") != "managed":
            continue  # a data source only reads
        change = rc.get("change") or {}
        actions = change.get("actions") or ["no-op"]
        out.append(
            {
                "address": str(rc.get("address")),
                "type": str(rc.get("type")),
                "action": normalize_action(actions),
                "actions": list(actions),
                "before": change.get("before") or {},
                "after": change.get("after") or {},
            }
        )
    return out


@dataclass(frozen=True)
class PlanProof:
    """A `terraform plan -detailed-exitcode -json` and what it would do to the counter."""

    exit_code: int  # 0 nothing to do, 2 changes
    changes: list[dict[str, str]]  # [{address, type, action}] from "planned_change"
    unsafe: list[dict[str, str]]  # the changes that would touch the count
    summary: str  # "Plan: 0 to add, 0 to change, 0 to destroy."
    plan_file: str | None = None

    @property
    def safe(self) -> bool:
        return not self.unsafe

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "summary": self.summary,
            "changes": self.changes,
            "unsafe": self.unsafe,
            "safe": self.safe,
        }

    def __str__(self) -> str:
        lines = [f"{self.summary or 'No changes.'}  (plan exit code {self.exit_code})"]
        lines += [f"  {c['action']:<8} {c['address']}" for c in self.changes]
        verdict = "SAFE: no table item is written or deleted" if self.safe else "UNSAFE"
        return "\n".join([*lines, verdict])
