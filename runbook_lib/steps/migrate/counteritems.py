"""05_migrate's counter items: every item of the stack that holds a count (one table with
`event=prod` and `event=test`, one item per site from `for_each`), each with a Target of its
own (its key, its count attribute and type), its live count before, after every apply and
at the end, and a backup of its own that puts the exact item back if an apply lowered it.

A count stored as a string (`{"S": "57"}`, a site that writes str(n)) is read as the number
it holds; migrate never writes an item except to put a backed-up item back exactly as it
was, so the type is kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib.aws import counter
from runbook_lib.errors import StackMismatchError, TableMissingError
from runbook_lib.formats import itemfile
from runbook_lib.model import Target
from runbook_lib.steps.backup import itembackup
from runbook_lib.tf import stackmodel
from runbook_lib.tf.stackmodel import Finding

NOTHING_TO_PROTECT = (
    "Nothing to protect: no counter item of the stack is applied yet (none in its state, "
    "none live), so there is no count to back up or to lose."
)


@dataclass
class CounterItem:
    """One counter item of the stack, and what the migration saw of it."""

    address: str  # the finding's instance address ("" when the stack does not name it)
    target: Target
    in_state: bool = False
    count_before: int | None = None
    count_after: int | None = None
    backup: itemfile.ItemBackup | None = None
    restored_from: str | None = None

    @property
    def label(self) -> str:
        return self.address or f"{self.target.table} {self.target.key_label}"

    def to_dict(self) -> dict[str, Any]:
        t = self.target
        key = {t.key_name: t.key_value}
        if t.range_key_name:
            key[t.range_key_name] = str(t.range_key_value)
        return {
            "address": self.address,
            "table": t.table,
            "key": key,
            "count_attribute": t.count_attribute,
            "count_type": t.count_type,
            "count_before": self.count_before,
            "count_after": self.count_after,
            "backup_path": str(self.backup.path) if self.backup else None,
            "restored_from_backup": self.restored_from,
        }


def live_count(target: Target) -> int | None:
    """The live count by the one rule (counter.count_of), with migrate's own cases on top:
    - a missing table (before a first apply), like a missing item: None;
    - an item that holds only its key (the Lambda ADDs the count later) counts 0;
    - a value that is no count is refused (CountValueError): it could be neither backed up
      as a count nor checked after an apply."""
    try:
        item = counter.get_item(target)
    except TableMissingError:
        return None
    attribute = target.count_attribute
    count = counter.count_of(item, attribute)
    if count is not None or item is None:
        return count
    if attribute not in item:
        return 0
    raise counter.CountValueError(
        f"{attribute} holds {item[attribute]!r}: not a whole number (as a number N or a string S)."
    )


def counter_items(findings: Sequence[Finding], target: Target) -> list[CounterItem]:
    """The target's item first, then every other item of the findings that holds a count
    (one each, however many instances name it)."""
    items = [CounterItem("", target)]
    for f in findings:
        own = item_target(f, target)
        if own is None:
            continue
        same = next((i for i in items if _same_item(i.target, own)), None)
        if same is None:
            items.append(CounterItem(f.address, own, f.in_state))
        elif not same.address:  # the target's own item, as the stack names it
            same.address, same.in_state = f.address, f.in_state
    return items


def _same_item(a: Target, b: Target) -> bool:
    return a.table == b.table and a.key == b.key


def item_target(f: Finding, target: Target) -> Target | None:
    """The Target of a finding's item: its table and typed key, its count attribute (the
    target's name when the item holds it) and type; None when it holds no count."""
    item = f.recorded or f.item
    if not f.key or not f.table or not item:
        return None
    names = list(f.key)
    counts = stackmodel.count_attributes(item, set(names))
    if not counts:
        return None
    attribute = target.count_attribute if target.count_attribute in counts else counts[0]
    hash_name = f.hash_key if f.hash_key in f.key else names[0]
    range_name = next((n for n in names if n != hash_name), None)
    hash_type, hash_value = next(iter(f.key[hash_name].items()))
    fields: dict[str, Any] = {
        "table": f.table,
        "key_name": hash_name,
        "key_type": hash_type,
        "key_value": str(hash_value),
        "range_key_name": range_name,
        "range_key_value": None,
        "count_attribute": attribute,
        "count_type": stackmodel.scalar_type(item[attribute]) or "N",
    }
    if range_name:
        range_type, range_value = next(iter(f.key[range_name].items()))
        fields.update(range_key_type=range_type, range_key_value=str(range_value))
    return dataclasses.replace(target, **fields)


def require_live_items(
    items: Sequence[CounterItem], acting: Sequence[Finding], target: Target
) -> None:
    """The state says an item exists: if its count cannot be read, it cannot be backed up
    or checked, so nothing (no file, no state) is changed."""
    addresses = {f.address for f in acting if f.in_state}
    missing = [i for i in items if i.count_before is None and i.address in addresses]
    first = items[0]
    if (
        first.count_before is None
        and not first.address
        and any(f.table == target.table for f in acting if f.in_state)
    ):
        missing.insert(0, first)  # the stack's table, but not the target's key
    if missing:
        applied = ", ".join(i.address for i in missing if i.address) or ", ".join(
            f.address for f in acting if f.in_state
        )
        keys = "; ".join(f"{i.target.table} has no item {i.target.key_label}" for i in missing)
        raise StackMismatchError(
            f"The state holds {applied}, but {keys}: it cannot be backed up or checked, so "
            "nothing was changed.",
            hint="check the key and the region (02_status shows the table's key schema and "
            "items), then run 05_migrate again.",
        )


def restore_exact(item: CounterItem, dest_dir: Path) -> str:
    """The item as its backup holds it, put back exactly (type and every attribute), only
    while the live item is still what was just read; the live item is backed up first."""
    assert item.backup is not None
    t = item.target
    live = counter.get_item(t)
    if live is not None:
        itembackup.backup_item(
            t, item=live, dest_dir=dest_dir, reason=f"before restore from {item.backup.path}"
        )
    loaded = itemfile.load_item_file(item.backup.path, target=t)
    counter.put_counter_item(t, loaded.boto_item(), live)
    item.restored_from = str(item.backup.path)
    kind = stackmodel.scalar_type(loaded.item.get(t.count_attribute)) or "?"
    return (
        f"Put {t.table}'s item {t.key_label} back exactly as backed up ({t.count_attribute} "
        f"= {item.count_before}, type {kind}) from {item.backup.path.name}."
    )
