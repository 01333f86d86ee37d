"""Back up the counter item to a file, and restore it from one (the file: formats/itemfile.py).

Backup: read the live item (strongly consistent) -> write the item file and its sidecar ->
read them back. Restore: check the file (a bad file writes nothing) -> check the
confirmation -> read the live item -> refuse to lower the count unless allow_decrease ->
(real run only) back up the live item -> ONE conditional write through aws/counter.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.aws import counter
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.aws.writetoken import WRITE_TOKEN
from runbook_lib.errors import CountConflictError, InvalidInputError, ItemMissingError
from runbook_lib.formats import countshape, itemfile, itemstore
from runbook_lib.formats.itemfile import ItemBackup, LoadedItem
from runbook_lib.model import Target
from runbook_lib.steps.common.confirm import refuse_decrease, require_confirmation, require_flag


@dataclass(frozen=True)
class RestoreResult:
    restored: bool
    old: int | None  # the live count before (None: the item was missing)
    new: int  # the count in the backup file
    backup_path: str | None  # the live item's backup, taken before writing
    dry_run: bool
    message: str
    source: str = ""  # the backup file restored from

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return self.message


def load_backup(
    path: str | Path, *, target: Target | None = None, allow_other_table: bool = False
) -> LoadedItem:
    """itemfile.load_item_file, and against `target` also a usable count (a non-negative
    whole number DynamoDB can store): the file a restore may write from."""
    loaded = itemfile.load_item_file(path, target=target, allow_other_table=allow_other_table)
    if target is None:
        return loaded
    try:
        value = counter.parse_count(loaded.item, target.count_attribute)
        count = counter.validate_count(value, target.count_attribute)
    except (counter.CountValueError, InvalidInputError) as exc:
        problem = f"the item's count is unusable: {exc.args[0]}"
        raise itemfile.refused(Path(path), problem) from None
    return dataclasses.replace(loaded, count=count)


def backup_item(
    target: Target,
    *,
    dest_dir: str | Path | None = None,
    ddb: DynamoDBClient | None = None,
    reason: str = "",
    item: dict[str, Any] | None = None,
) -> ItemBackup:
    """Back up the live counter item (strongly consistent read) to a file put-item takes.

    `item`: the item the caller has just read strongly consistently, saving a second read;
    the conditional write that follows still guards against any change since.
    ItemMissingError when there is no item (nothing written). A count that is not a valid
    number is backed up as it is: the backup is a faithful copy, whatever it holds.
    """
    ddb = ddb or counter.dynamodb(target)
    if item is None:
        item = counter.get_item(target, ddb=ddb)
    if item is None:
        raise ItemMissingError(
            f"Nothing to back up: the item {target.key_label} does not "
            f"exist in {target.table}. Nothing was written."
        )
    count = counter.count_of(item, target.count_attribute)
    root = Path(dest_dir) if dest_dir else paths.backups_dir()
    folder = root / itemfile.safe_name(target.table)
    now = dt.datetime.now(dt.timezone.utc)
    kind = countshape.live_type(target, item)  # the sidecar records it: S, a string count
    try:
        return itemstore.write_backup(
            folder, target, item, count=count, reason=reason, taken_at=now, count_type=kind
        )
    except OSError as exc:  # the write it protects has not been made: say so, in one line
        raise _unwritable(root, dest_dir, target, exc) from None


def _unwritable(
    root: Path, dest_dir: str | Path | None, target: Target, exc: OSError
) -> paths.UnwritableFolderError:
    """The backups folder could not take the backup: its path as the user set it (the
    RUNBOOK_BACKUPS value), what is in the way (or what the system said), and the fix."""
    env = os.environ.get("RUNBOOK_BACKUPS")
    spelt = Path(env) if env and dest_dir is None else Path(paths.shown(root))
    named = f"{spelt} (RUNBOOK_BACKUPS)" if env and dest_dir is None else str(spelt)
    why = paths.unwritable(spelt / itemfile.safe_name(target.table))
    why = why or exc.strerror or type(exc).__name__
    return paths.UnwritableFolderError(
        f"Cannot write the backup of {target.table}'s item to {named}: {why}. No backup "
        "was taken, and nothing was written to the table.",
        hint="point RUNBOOK_BACKUPS at a folder you can write to, then run again.",
    )


def restore_item(
    target: Target,
    path: str | Path,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    allow_decrease: bool = False,
    allow_other_table: bool = False,
    backup_dir: str | Path | None = None,
    ddb: DynamoDBClient | None = None,
) -> RestoreResult:
    """Put the count from a backup file back, through the one safe write path.

    Order: check the file (a bad file writes nothing), check confirmation, read the live
    item, refuse to lower the count unless allow_decrease, then (real run only) back up the
    live item and make ONE conditional write: `conditional_set(expected_current=<live>)`,
    or, when the item is missing, a PutItem of the file's item with attribute_not_exists.
    A dry run reads only and raises what the real run would refuse.
    """
    require_flag("allow_decrease", allow_decrease)
    loaded = load_backup(path, target=target, allow_other_table=allow_other_table)
    apply = require_confirmation(target, dry_run, confirm)
    ddb = ddb or counter.dynamodb(target)
    live = counter.get_item(target, ddb=ddb)
    if live is None:
        return _restore_missing(target, loaded, apply, ddb)
    countshape.check_count_here(target, live)
    old = counter.parse_count(live, target.count_attribute)
    kind = countshape.restore_type(target, live, loaded.item, f"The backup {loaded.path.name}")
    new = loaded.count
    assert new is not None  # load_backup with a target always checks the count
    refuse_decrease(target, old, new, f"backup {loaded.path.name}", allow_decrease=allow_decrease)
    note = _others_note(target, loaded)
    if new == old:
        return _result(loaded, False, old, not apply, _say_same(target, new, note))
    if not apply:
        return _result(loaded, False, old, True, _say_would(target, loaded, old, note))
    source = str(loaded.path.resolve())
    backup = backup_item(
        target, dest_dir=backup_dir, ddb=ddb, reason=f"before restore from {source}"
    )
    # pinned to the count read (a visit since fails it); lower only as the user allowed,
    # which refuse_decrease checked above
    counter.conditional_set(
        target, new, expected_current=old, allow_decrease=allow_decrease, count_type=kind, ddb=ddb
    )
    msg = (
        f"Restored {target.count_attribute} in {target.table} from {old} to {new} (from "
        f"{loaded.path.name}). The previous item is backed up in {backup.path}.{note}"
    )
    return _result(loaded, True, old, False, msg, backup_path=str(backup.path))


def _restore_missing(
    target: Target, loaded: LoadedItem, apply: bool, ddb: DynamoDBClient
) -> RestoreResult:
    """The item is missing: a dry run says so; a real run creates it from the file with ONE
    conditional PutItem (only if it is still missing; a lost answer is recognised as ours)."""
    attr, where, name, new = target.count_attribute, target.table, loaded.path.name, loaded.count
    if not apply:
        msg = (
            f"DRY RUN: the item {target.key_label} is missing in {where}; "
            f"a confirmed run would create it from {name} with {attr} = {new}. "
            "Nothing was written."
        )
        return _result(loaded, False, None, True, msg)
    done = counter.put_item_if_missing(target, loaded.boto_item(), ddb=ddb)
    if not done.applied:
        live = next(iter(((done.live or {}).get(attr) or {}).values()), None)
        raise CountConflictError(
            f"The item appeared in {where} while restoring (live {attr} = {live}). "
            "Nothing was written.",
            live_value=live,
            hint="run the restore again: it will now compare against the live count.",
        )
    msg = f"Restored: the item was missing in {where}; created it from {name} with {attr} = {new}."
    return _result(loaded, True, None, False, msg)


def _result(
    loaded: LoadedItem,
    restored: bool,
    old: int | None,
    dry_run: bool,
    message: str,
    *,
    backup_path: str | None = None,
) -> RestoreResult:
    assert loaded.count is not None
    source = str(loaded.path.resolve())
    return RestoreResult(restored, old, loaded.count, backup_path, dry_run, message, source)


def _others_note(target: Target, loaded: LoadedItem) -> str:
    # the write token is the runbook's own bookkeeping (aws/writetoken.py), not the user's
    others = sorted(set(loaded.item) - {*target.key_names, target.count_attribute, WRITE_TOKEN})
    if not others:
        return ""
    return f" Other attributes in the file ({', '.join(others)}) are left as they are live."


def _say_same(target: Target, new: int, note: str) -> str:
    attr = target.count_attribute
    return f"{attr} in {target.table} already equals the backup's {new}; nothing to do.{note}"


def _say_would(target: Target, loaded: LoadedItem, old: int, note: str) -> str:
    return (
        f"DRY RUN: would restore {target.count_attribute} in {target.table} from {old} to "
        f"{loaded.count} (from {loaded.path.name}), after backing up the live item. "
        f"Nothing was written.{note}"
    )
