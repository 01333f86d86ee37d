"""Restore a whole-table export (steps/export.py's format) into an existing table.

Restore never creates, deletes or reconfigures a table (Terraform owns it). It writes items
into an existing table whose key schema matches, after verify_and_find checked the file
against its manifest (a damaged file writes nothing). The counter item, when present in the
export and in the destination, goes through one conditional write with the same rule as an
item restore: never lower the live count unless allow_decrease=True, live item backed up
first. Afterwards every put must have been acknowledged, the file must still hash to its
manifest, and a sample (or, with read_back="all", every key) is read back.

The steps below read in order in `restore_table`; the bulk write is steps/exportwrite.py,
the read-back steps/readback.py, the batch calls aws/batch.py.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runbook_lib.aws import counter
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.errors import InvalidInputError, RestoreVerificationError
from runbook_lib.formats.dynamojson import item_from_json
from runbook_lib.model import Target
from runbook_lib.steps.backup import itembackup, readback
from runbook_lib.steps.backup.exportwrite import Written, write_export
from runbook_lib.steps.backup.restoreplan import RestorePlan, plan_restore
from runbook_lib.steps.common.confirm import require_confirmation, require_flag
from runbook_lib.steps.common.progress import progress_bar

RESTORE_WRITERS = 4  # BatchWriteItem calls in flight at once during a restore
MAX_WRITERS = 32  # more calls in flight only queue up in the connection pool
READ_BACK_MODES = ("sample", "all")
READ_BACK_SAMPLE = 100  # items read back after a restore by default: one BatchGetItem


@dataclass(frozen=True)
class TableRestoreResult:
    path: Path
    table: str
    dry_run: bool
    restored: bool
    item_count: int  # items in the export
    items_written: int
    verified: bool
    read_back: str = "sample"  # READ_BACK_MODES: what the verification read back
    items_read_back: int = 0
    counter_before: int | None = None  # live count before (None: no counter item involved)
    counter_after: int | None = None  # count in the export
    live_backup_path: Path | None = None
    batches: int = 0
    retries: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


def _check_options(allow_decrease: bool, read_back: str, writers: int) -> None:
    require_flag("allow_decrease", allow_decrease)
    if read_back not in READ_BACK_MODES:
        raise InvalidInputError(
            f"read_back must be one of {', '.join(READ_BACK_MODES)}, got {read_back!r}."
        )
    if isinstance(writers, bool) or not isinstance(writers, int) or not 1 <= writers <= MAX_WRITERS:
        raise InvalidInputError(
            f"writers must be a whole number from 1 to {MAX_WRITERS}, got {writers!r}."
        )


def _backup_live(plan: RestorePlan, reason: str) -> Path | None:
    """The live counter item to a file first, when the restore overwrites it."""
    if plan.live_item is None:
        return None
    why = reason or f"before restoring table export {plan.data_path.name}"
    return itembackup.backup_item(plan.target, ddb=plan.ddb, reason=why).path


def _write(plan: RestorePlan, *, writers: int, read_back: str, progress: bool) -> Written:
    """Every item but the counter in batches, then the counter item by its own conditional
    put; every item of the export must have been acknowledged."""
    table, manifest = plan.target.table, plan.manifest
    with progress_bar(progress, desc=f"restore {table}", total=manifest.item_count) as bar:
        done = write_export(
            plan.ddb,
            table,
            plan.data_path,
            manifest,
            skip_key=plan.counter_key,
            writers=writers,
            sample_size=READ_BACK_SAMPLE if read_back == "sample" else 0,
            on_batch=bar.update,
        )
        if plan.counter_item is not None:
            item = item_from_json(plan.counter_item)
            counter.put_counter_item(plan.target, item, plan.live_item, ddb=plan.ddb)
            done.items += 1
            done.sample.append(plan.counter_item)
            bar.update(1)
    if done.items != manifest.item_count:
        raise RestoreVerificationError(
            f"Wrote {done.items} items into {table} but the export holds {manifest.item_count}.",
            hint="re-run the restore: puts are idempotent.",
        )
    return done


def _read_back(plan: RestorePlan, done: Written, read_back: str) -> int:
    """How many items were read back and found as written."""
    key, attr = plan.counter_key, plan.target.count_attribute  # the counter item may grow
    table, manifest = plan.target.table, plan.manifest
    if read_back == "all":
        return readback.check_all(
            plan.ddb, table, plan.data_path, manifest, counter_key=key, count_attribute=attr
        )
    return readback.check_sample(
        plan.ddb, table, manifest, done.sample, counter_key=key, count_attribute=attr
    )


def _result(plan: RestorePlan, clock: float, **fields: Any) -> TableRestoreResult:
    """The result; what `fields` leaves out is what a dry run reports (nothing written)."""
    return TableRestoreResult(
        path=plan.data_path,
        table=plan.target.table,
        item_count=plan.manifest.item_count,
        counter_before=plan.before,
        counter_after=plan.after,
        seconds=round(time.monotonic() - clock, 3),
        **{"restored": False, "items_written": 0, "verified": False, **fields},
    )


def restore_table(
    path: str | Path,
    table: str | Target,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    allow_decrease: bool = False,
    allow_other_table: bool = False,
    read_back: str = "sample",
    ddb: DynamoDBClient | None = None,
    progress: bool = True,
    reason: str = "",
    writers: int = RESTORE_WRITERS,
) -> TableRestoreResult:
    """Write every item of a verified export into an EXISTING table with the same key schema.

    Order: verify the file (sha256, count and digest against the manifest, every item
    checked; a damaged file writes nothing) -> check the destination's key schema -> if the
    export holds the counter item: refuse to lower the live count unless allow_decrease ->
    dry run stops here -> confirm must equal the destination table name -> back up the live
    counter item (itembackup.backup_item) -> BatchWriteItem in 25s, `writers` calls in flight,
    UnprocessedItems retried (the counter item by one conditional PutItem) -> every put
    acknowledged, the file's bytes unchanged since the check -> read back: `read_back` =
    "sample" (the counter item and READ_BACK_SAMPLE others, one BatchGetItem) or "all"
    (every key, count and digest against the manifest: as many reads as writes).

    `table` is a table name or the runbook's Target (its key/attribute identify the counter
    item; a plain name uses the default stat=Quantity / viewCount). Never creates, deletes or
    reconfigures a table.
    """
    _check_options(allow_decrease, read_back, writers)
    clock = time.monotonic()
    plan = plan_restore(
        path, table, allow_decrease=allow_decrease, allow_other_table=allow_other_table, ddb=ddb
    )
    if not require_confirmation(plan.target, dry_run, confirm):
        return _result(plan, clock, dry_run=dry_run, read_back=read_back)
    backup_path = _backup_live(plan, reason)
    done = _write(plan, writers=writers, read_back=read_back, progress=progress)
    checked = _read_back(plan, done, read_back)
    return _result(
        plan,
        clock,
        dry_run=dry_run,
        restored=True,
        items_written=done.items,
        verified=True,
        read_back=read_back,
        items_read_back=checked,
        live_backup_path=backup_path,
        batches=done.batches,
        retries=done.retries,
    )
