"""Manual set/reset of the count: the guide's `put-item` done safely.

The guide sets the count with an unconditional PutItem that replaces the whole item and
races the Lambda. Here a real run is: validate, confirm, ask why, learn who is acting (STS),
back the item up, then ONE conditional UpdateItem (`counter.conditional_set`), then an
audit record, and the exact command that undoes it. A dry run reads once, writes nothing.

Never a lost visit: `new_value` has no default, a set that lowers the live count needs
allow_decrease=True (checked on the read, and again atomically in the write's condition), and
the backup and the audit record hold what the write actually replaced (ReturnValues=ALL_OLD).
`run` is the notebook's entry point: a refused write comes back as a result naming the exact
command that would do it (exit 3), not as a failed cell.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib import aws, paths
from runbook_lib.aws import counter
from runbook_lib.errors import (
    ConfirmationError,
    CountConflictError,
    DecreaseRefusedError,
    InvalidInputError,
    ItemMissingError,
    RunbookError,
)
from runbook_lib.formats import itemfile
from runbook_lib.redact import find_secrets
from runbook_lib.steps.setrecord import (
    AUDIT_FILE,
    NO_REASON,
    append_audit,
    audit_record,
    read_audit,
    set_command,
    undo_commands,
)
from runbook_lib.target.model import Target

# the audit log and the printed commands live in setrecord; callers know them from here too
__all__ = [
    "AUDIT_FILE",
    "NO_REASON",
    "REFUSALS",
    "SetPlan",
    "SetResult",
    "append_audit",
    "plan_set",
    "read_audit",
    "refused_result",
    "run",
    "set_command",
    "set_count",
    "undo_commands",
]

MAX_REASON_CHARS = 500  # one line in the audit log, not an essay
# Refused writes: a clean outcome of 03_set_count (exit 3), each with the command that would do it.
REFUSALS = (DecreaseRefusedError, ConfirmationError, CountConflictError)


@dataclass(frozen=True)
class SetPlan:
    """A validated request: what to write and whether this is a confirmed real run."""

    new_value: int
    expected_current: int | None
    reason: str
    apply: bool  # False: dry run
    allow_decrease: bool = False


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
        head = {"applied": self.applied, "dry_run": self.dry_run, "old": self.old, "new": self.new}
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


# ---- pure ---------------------------------------------------------------------------------


def plan_set(
    target: Target,
    new_value: Any,
    *,
    expected_current: Any = None,
    reason: Any = "",
    dry_run: Any = True,
    confirm: str | None = None,
    allow_decrease: Any = False,
) -> SetPlan:
    """Check a set request without touching AWS; InvalidInputError / ConfirmationError
    say what is wrong (nothing is written)."""
    if new_value is None:  # no default: a forgotten value must never become a reset to 0
        raise InvalidInputError(
            "new_value is required: the count to set. Nothing was written.",
            hint="pass -p new_value N; a reset to 0 is -p new_value 0 -p allow_decrease True.",
        )
    new = counter.validate_count(new_value, "new_value")
    expected = (
        None
        if expected_current is None
        else counter.validate_count(expected_current, "expected_current")
    )
    lower = counter.require_flag("allow_decrease", allow_decrease)
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
    return SetPlan(
        new_value=new, expected_current=expected, reason=reason, apply=apply, allow_decrease=lower
    )


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
    allow_decrease: bool = False,
    audit_path: str | Path | None = None,
    backup_dir: str | Path | None = None,
    ddb: Any = None,
    sts: Any = None,
) -> SetResult:
    """Set the count. Dry run (default): read and say exactly what would happen.

    Both read the item once and refuse a missing item or a count other than
    expected_current; a real run also refuses to lower the live count unless
    allow_decrease. It then asks STS who is acting, backs the item up, makes ONE conditional
    UpdateItem (item exists; count == expected_current when given; count <= new_value unless
    allow_decrease) and appends the audit record. If the write replaced another count than
    the one read (a visit or another set in between), the replaced item is backed up too,
    the audit record and the undo use it, and the result says so (`needs_attention`).
    Refusals raise RunbookError subclasses with nothing written but, for a conflict in the
    write itself, the backup of the unchanged item.
    """
    plan = plan_set(
        target,
        new_value,
        expected_current=expected_current,
        reason=reason,
        dry_run=dry_run,
        confirm=confirm,
        allow_decrease=allow_decrease,
    )
    ddb = ddb or counter.dynamodb(target)
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
        read_value=_count_or_none(live, target.count_attribute),
        allow_decrease=plan.allow_decrease,
        ddb=ddb,
    )
    old = _count_or_none(old_item, target.count_attribute)
    replaced = backup
    if old != backup.count:  # the write replaced something else: back THAT up for the undo
        why = f"the item set_count replaced (it moved after the backup {backup.path.name})"
        replaced = itemfile.backup_item(
            target, dest_dir=backup_dir, ddb=ddb, reason=why, item=old_item
        )
    return _applied(target, plan, identity.arn, old_item, backup, replaced, audit_path)


def run(target: Target, new_value: Any, **kwargs: Any) -> SetResult:
    """03_set_count's cell: `set_count`, with a refused write (decrease refused, confirm
    mismatch, compare-and-set conflict) returned as a result, not raised: one line saying
    what was refused and the exact command that would do it; the runner exits 3."""
    try:
        return set_count(target, new_value, **kwargs)
    except REFUSALS as exc:
        return refused_result(target, new_value, exc, **kwargs)


def refused_result(target: Target, new_value: Any, exc: RunbookError, **kwargs: Any) -> SetResult:
    """The SetResult of a refused write: what was refused, and the command that would do it."""
    expected = kwargs.get("expected_current")
    lower = kwargs.get("allow_decrease") is True or isinstance(exc, DecreaseRefusedError)
    if isinstance(exc, CountConflictError) and exc.live_value is not None:
        expected = exc.live_value  # compare-and-set against the value that is live now
    command = set_command(
        target,
        int(new_value),
        expected_current=int(expected) if expected is not None else None,
        allow_decrease=lower,
        reason=str(kwargs.get("reason") or ""),
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
    )


def _applied(
    target: Target,
    plan: SetPlan,
    actor: str,
    old_item: dict[str, Any],
    read: itemfile.ItemBackup,
    replaced: itemfile.ItemBackup,
    audit_path: str | Path | None,
) -> SetResult:
    """Audit, undo commands and message of a write that went through; both hold the item
    the write replaced (ALL_OLD), so the undo is exact."""
    attr, table = target.count_attribute, target.table
    old = _count_or_none(old_item, attr)
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
    )
    if moved:
        record["read_backup_path"] = str(read.path)
    try:
        append_audit(audit, record)
    except OSError as exc:
        raise RunbookError(
            f"The count WAS set in {table} from {_shown(old_item, attr)} to {plan.new_value}, "
            f"but the audit record could not be written to {audit}: {exc}. "
            f"Backup: {replaced.path}. Undo: {undo_cli}",
            hint="fix the folder, then add this line to the audit log by hand: "
            + json.dumps(record, sort_keys=True, default=str),
        ) from exc
    message = (
        f"Set {attr} in {table} from {_shown(old_item, attr)} to {plan.new_value} "
        f"(item {target.key_label}).\n"
        f"Backup: {replaced.path}\nAudit: {audit}\n"
        f"Undo (AWS CLI, puts the replaced item back as it was): {undo_cli}\n"
        f"Undo (runbook, conditional): {undo_runbook}"
    )
    if moved:
        message = (
            f"ATTENTION: the count moved from {read.count} (read, backed up in {read.path}) "
            f"to {old} before the write, so the write replaced {old}, not {read.count}: "
            "someone else wrote in between. The backup and the undo hold the replaced "
            f"{old}; check the count (02_status).\n" + message
        )
    return SetResult(
        applied=True,
        dry_run=False,
        old=old,
        new=plan.new_value,
        backup_path=str(replaced.path),
        audit_path=str(audit),
        undo_command=undo_cli,
        message=message,
        undo_runbook=undo_runbook,
        moved=moved,
        read_backup_path=str(read.path) if moved else None,
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _check_live(target: Target, plan: SetPlan, item: dict[str, Any] | None) -> dict[str, Any]:
    """Refuse early, before any file is written, what the conditional write would refuse:
    a missing item, a count other than expected_current, and (real runs) a lower count
    without allow_decrease. The write re-checks all three."""
    if item is None:
        raise ItemMissingError(
            f"The item {target.key_label} does not exist in {target.table}; "
            "03_set_count only changes an existing item. Nothing was written."
        )
    attr = target.count_attribute
    if plan.expected_current is not None and "N" not in item.get(attr, {}):
        raise counter.CountValueError(
            f"The live {attr} is not a number ({_shown(item, attr)}), so it can never equal "
            f"expected_current={plan.expected_current}. Nothing was written.",
            hint="repair it with 03_set_count without expected_current (it backs up first).",
        )
    live = _count_or_none(item, attr)
    if plan.expected_current is not None and live != plan.expected_current:
        raw = item.get(attr, {}).get("N")
        raise CountConflictError(
            f"The count moved: expected {plan.expected_current}, live value is {raw}. "
            "Nothing was written.",
            live_value=raw,
        )
    if plan.apply and _lowers(plan, live):
        refused = DecreaseRefusedError(
            f"Refusing to lower {attr} in {target.table} from {live} (live) to "
            f"{plan.new_value} (new_value): {_visits(live - plan.new_value)} would be lost. "
            "Nothing was written."
        )
        refused.live_value = live  # type: ignore[attr-defined]  # the refused result's `old`
        raise refused
    return item


def _visits(n: int) -> str:
    return "1 counted visit" if n == 1 else f"{n} counted visits"


def _lowers(plan: SetPlan, live: int | None) -> bool:
    """The set would lower a valid live count without allow_decrease."""
    return live is not None and plan.new_value < live and not plan.allow_decrease


def _dry_run_result(target: Target, plan: SetPlan, item: dict[str, Any]) -> SetResult:
    attr, table = target.count_attribute, target.table
    live = _count_or_none(item, attr)
    command = set_command(
        target,
        plan.new_value,
        expected_current=plan.expected_current,
        allow_decrease=plan.allow_decrease or _lowers(plan, live),
        reason=plan.reason,
    )
    verb = "LOWER" if live is not None and plan.new_value < live else "set"
    message = (
        f"DRY RUN: would {verb} {attr} in {table} from {_shown(item, attr)} to "
        f"{plan.new_value} (item {target.key_label}), after backing it up. Nothing was written."
    )
    if _lowers(plan, live):
        message += (
            "\nA confirmed run is REFUSED without allow_decrease=True: "
            f"{_visits(live - plan.new_value)} would be lost."
        )
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
    )
