"""What a set reports: the SetResult of a dry run, of an applied write (its audit record
written, its undo commands spelled out) and of a refused write (the command that would do
it). The commands and the audit log themselves are in `auditlog`."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.aws import counter
from runbook_lib.errors import CountConflictError, DecreaseRefusedError, RunbookError
from runbook_lib.formats import countshape
from runbook_lib.formats.countvalue import CountTypeError
from runbook_lib.formats.itemfile import ItemBackup
from runbook_lib.model import Target
from runbook_lib.steps.common.auditlog import (
    AUDIT_FILE,
    append_audit,
    audit_record,
    set_command,
    undo_commands,
)
from runbook_lib.steps.setcount.plan import SetPlan, lowers, shown, visits


@dataclass(frozen=True)
class SetResult:
    applied: bool
    dry_run: bool
    old: int | None  # live count before (None: it was not a valid number)
    new: int
    backup_path: str | None
    audit_path: str | None
    undo_command: str | None  # the AWS CLI line that puts the backed-up item back
    message: str
    undo_runbook: str | None = None  # the same undo through the runbook (conditional)
    moved: bool = False  # the count changed between the read (first backup) and the write
    refused: str | None = None  # what was refused (nothing was written), one line
    command: str | None = None  # the exact command: the refused write, or the dry run's apply
    read_backup_path: str | None = None  # the first backup, when the write replaced another
    count_type: str = "N"  # the count's type, as written (or as it would be): S, a string count

    @property
    def needs_attention(self) -> bool:
        """Applied, but the write replaced a count other than the one read and first backed
        up (visits, or another set, landed in between): see `message`."""
        return self.applied and self.moved

    @property
    def problem(self) -> bool:
        """What the runner reports as exit 3: a refused write, or a write that moved."""
        return self.needs_attention or self.refused is not None

    def to_dict(self) -> dict[str, Any]:
        """The result as recorded; what matters first (the runner's summary shows the first
        entries): a refusal and its command, else the message."""
        head: dict[str, Any] = {"applied": self.applied, "dry_run": self.dry_run}
        head |= {"old": self.old, "new": self.new, "count_type": self.count_type}
        if self.refused is not None:
            return {"refused": self.refused, "command": self.command, **head}
        data = {
            "message": self.message,
            **head,
            "backup_path": self.backup_path,
            "audit_path": self.audit_path,
            "undo_command": self.undo_command,
            "undo_runbook": self.undo_runbook,
            "moved": self.moved,
        }
        if self.read_backup_path:
            data["read_backup_path"] = self.read_backup_path
        return data  # a dry run's command is its message's "To apply:" line

    def __str__(self) -> str:
        return self.message


def dry_run_result(target: Target, plan: SetPlan, item: dict[str, Any]) -> SetResult:
    """What a confirmed run would do, and the exact command that does it."""
    attr, table = target.count_attribute, target.table
    live = counter.count_of(item, attr)
    kind = countshape.type_to_write(target, item, plan.count_type)
    command = set_command(
        target,
        plan.new_value,
        expected_current=plan.expected_current,
        allow_decrease=plan.allow_decrease or lowers(plan, live),
        reason=plan.reason,
        count_type="S" if kind == "S" else plan.count_type,
    )
    verb = "LOWER" if live is not None and plan.new_value < live else "set"
    message = (
        f"DRY RUN: would {verb} {attr} in {table} from {shown(item, attr)} to "
        f"{plan.new_value} (item {target.key_label}), after backing it up. Nothing was written."
    )
    if live is not None and lowers(plan, live):
        message += (
            "\nA confirmed run is REFUSED without allow_decrease=True: "
            f"{visits(live - plan.new_value)} would be lost."
        )
    mismatch = countshape.type_refusal(target, item, plan.count_type, plan.new_value)
    if mismatch is not None:  # a number over a string count, count_type not given
        message += f"\nA confirmed run is REFUSED without count_type S: {mismatch.args[0]}"
    elif kind == "S":
        message += f"\n{attr} is a string count (S): it is written as a string, as stored."
    return SetResult(
        applied=False,
        dry_run=True,
        old=live,
        new=plan.new_value,
        backup_path=None,
        audit_path=None,
        undo_command=None,
        message=f"{message}\nTo apply: {command}",
        command=command,
        count_type=kind,
    )


def refused_result(target: Target, new_value: Any, exc: RunbookError, **kwargs: Any) -> SetResult:
    """The SetResult of a refused write: what was refused, and the command that would do it."""
    expected = kwargs.get("expected_current")
    lower = kwargs.get("allow_decrease") is True or isinstance(exc, DecreaseRefusedError)
    if isinstance(exc, CountConflictError) and exc.live_value is not None:
        expected = exc.live_value  # compare-and-set against the value that is live now
    kind = str(kwargs.get("count_type") or "").strip().upper()
    if isinstance(exc, CountTypeError):  # the type the item holds: the one a write may use
        kind = "S" if exc.count_type == "S" else ""
    command = set_command(
        target,
        int(new_value),
        expected_current=_int_or_none(expected),
        allow_decrease=lower,
        reason=str(kwargs.get("reason") or ""),
        count_type=kind,
    )
    what = " ".join(str(exc.args[0] if exc.args else exc).split())
    return SetResult(
        applied=False,
        dry_run=kwargs.get("dry_run", True) is not False,
        old=_int_or_none(getattr(exc, "live_value", None)),
        new=int(new_value),
        backup_path=None,
        audit_path=None,
        undo_command=None,
        message=f"REFUSED: {what}\nTo do it: {command}",
        refused=what,
        command=command,
        count_type=kind or "N",
    )


def applied_result(
    target: Target,
    plan: SetPlan,
    actor: str,
    old_item: dict[str, Any],
    read: ItemBackup,
    replaced: ItemBackup,
    audit_path: str | Path | None,
    count_type: str = "N",
) -> SetResult:
    """Audit, undo commands and message of a write that went through; both hold the item
    the write replaced (ALL_OLD), so the undo is exact. `count_type`: the type written."""
    old = counter.count_of(old_item, target.count_attribute)
    moved = replaced is not read
    undo_cli, undo_runbook = undo_commands(
        target, replaced.path, lowers=old is not None and plan.new_value > old
    )
    audit = Path(audit_path) if audit_path else paths.backups_dir() / AUDIT_FILE
    record = audit_record(
        target,
        actor=actor,
        old=old,
        new=plan.new_value,
        expected_current=plan.expected_current,
        reason=plan.reason,
        backup_path=str(replaced.path),
        undo_command=undo_cli,
        when=dt.datetime.now(dt.timezone.utc),
        count_type=count_type,
    )
    if moved:
        record["read_backup_path"] = str(read.path)
    was = shown(old_item, target.count_attribute)
    _append_or_say_what_was_done(target, audit, record, was, plan.new_value, replaced)
    return SetResult(
        applied=True,
        dry_run=False,
        old=old,
        new=plan.new_value,
        backup_path=str(replaced.path),
        audit_path=str(audit),
        undo_command=undo_cli,
        message=_applied_message(
            target, plan, (was, count_type), old, read, replaced, audit, (undo_cli, undo_runbook)
        ),
        undo_runbook=undo_runbook,
        moved=moved,
        read_backup_path=str(read.path) if moved else None,
        count_type=count_type,
    )


def _append_or_say_what_was_done(
    target: Target,
    audit: Path,
    record: dict[str, Any],
    was: str,
    new: int,
    replaced: ItemBackup,
) -> None:
    """Append the audit record; if that fails the count WAS set: the error says so, with
    the backup, the undo and the line to add by hand."""
    try:
        append_audit(audit, record)
    except OSError as exc:
        raise RunbookError(
            f"The count WAS set in {target.table} from {was} to {new}, "
            f"but the audit record could not be written to {audit}: {exc}. "
            f"Backup: {replaced.path}. Undo: {record['undo_command']}",
            hint="fix the folder, then add this line to the audit log by hand: "
            + json.dumps(record, sort_keys=True, default=str),
        ) from exc


def _applied_message(
    target: Target,
    plan: SetPlan,
    was_and_type: tuple[str, str],
    old: int | None,
    read: ItemBackup,
    replaced: ItemBackup,
    audit: Path,
    undo: tuple[str, str],
) -> str:
    undo_cli, undo_runbook = undo
    was, count_type = was_and_type
    as_text = " as a string (S), as the item stores it" if count_type == "S" else ""
    message = (
        f"Set {target.count_attribute} in {target.table} from {was} to {plan.new_value}"
        f"{as_text} (item {target.key_label}).\n"
        f"Backup: {replaced.path}\nAudit: {audit}\n"
        f"Undo (AWS CLI, puts the replaced item back as it was): {undo_cli}\n"
        f"Undo (runbook, conditional): {undo_runbook}"
    )
    if replaced is read:
        return message
    return (
        f"ATTENTION: the count moved from {read.count} (read, backed up in {read.path}) "
        f"to {old} before the write, so the write replaced {old}, not {read.count}: "
        "someone else wrote in between. The backup and the undo hold the replaced "
        f"{old}; check the count (02_status).\n" + message
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
