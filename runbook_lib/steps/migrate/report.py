"""What 05_migrate did: the findings, the diff, the proof, each apply's count (of every
counter item of the stack), and the message. `problem` makes the run exit 3: a count went
down (even if restored since), a dry run found an item the next `terraform apply` would
write back over the count, or a real run read no count before and so checked nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook_lib.steps.migrate.counteritems import CounterItem
from runbook_lib.tf.planrules import PlanProof
from runbook_lib.tf.stackmodel import Finding


@dataclass
class MigrationResult:
    terraform_dir: str
    table: str
    strategy: str
    dry_run: bool
    found: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    migrated: bool = False
    count_before: int | None = None
    count_after: int | None = None
    diff: str = ""
    changed_files: list[str] = field(default_factory=list)
    plan: PlanProof | None = None
    state_rm_output: str = ""
    applies: list[dict[str, Any]] = field(default_factory=list)
    backup_path: str | None = None
    restored_from_backup: str | None = None
    init: dict[str, Any] | None = None
    message: str = ""
    # a dry run found items that reset the count on the next apply, and proved the fix
    resets_on_apply: bool = False
    # every counter item of the stack, the target's first (its counts are the top-level ones)
    items: list[CounterItem] = field(default_factory=list)
    # no counter item was applied yet (none in the state, none live): nothing to protect
    nothing_to_protect: bool = False

    @property
    def count_lost(self) -> bool:
        pairs = [(i.count_before, i.count_after) for i in self.items]
        pairs = pairs or [(self.count_before, self.count_after)]
        return any(b is not None and (a is None or a < b) for b, a in pairs)

    @property
    def unchecked(self) -> bool:
        """A real run that read no count before: nothing could be checked, so it is never
        reported as a success (unless there was nothing to protect, said as such)."""
        befores = [i.count_before for i in self.items] or [self.count_before]
        return (
            self.migrated
            and not self.dry_run
            and not self.nothing_to_protect
            and all(b is None for b in befores)
        )

    @property
    def verdict(self) -> str:
        """The headline, in a word or three (the Result's verdict; `problem` decides the exit)."""
        if self.restored_from_backup is not None:
            return "COUNT LOST AND RESTORED"
        if self.count_lost:
            return "COUNT LOST"
        if self.unchecked:
            return "NOTHING CHECKED"
        if self.resets_on_apply:
            return "DRY RUN: RESETS ON APPLY"
        return "MIGRATED" if self.migrated else "ALREADY SAFE"

    @property
    def problem(self) -> bool:
        """Exit 3: the count went down during the migration (even if restored since), or a
        dry run found the stack resetting the count on its next apply (as 07_recover's dry
        run exits 3 for the reset it finds: a scheduler must not read it as all well)."""
        return (
            self.count_lost
            or self.restored_from_backup is not None
            or self.resets_on_apply
            or self.unchecked
        )

    def to_dict(self) -> dict[str, Any]:
        # the message first: the terminal summary shows the first keys only, and the
        # message holds what to do next ("To migrate: ...", "Commit main.tf")
        return {
            "message": self.message,
            "terraform_dir": self.terraform_dir,
            "table": self.table,
            "strategy": self.strategy,
            "dry_run": self.dry_run,
            "found": self.found,
            "findings": [f.to_dict() for f in self.findings],
            "migrated": self.migrated,
            "count_before": self.count_before,
            "count_after": self.count_after,
            "count_changed": self.count_before != self.count_after,
            "items": [i.to_dict() for i in self.items],
            "nothing_to_protect": self.nothing_to_protect,
            "unchecked": self.unchecked,
            "diff": self.diff,
            "changed_files": self.changed_files,
            "plan": self.plan.to_dict() if self.plan else None,
            "state_rm_output": self.state_rm_output,
            "applies": self.applies,
            "applies_done": len(self.applies),
            "backup_path": self.backup_path,
            "restored_from_backup": self.restored_from_backup,
            "init": self.init,
            "resets_on_apply": self.resets_on_apply,
        }

    def __str__(self) -> str:
        return self.message


def unchecked_message(result: MigrationResult) -> str:
    """The message of a real run that read no count before (`unchecked`), else ""."""
    if not result.unchecked:
        return ""
    return (
        "NOTHING CHECKED: no count of any counter item was read before the migration, so "
        "nothing could be checked after it (exit 3). Read the items with 02_status; if they "
        "exist, the runbook looked in the wrong place (table, key or region)."
    )
