"""Manual set/reset of the count: the guide's `put-item` done safely.

The guide sets the count with an unconditional PutItem that replaces the whole item and
races the Lambda. Here a real run is: validate, confirm, ask why, learn who is acting (STS),
back the item up, then ONE conditional UpdateItem (`counter.conditional_set`), then an
audit record, and the exact command that undoes it. A dry run reads once, writes nothing.

Never a lost visit: `new_value` has no default, a set that lowers the live count needs
allow_decrease=True (checked on the read, and again atomically in the write's condition), and
the backup and the audit record hold what the write actually replaced (ReturnValues=ALL_OLD).
`run` is the notebook's entry point (the step's Result): a refused write comes back as a
result naming the exact command that would do it (exit 3), not as a failed cell.

The request and its refusals are in `plan`, the results in `outcome`, the commands and the
audit log in `auditlog` (modules beside this one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbook_lib import aws, paths
from runbook_lib.aws import counter
from runbook_lib.aws.types import DynamoDBClient, STSClient
from runbook_lib.errors import (
    ConfirmationError,
    CountConflictError,
    DecreaseRefusedError,
    RunbookError,
)
from runbook_lib.formats import countshape
from runbook_lib.formats.countvalue import COUNT_TYPES, CountTypeError
from runbook_lib.formats.itemfile import ItemBackup
from runbook_lib.model import Target
from runbook_lib.steps.backup import itembackup
from runbook_lib.steps.common.result import Result
from runbook_lib.steps.setcount.outcome import (
    SetResult,
    applied_result,
    dry_run_result,
    refused_result,
)
from runbook_lib.steps.setcount.plan import check_live, plan_set

# Refused writes: a clean outcome of 03_set_count (exit 3), each with the command that would do it.
REFUSALS = (DecreaseRefusedError, ConfirmationError, CountConflictError, CountTypeError)


def set_count(
    target: Target,
    new_value: Any,
    *,
    expected_current: Any = None,
    reason: str = "",
    dry_run: bool = True,
    confirm: str | None = None,
    allow_decrease: bool = False,
    count_type: str = "",
    audit_path: str | Path | None = None,
    backup_dir: str | Path | None = None,
    ddb: DynamoDBClient | None = None,
    sts: STSClient | None = None,
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

    The write keeps the count's type: `count_type` "S" writes a string count (a site that
    stores str(n)); empty writes a number, and a string count is refused (CountTypeError),
    as is any N <-> S change. An item holding its count under another attribute is refused
    (CountElsewhereError): the set would add a second count.
    """
    plan = plan_set(
        target, new_value, expected_current=expected_current, reason=reason,
        dry_run=dry_run, confirm=confirm, allow_decrease=allow_decrease, count_type=count_type,
    )  # fmt: skip
    ddb = ddb or counter.dynamodb(target)
    live = check_live(target, plan, counter.get_item(target, ddb=ddb))
    if not plan.apply:
        return dry_run_result(target, plan, live)
    kind = countshape.type_to_write(target, live, plan.count_type)
    actor = aws.caller_identity(sts=sts, region=target.region).arn
    backup = itembackup.backup_item(
        target, dest_dir=backup_dir, ddb=ddb, reason=plan.reason, item=live
    )
    old_item = counter.conditional_set(
        target,
        plan.new_value,
        expected_current=plan.expected_current,
        read_value=counter.count_of(live, target.count_attribute),
        allow_decrease=plan.allow_decrease,
        count_type=kind,
        over_type=_repaired_type(target, live),
        replaces=live.get(target.count_attribute),
        ddb=ddb,
    )
    replaced = _replaced(target, backup, old_item, backup_dir, ddb)
    return applied_result(target, plan, actor, old_item, backup, replaced, audit_path, kind)


def _repaired_type(target: Target, item: dict[str, Any]) -> str | None:
    """The type of a live value that is no count (a BOOL, a list), which the set repairs;
    None when the count is absent or of a count type (the write keeps that type)."""
    kind = countshape.live_type(target, item)
    return kind if kind not in (None, *COUNT_TYPES) else None


def _replaced(
    target: Target,
    backup: ItemBackup,
    old_item: dict[str, Any],
    backup_dir: str | Path | None,
    ddb: DynamoDBClient,
) -> ItemBackup:
    """The backup of what the write replaced: the first one, unless the count moved after
    it; then THAT item is backed up too, for an exact undo."""
    if counter.count_of(old_item, target.count_attribute) == backup.count:
        return backup
    why = f"the item set_count replaced (it moved after the backup {backup.path.name})"
    try:
        return itembackup.backup_item(
            target, dest_dir=backup_dir, ddb=ddb, reason=why, item=old_item
        )
    except paths.UnwritableFolderError as exc:  # after the write: say it was made
        raise paths.UnwritableFolderError(
            f"The count of {target.table} was set, but the item it replaced (a visit moved "
            f"it after the backup {backup.path}) could not be backed up: "
            f"{exc.args[0].partition('. No backup')[0]}.",
            hint=f"the item as it was before the visit is in {backup.path}; point "
            "RUNBOOK_BACKUPS at a folder you can write to before the next write.",
        ) from None


def run(target: Target, new_value: Any, **kwargs: Any) -> Result:
    """03_set_count's one entry: `set_or_refuse`, as the step's Result (fields: the outcome's
    and the table). A problem (exit 3) when the write was refused or replaced a count other
    than the one read (`SetResult.problem`); a dry run or a clean write is not."""
    outcome = set_or_refuse(target, new_value, **kwargs)
    fields = {**outcome.to_dict(), "table": target.table}
    return Result("setcount", _verdict(outcome), outcome.problem, outcome.message, fields, outcome)


def _verdict(outcome: SetResult) -> str:
    if outcome.refused is not None:
        return "REFUSED"
    if outcome.dry_run:
        return "DRY RUN"
    return "ATTENTION" if outcome.needs_attention else "SET"


def set_or_refuse(target: Target, new_value: Any, **kwargs: Any) -> SetResult:
    """`set_count`, with a refused write (decrease refused, confirm mismatch, compare-and-set
    conflict) returned as an outcome, not raised: one line saying what was refused and the
    exact command that would do it."""
    try:
        return set_count(target, new_value, **kwargs)
    except REFUSALS as exc:
        if isinstance(exc, ConfirmationError) and not kwargs.get("count_type"):
            kwargs["count_type"] = string_type(target, kwargs.get("ddb"))
        return refused_result(target, new_value, exc, **kwargs)


def string_type(target: Target, ddb: DynamoDBClient | None = None) -> str:
    """ "S" when the live count is a string count, else "": the count_type a refused
    write's command needs when it was refused before the item was read (a wrong confirm).
    Only words a command: a read that fails leaves it out."""
    try:
        item = counter.get_item(target, ddb=ddb)
    except RunbookError:
        return ""
    return "S" if countshape.live_type(target, item) == "S" else ""
