"""A table restore's plan: everything checked, and refused if need be, before any write.

The export file is verified first (nothing is read from or written to AWS before), then the
destination's key schema, then whose data it is, then the counter item: when the export
holds it, the live count is read and a restore that would lower it is refused unless
allow_decrease. steps/tablerestore.py carries the plan out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib.aws import counter
from runbook_lib.aws.tables import describe_keys
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.errors import BackupFileError, TableSchemaError
from runbook_lib.formats import countshape
from runbook_lib.formats.dynamojson import key_text
from runbook_lib.formats.exportfile import Manifest
from runbook_lib.formats.exportread import verify_and_find
from runbook_lib.model import Target
from runbook_lib.steps.backup.export import as_target, dynamodb_client
from runbook_lib.steps.common.confirm import refuse_decrease, require_flag


@dataclass(frozen=True)
class RestorePlan:
    """What a restore will write, worked out (and refused if need be) before any write."""

    target: Target
    manifest: Manifest
    data_path: Path
    ddb: DynamoDBClient
    counter_item: dict[str, Any] | None  # the export's counter item, when it holds one
    live_item: dict[str, Any] | None
    before: int | None
    after: int | None

    @property
    def counter_key(self) -> str | None:
        return key_text(self.target.key) if self.counter_item is not None else None


def plan_restore(
    path: str | Path,
    table: str | Target,
    *,
    allow_decrease: bool,
    allow_other_table: bool,
    ddb: DynamoDBClient | None,
) -> RestorePlan:
    """Check the file, the destination and the counter item; refuse before any write."""
    target = as_target(table)
    # FIRST: nothing is read from or written to AWS before the file is checked
    manifest, exported_counter = verify_and_find(path, find=target.key)
    data_path = manifest.path or Path(path)
    ddb = dynamodb_client(target, ddb)
    _check_schema(ddb, target.table, manifest)
    _check_source_table(manifest, target, allow_other_table)
    counter_item, live_item, before, after = _counter_plan(
        target, manifest, exported_counter, data_path, ddb, allow_decrease
    )
    return RestorePlan(target, manifest, data_path, ddb, counter_item, live_item, before, after)


def _check_schema(ddb: DynamoDBClient, table: str, manifest: Manifest) -> None:
    schema, types = describe_keys(ddb, table)

    def show(s: list[dict[str, str]], t: dict[str, str]) -> str:
        return ", ".join(
            f"{k['AttributeName']} {k['KeyType']} {t.get(k['AttributeName'], '?')}" for k in s
        )

    if schema != manifest.key_schema or types != manifest.key_types:
        raise TableSchemaError(
            f"Table {table} has key schema [{show(schema, types)}] but the export of "
            f"{manifest.table} has [{show(manifest.key_schema, manifest.key_types)}]. "
            "Nothing was written.",
            hint="restore into a table with the same key schema; this runbook never recreates "
            "a table (Terraform owns it).",
        )


def _check_source_table(manifest: Manifest, target: Target, allow_other_table: bool) -> None:
    """The same rule as an item restore: another table's data only on purpose."""
    require_flag("allow_other_table", allow_other_table)
    if manifest.table != target.table and not allow_other_table:
        raise BackupFileError(
            f"This is an export of table {manifest.table!r}, not {target.table!r}. "
            "Nothing was written.",
            hint=f"pick an export taken from table {target.table}, or pass "
            "allow_other_table=True to copy this one in on purpose.",
        )


def _counter_plan(
    target: Target,
    manifest: Manifest,
    exported: dict[str, Any] | None,
    path: Path,
    ddb: DynamoDBClient,
    allow_decrease: bool,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, int | None, int | None]:
    """(export's counter item, live item, live count, exported count) when the export holds
    the counter item; refuses a decrease unless allowed."""
    if exported is None or manifest.key_names != target.key_names:
        return None, None, None, None
    live_item = counter.get_item(target, ddb=ddb)
    # the export's counter item is written as exported: never over a count of another type
    countshape.restore_type(target, live_item, exported, f"The export {path.name}")
    new = counter.count_of(exported, target.count_attribute)
    old = counter.count_of(live_item, target.count_attribute)
    if old is not None and new is not None:
        refuse_decrease(target, old, new, f"export {path.name}", allow_decrease=allow_decrease)
    return exported, live_item, old, new
