"""05_migrate's last steps: the proven change written and applied, more applies to verify,
the live count read after each; a lost count is restored from the pre-migration backup
and reported loudly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.formats import atomic
from runbook_lib.steps.migrate.counteritems import CounterItem, live_count, restore_exact
from runbook_lib.steps.migrate.edits import Change
from runbook_lib.steps.migrate.proof import prove
from runbook_lib.steps.migrate.report import MigrationResult
from runbook_lib.tf.planrules import PlanProof
from runbook_lib.tf.process import Stream
from runbook_lib.tf.workspace import Workspace

__all__ = [
    "apply_step",
    "final_message",
    "restore_if_lowered",
    "state_rm_and_write",
    "write_text",
]


def state_rm_and_write(
    ws: Workspace,
    change: Change,
    result: MigrationResult,
    say: Stream,
    *,
    prove_final: Callable[[Workspace], PlanProof] = prove,
) -> bool:
    """The real `terraform state rm` (its -dry-run ran in the proof step), the block
    removed, then a proof of the final configuration (`prove_final`: proof.prove; a test
    passes an unsafe one); if that fails, the state and the files are put back. Returns
    whether the proven plan has changes to apply."""
    original_state = ws.state_pull()
    removed = ws.state_rm(change.state_rm, dry_run=False)
    result.state_rm_output += removed
    say(removed.rstrip())
    for path, text in change.files.items():
        write_text(Path(path), text)
    try:
        final = prove_final(ws)
    except TerraformError:
        for path, text in change.originals.items():
            write_text(Path(path), text)
        ws.state_push(original_state)
        ws.sync()
        say("The final plan was unsafe: the state and the files were put back as they were.")
        raise
    result.plan = final
    say(str(final))
    return final.exit_code == 2


def apply_step(
    ws: Workspace,
    result: MigrationResult,
    label: str,
    planned: bool | None,
    items: Sequence[CounterItem],
    say: Stream,
) -> None:
    """One apply (the proven plan, or plan + apply-if-changes), then every counter item's
    count read and checked; `count` is the first item's (the target's), `counts` each's."""
    if planned is None:
        changed = ws.converge()
    elif planned:
        ws.apply_plan()
        changed = True
    else:
        ws.plan_path.unlink(missing_ok=True)
        changed = False
    counts: dict[str, int | None] = {}
    for item in items:
        count = live_count(item.target)
        counts[item.label] = count
        shown = "missing" if count is None else count
        name = f" ({item.label})" if len(items) > 1 else ""
        say(f"after apply ({label}): {item.target.count_attribute}{name} = {shown}")
        restore_if_lowered(result, item, count, say)
    record: dict[str, Any] = {"apply": label, "changed": changed, "count": counts[items[0].label]}
    if len(items) > 1:
        record["counts"] = counts
    result.applies.append(record)


def restore_if_lowered(
    result: MigrationResult, item: CounterItem, count: int | None, say: Stream
) -> None:
    """WRITES when the apply lowered (or took away) the count: the item is put back from its
    own backup, exactly, and said loudly. Otherwise (count kept or risen, nothing read before,
    no backup) nothing is done."""
    before, backup = item.count_before, item.backup
    if before is None or (count is not None and count >= before) or backup is None:
        return
    banner = "!" * 78
    say(banner)
    say(
        f"!!! COUNT LOST: {item.target.count_attribute} of {item.label} was {before}, the "
        f"apply left {count}. Restoring it now"
    )
    say(f"!!! from the backup {backup.path}.")
    # beside the pre-migration backup
    restored = restore_exact(item, dest_dir=Path(backup.path).parent.parent)
    result.restored_from_backup = result.restored_from_backup or str(backup.path)
    say(f"!!! {restored}")
    say("!!! The migration did NOT protect the count: do not run terraform apply on this")
    say("!!! folder until the configuration is fixed by hand (02_status, then 05_migrate).")
    say(banner)


def final_message(result: MigrationResult, change: Change) -> str:
    if result.restored_from_backup:
        lost = [i.label for i in result.items if i.restored_from] or [result.table]
        return (
            f"COUNT LOST AND RESTORED: an apply reset {', '.join(lost)}; put back from "
            f"{result.restored_from_backup}"
            + (f" (and {len(lost) - 1} more backup(s))" if len(lost) > 1 else "")
            + ". Do not apply this configuration again before fixing it."
        )
    counts = [a["count"] for a in result.applies if a["count"] is not None]
    message = (
        f"Migrated ({result.strategy}): {', '.join(change.resources)} no longer writes the "
        f"count. {len(result.applies)} apply(s) done, count {result.count_before} before, "
        f"{counts or 'unchanged'} after each, {result.count_after} now."
    )
    others = [i for i in result.items[1:] if i.count_before is not None]
    if others:
        kept = ", ".join(f"{i.label} {i.count_before} -> {i.count_after}" for i in others)
        message += f" Every other counter item kept its count: {kept}."
    if result.nothing_to_protect:
        message += (
            " Nothing to protect: no counter item of the stack was applied yet (none in its "
            "state and none live), so no count was read before and none could be lost."
        )
    return message + f" Commit {', '.join(result.changed_files) or 'the state change'}."


def write_text(path: Path, text: str) -> None:
    """Write completely or not at all, keeping the file's mode."""
    atomic.write_atomic(path, text.encode("utf-8"), keep_mode=True)
