"""Manual set/reset of the count: the guide's `put-item` done safely.

The guide sets the count with an unconditional PutItem that replaces the whole item and
races the Lambda. Here a real run is: validate, confirm, ask why, learn who is acting (STS),
back the item up, then ONE conditional UpdateItem (`counter.conditional_set`), then an
audit record, and the exact command that undoes it. A dry run reads once, writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__, aws, counter, itemfile, paths
from .errors import CountConflictError, InvalidInputError, ItemMissingError, RunbookError
from .redact import find_secrets
from .target import Target

AUDIT_FILE = "audit.jsonl"
MAX_REASON_CHARS = 500  # one line in the audit log, not an essay
RESTORE_NOTEBOOK = "04_backup_restore"


@dataclass(frozen=True)
class SetPlan:
    """A validated request: what to write and whether this is a confirmed real run."""

    new_value: int
    expected_current: int | None
    reason: str
    apply: bool  # False: dry run


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
    moved: bool = False  # the count changed between the backup and the write

    @property
    def needs_attention(self) -> bool:
        """Applied, but visits landed between the backup and the write: the backup is not
        exactly the value that was replaced (see `message`)."""
        return self.applied and self.moved

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "dry_run": self.dry_run,
            "old": self.old,
            "new": self.new,
            "backup_path": self.backup_path,
            "audit_path": self.audit_path,
            "undo_command": self.undo_command,
            "undo_runbook": self.undo_runbook,
            "moved": self.moved,
            "message": self.message,
        }

    def __str__(self) -> str:
        return self.message


# ---- pure ---------------------------------------------------------------------------------


def plan_set(
    target: Target,
    new_value: Any,
    *,
    expected_current: Any = None,
    reason: Any = "",
    dry_run: Any = True,
    confirm: str | None = None,
) -> SetPlan:
    """Check a set request without touching AWS; InvalidInputError / ConfirmationError
    say what is wrong (nothing is written)."""
    new = counter.validate_count(new_value, "new_value")
    expected = (
        None
        if expected_current is None
        else counter.validate_count(expected_current, "expected_current")
    )
    if not isinstance(reason, str):
        raise InvalidInputError(f"reason must be text, got {type(reason).__name__}.")
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInputError(
            f"reason has {len(reason)} characters; keep it under {MAX_REASON_CHARS} "
            "(it is one line of the audit log)."
        )
    if find_secrets(reason):
        raise InvalidInputError("reason looks like it holds a credential; it goes into the log.")
    apply = counter.require_confirmation(target, dry_run, confirm)
    if apply and not reason:
        # A write must never be blocked at 3 a.m. for want of prose; the audit log says so.
        reason = NO_REASON
    return SetPlan(new_value=new, expected_current=expected, reason=reason, apply=apply)


NO_REASON = "(no reason given)"


def undo_commands(target: Target, backup_path: str | Path, *, lowers: bool) -> tuple[str, str]:
    """(AWS CLI line, runbook line) that put the backed-up item back.

    The CLI line is the guide's put-item: unconditional, the whole item. The runbook line
    restores through the conditional path; `lowers` adds allow_decrease for undoing an
    increase.
    """
    path = str(Path(backup_path).resolve())
    cli = [
        "aws",
        "dynamodb",
        "put-item",
        "--table-name",
        target.table,
        "--item",
        f"file://{path}",
        "--region",
        target.region,
    ]
    if target.endpoint:
        cli += ["--endpoint-url", target.endpoint]
    runbook = ["runbook", "run", RESTORE_NOTEBOOK, "-p", "action", "restore"]
    runbook += ["-p", "backup_path", path, "-p", "table_name", target.table]
    if lowers:
        runbook += ["-p", "allow_decrease", "True"]
    runbook += ["-p", "dry_run", "False", "-p", "confirm", target.table]
    return shlex.join(cli), shlex.join(runbook)


def audit_record(
    target: Target,
    *,
    actor: str,
    old: int | None,
    new: int,
    expected_current: int | None,
    reason: str,
    backup_path: str,
    undo_command: str,
    when: dt.datetime,
) -> dict[str, Any]:
    return {
        "time": when.isoformat(),
        "action": "set_count",
        "actor": actor,
        "table": target.table,
        "key": {target.key_name: target.key_value},
        "count_attribute": target.count_attribute,
        "old": old,
        "new": new,
        "expected_current": expected_current,
        "reason": reason,
        "backup_path": backup_path,
        "undo_command": undo_command,
        "dry_run": False,
        "target": target.endpoint or "aws",
        "region": target.region,
        "tool_version": __version__,
    }


# ---- I/O ----------------------------------------------------------------------------------


def append_audit(path: str | Path, record: dict[str, Any]) -> Path:
    """Append one JSON line durably: O_APPEND, one write, fsync."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_audit(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Every record in the audit log (oldest first); [] when there is none yet."""
    path = Path(path) if path else paths.backups_dir() / AUDIT_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _count_or_none(item: dict[str, Any] | None, attribute: str) -> int | None:
    try:
        return counter.parse_count(item, attribute)
    except counter.CountValueError:
        return None


def _shown(item: dict[str, Any], attribute: str) -> str:
    """The live value for a message: the number, or the raw value when it is not one."""
    value = _count_or_none(item, attribute)
    return str(value) if value is not None else json.dumps(item.get(attribute))


def set_count(
    target: Target,
    new_value: Any,
    *,
    expected_current: Any = None,
    reason: str = "",
    dry_run: bool = True,
    confirm: str | None = None,
    audit_path: str | Path | None = None,
    backup_dir: str | Path | None = None,
    ddb: Any = None,
    sts: Any = None,
) -> SetResult:
    """Set the count. Dry run (default): read and say exactly what would happen.

    Both read the item once and refuse a missing item or a count other than
    expected_current. A real run (dry_run=False, confirm=<table>, a reason) then asks STS
    who is acting, backs the item up, makes ONE conditional UpdateItem (item exists; count
    == expected_current when given) and appends the audit record. Refusals raise
    RunbookError subclasses with nothing written; a conflict that slips in between the
    read and the write leaves only the backup of the unchanged item.
    """
    plan = plan_set(
        target,
        new_value,
        expected_current=expected_current,
        reason=reason,
        dry_run=dry_run,
        confirm=confirm,
    )
    ddb = ddb or counter.dynamodb(target)
    attr, table = target.count_attribute, target.table
    live = _check_live(target, plan, counter.get_item(target, ddb=ddb))
    if not plan.apply:
        return _dry_run_result(target, plan, live)
    identity = aws.caller_identity(sts=sts or aws.client("sts", aws.session(target.region)))
    backup = itemfile.backup_item(
        target, dest_dir=backup_dir, ddb=ddb, reason=plan.reason, item=live
    )
    old_item = counter.conditional_set(
        target,
        plan.new_value,
        expected_current=plan.expected_current,
        read_value=_count_or_none(live, attr),
        ddb=ddb,
    )
    when = dt.datetime.now(dt.timezone.utc)
    old = _count_or_none(old_item, attr)
    moved = old != backup.count
    lowers = old is not None and plan.new_value > old
    undo_cli, undo_runbook = undo_commands(target, backup.path, lowers=lowers)
    audit = Path(audit_path) if audit_path else paths.backups_dir() / AUDIT_FILE
    record = audit_record(
        target,
        actor=identity.arn,
        old=old,
        new=plan.new_value,
        expected_current=plan.expected_current,
        reason=plan.reason,
        backup_path=str(backup.path),
        undo_command=undo_cli,
        when=when,
    )
    try:
        append_audit(audit, record)
    except OSError as exc:
        raise RunbookError(
            f"The count WAS set in {table} from {_shown(old_item, attr)} to {plan.new_value}, "
            f"but the audit record could not be written to {audit}: {exc}. "
            f"Backup: {backup.path}. Undo: {undo_cli}",
            hint="fix the folder, then add this line to the audit log by hand: "
            + json.dumps(record, sort_keys=True, default=str),
        ) from exc
    message = (
        f"Set {attr} in {table} from {_shown(old_item, attr)} to {plan.new_value} "
        f"(item {target.key_name}={target.key_value}).\n"
        f"Backup: {backup.path}\nAudit: {audit}\n"
        f"Undo (AWS CLI, puts the backed-up item back as it was): {undo_cli}\n"
        f"Undo (runbook, conditional): {undo_runbook}"
    )
    if moved:
        message += (
            f"\nNote: the count moved from {backup.count} (backup) to {old} before the write; "
            "the backup holds the earlier value."
        )
    return SetResult(
        applied=True,
        dry_run=False,
        old=old,
        new=plan.new_value,
        backup_path=str(backup.path),
        audit_path=str(audit),
        undo_command=undo_cli,
        message=message,
        undo_runbook=undo_runbook,
        moved=moved,
    )


def _check_live(target: Target, plan: SetPlan, item: dict[str, Any] | None) -> dict[str, Any]:
    """Refuse early, before any file is written, what the conditional write would refuse:
    a missing item, or a count other than expected_current. The write re-checks both."""
    if item is None:
        raise ItemMissingError(
            f"The item {target.key_name}={target.key_value} does not exist in {target.table}; "
            "03_set_count only changes an existing item. Nothing was written."
        )
    attr = target.count_attribute
    if plan.expected_current is not None and "N" not in item.get(attr, {}):
        raise counter.CountValueError(
            f"The live {attr} is not a number ({_shown(item, attr)}), so it can never equal "
            f"expected_current={plan.expected_current}. Nothing was written.",
            hint="repair it with 03_set_count without expected_current (it backs up first).",
        )
    if plan.expected_current is not None and _count_or_none(item, attr) != plan.expected_current:
        live = item.get(attr, {}).get("N")
        raise CountConflictError(
            f"The count moved: expected {plan.expected_current}, live value is {live}. "
            "Nothing was written.",
            live_value=live,
        )
    return item


def _dry_run_result(target: Target, plan: SetPlan, item: dict[str, Any]) -> SetResult:
    attr, table = target.count_attribute, target.table
    message = (
        f"DRY RUN: would set {attr} in {table} from {_shown(item, attr)} to "
        f"{plan.new_value} (item {target.key_name}={target.key_value}), after backing it up. "
        "Nothing was written.\nTo apply: -p dry_run False -p confirm "
        f"{shlex.quote(table)} -p reason '<why>'"
    )
    return SetResult(
        applied=False,
        dry_run=True,
        old=_count_or_none(item, attr),
        new=plan.new_value,
        backup_path=None,
        audit_path=None,
        undo_command=None,
        message=message,
    )
