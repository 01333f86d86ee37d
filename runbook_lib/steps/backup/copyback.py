"""Copy the count from a restored table (native backup or PITR) back into the live item.

The second step after steps/nativerestore.py: read the counter in the restored table and
write it into the live item through the same safe path as every other write (live item
backed up first, no lowering unless allowed, one conditional UpdateItem).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from runbook_lib.aws import counter
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.errors import (
    CountConflictError,
    InvalidInputError,
    ItemMissingError,
    TableMissingError,
)
from runbook_lib.formats import countshape
from runbook_lib.formats.countvalue import StoredCount
from runbook_lib.formats.itemfile import ItemBackup
from runbook_lib.model import Target
from runbook_lib.steps.backup import itembackup
from runbook_lib.steps.backup.export import dynamodb_client
from runbook_lib.steps.backup.nativebackup import table_name
from runbook_lib.steps.common.confirm import refuse_decrease, require_confirmation, require_flag


@dataclass(frozen=True)
class CopyBackResult:
    source_table: str
    table: str
    before: int | None  # live count before (None: the live item was missing)
    after: int  # the count in the restored table
    dry_run: bool
    written: bool
    backup_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["backup_path"] = str(self.backup_path) if self.backup_path else None
        return data


def _restored_count(source: Target, ddb: DynamoDBClient) -> StoredCount:
    """The count in the restored table (and its type), with what to do when it is not there."""
    try:
        return counter.read_stored(source, ddb=ddb)
    except ItemMissingError as exc:
        raise ItemMissingError(
            f"The restored table {source.table} has no counter item "
            f"{source.key_label}; nothing to copy back.",
            hint="check the restore time or backup: the item did not exist then.",
        ) from exc
    except TableMissingError as exc:
        raise TableMissingError(
            f"The restored table {source.table} does not exist.",
            hint="restore it first (kind=native or kind=pitr with new_table_name).",
        ) from exc


def copy_counter_back(
    source_table: str,
    target: Target,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    allow_decrease: bool = False,
    reason: str = "",
    ddb: DynamoDBClient | None = None,
    backup_item: Callable[..., ItemBackup] = itembackup.backup_item,
) -> CopyBackResult:
    """Put the count found in a restored table back into the live counter item.

    Reads the counter (same key and attribute) from `source_table`, compares it with the
    live count, refuses to lower it unless allow_decrease, needs confirm == live table name,
    backs up the live item (`backup_item`: itembackup's; a test lets a visit in after it),
    then ONE conditional UpdateItem (counter.conditional_set with expected_current=live): a
    visit counted in between makes it fail with CountConflictError instead of being lost. A
    missing live item is created with counter.init_counter (only if still missing).
    """
    require_flag("allow_decrease", allow_decrease)
    source_table = table_name(source_table)
    if source_table == target.table:
        raise InvalidInputError(
            f"source_table must be the restored table, not the live table {target.table}."
        )
    ddb = dynamodb_client(target, ddb)
    stored = _restored_count(replace(target, table=source_table), ddb)
    restored = stored.value
    live_item = counter.get_item(target, ddb=ddb)
    countshape.check_count_here(target, live_item)
    # the restored table's count has the item's own type (N, or S: a string count)
    source = {target.count_attribute: stored.wire()}
    countshape.restore_type(target, live_item, source, f"The restored table {source_table}")
    live = counter.parse_count(live_item, target.count_attribute) if live_item else None
    if live is not None:
        refuse_decrease(
            target, live, restored, f"restored table {source_table}", allow_decrease=allow_decrease
        )
    plan = CopyBackResult(source_table, target.table, live, restored, dry_run, written=False)
    if live == restored or not require_confirmation(target, dry_run, confirm):
        return plan
    if live is None:
        _create_missing(target, stored, ddb)
        return replace(plan, written=True)
    why = reason or f"before copying the count back from {source_table}"
    backup = backup_item(target, ddb=ddb, reason=why)
    # pinned to the count read (a visit since fails it); lower only as the user allowed,
    # which refuse_decrease checked above
    counter.conditional_set(
        target,
        restored,
        expected_current=live,
        allow_decrease=allow_decrease,
        count_type=stored.type,
        ddb=ddb,
    )
    return replace(plan, written=True, backup_path=backup.path)


def _create_missing(target: Target, stored: StoredCount, ddb: DynamoDBClient) -> None:
    """The live item is missing: create it with the restored count, of its type, with ONE
    conditional PutItem (only if it is still missing)."""
    created = counter.init_counter(replace(target, count_type=stored.type), stored.value, ddb=ddb)
    if not created.created:
        raise CountConflictError(
            f"The live counter item appeared meanwhile (value {created.value}); "
            "nothing was written.",
        )
