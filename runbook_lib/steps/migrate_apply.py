"""05_migrate's last steps: the proven change written and applied, more applies to verify,
the live count read after each; a lost count is restored from the pre-migration backup
and reported loudly."""

from __future__ import annotations

from pathlib import Path

from runbook_lib.aws import counter
from runbook_lib.errors import TableMissingError, TerraformError
from runbook_lib.formats import atomic, itemfile
from runbook_lib.steps import itembackup
from runbook_lib.steps.migrate_edit import Change
from runbook_lib.steps.migrate_prove import prove
from runbook_lib.steps.migrate_result import MigrationResult
from runbook_lib.target.model import Target
from runbook_lib.tf.process import Stream
from runbook_lib.tf.workspace import Workspace


def state_rm_and_write(ws: Workspace, change: Change, result: MigrationResult, say: Stream) -> bool:
    """The real `terraform state rm` (its -dry-run ran in the proof step), the block
    removed, then a proof of the final configuration; if that fails, the state and the
    files are put back. Returns whether the proven plan has changes to apply."""
    original_state = ws.state_pull()
    removed = ws.state_rm(change.state_rm, dry_run=False)
    result.state_rm_output += removed
    say(removed.rstrip())
    for path, text in change.files.items():
        write_text(Path(path), text)
    try:
        final = prove(ws)
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
    target: Target,
    backup: itemfile.ItemBackup | None,
    say: Stream,
) -> None:
    """One apply (the proven plan, or plan + apply-if-changes), then the count check."""
    if planned is None:
        changed = ws.converge()
    elif planned:
        ws.apply_plan()
        changed = True
    else:
        ws.plan_path.unlink(missing_ok=True)
        changed = False
    count = live_count(target)
    result.applies.append({"apply": label, "changed": changed, "count": count})
    shown = "missing" if count is None else count
    say(f"after apply ({label}): {target.count_attribute} = {shown}")
    check_count(result, count, target, backup, say)


def check_count(
    result: MigrationResult,
    count: int | None,
    target: Target,
    backup: itemfile.ItemBackup | None,
    say: Stream,
) -> None:
    before = result.count_before
    if before is None or (count is not None and count >= before) or backup is None:
        return
    banner = "!" * 78
    say(banner)
    say(
        f"!!! COUNT LOST: {target.count_attribute} was {before}, the apply left {count}. "
        "Restoring it now"
    )
    say(f"!!! from the backup {backup.path}.")
    restored = itembackup.restore_item(
        target,
        backup.path,
        dry_run=False,
        confirm=target.table,
        backup_dir=Path(backup.path).parent.parent,  # beside the pre-migration backup
    )
    result.restored_from_backup = str(backup.path)
    say(f"!!! {restored.message}")
    say("!!! The migration did NOT protect the count: do not run terraform apply on this")
    say("!!! folder until the configuration is fixed by hand (02_status, then 05_migrate).")
    say(banner)


def final_message(result: MigrationResult, change: Change) -> str:
    if result.restored_from_backup:
        return (
            f"COUNT LOST AND RESTORED: an apply reset {result.table}'s count; it was put back "
            f"from {result.restored_from_backup}. Do not apply this configuration again before "
            "fixing it."
        )
    counts = [a["count"] for a in result.applies if a["count"] is not None]
    return (
        f"Migrated ({result.strategy}): {', '.join(change.resources)} no longer writes the "
        f"count. {len(result.applies)} apply(s) done, count {result.count_before} before, "
        f"{counts or 'unchanged'} after each, {result.count_after} now. Commit "
        f"{', '.join(result.changed_files) or 'the state change'}."
    )


def live_count(target: Target) -> int | None:
    """The live count; None when the item (or, before a first apply, the table) is missing.
    An item that holds only its key (the Lambda ADDs the count later) counts 0."""
    try:
        item = counter.get_item(target)
    except TableMissingError:
        return None
    if item is None:
        return None
    if target.count_attribute not in item:
        return 0
    return counter.parse_count(item, target.count_attribute)


def write_text(path: Path, text: str) -> None:
    """Write completely or not at all, keeping the file's mode."""
    atomic.write_atomic(path, text.encode("utf-8"), keep_mode=True)
