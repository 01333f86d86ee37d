"""Restore a native backup or a point in time into a NEW table, as runbook steps.

DynamoDB cannot restore over an existing table, and this runbook never deletes or
recreates the Terraform-managed live table, so every restore here creates a new table:
refused for the live table, the backup's own table, or any table that exists. Getting the
count back is a second, separate step (steps/copyback.py). The restored table is NOT
managed by Terraform and costs storage until someone deletes it
(`aws dynamodb delete-table --table-name NAME`); nothing here deletes anything.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from runbook_lib.aws import backups
from runbook_lib.aws.types import BackupDescriptionTypeDef, DynamoDBClient
from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target
from runbook_lib.steps.backup.export import dynamodb_client
from runbook_lib.steps.backup.nativebackup import table_name
from runbook_lib.steps.common.confirm import require_confirmation

BACKUP_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:dynamodb:[a-z0-9\-]+:\d{12}:table/[^/]+/backup/\S+$")


@dataclass(frozen=True)
class NativeRestoreResult:
    source: str  # backup ARN, or "pitr:<table>@<time|latest>"
    source_table: str
    new_table: str
    dry_run: bool
    restored: bool
    status: str | None = None  # the new table's status (ACTIVE once restored)
    restore_time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_new_table(
    ddb: DynamoDBClient, new_table: str, *, live: str | None, source: str | None
) -> str:
    """The restore destination must be a valid name, neither the live table nor the
    backup's source table, and must not exist yet."""
    new_table = table_name(new_table) if new_table else ""
    if not new_table:
        raise InvalidInputError(
            "new_table_name is required: a restore always goes into a NEW table.",
            hint="pass e.g. new_table_name=<live table>-restored-<date>.",
        )
    for name, what in ((live, "the live table"), (source, "the table the backup was taken from")):
        if name and new_table == name:
            raise InvalidInputError(
                f"Refusing to restore into {new_table}: that is {what}. A restore only "
                "creates a NEW table; nothing was written.",
                hint="pick a new_table_name that does not exist, then copy the counter back "
                "(kind=copy_back).",
            )
    if backups.table_exists(ddb, new_table):
        raise InvalidInputError(
            f"Refusing to restore into {new_table}: the table already exists. A restore "
            "only creates a NEW table; nothing was written.",
            hint="pick a new_table_name that does not exist yet.",
        )
    return new_table


def _describe_backup(ddb: DynamoDBClient, backup_arn: str) -> BackupDescriptionTypeDef:
    if not isinstance(backup_arn, str) or not BACKUP_ARN_RE.match(backup_arn):
        raise InvalidInputError(
            f"{backup_arn!r} is not a DynamoDB backup ARN "
            "(arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/backup/ID).",
            hint="copy an ARN from 04_backup_restore action=list.",
        )
    return backups.describe_backup(ddb, backup_arn)


def restore_backup_to_new_table(
    backup_arn: str,
    new_table: str,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    live_table: str | None = None,
    ddb: DynamoDBClient | None = None,
) -> NativeRestoreResult:
    """RestoreTableFromBackup into a NEW table (refused for the backup's own table, the live
    table, or any existing table). confirm must equal new_table. Waits until ACTIVE."""
    ddb = dynamodb_client(new_table, ddb)
    desc = _describe_backup(ddb, backup_arn)
    source = desc.get("SourceTableDetails", {}).get("TableName", "")
    status = desc.get("BackupDetails", {}).get("BackupStatus")
    new_table = _check_new_table(ddb, new_table, live=live_table, source=source)
    if status != "AVAILABLE":
        raise InvalidInputError(
            f"Backup {backup_arn} is {status}, not AVAILABLE; nothing restored."
        )
    plan = NativeRestoreResult(
        source=backup_arn, source_table=source, new_table=new_table, dry_run=dry_run, restored=False
    )
    if not require_confirmation(Target(table=new_table), dry_run, confirm):
        return plan
    backups.restore_from_backup(ddb, backup_arn, new_table)
    return replace(plan, restored=True, status=backups.wait_active(ddb, new_table))


def _parse_restore_time(value: str | dt.datetime | None) -> dt.datetime | None:
    """None/"" -> None (latest restorable). ISO 8601 with a zone ("2024-05-01T12:00:00Z")."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"restore_time {value!r} is not an ISO 8601 time like 2024-05-01T12:00:00Z."
            ) from None
    else:
        raise InvalidInputError(f"restore_time must be an ISO 8601 string, got {value!r}.")
    if moment.tzinfo is None:
        raise InvalidInputError(
            f"restore_time {value!r} has no time zone; add Z for UTC (2024-05-01T12:00:00Z)."
        )
    return backups.utc(moment)


def _check_pitr_window(ddb: DynamoDBClient, table: str, moment: dt.datetime | None) -> None:
    """PITR must be on and the moment inside its window: moto restores anything, AWS not."""
    status = backups.pitr_status(ddb, table)
    if not status.enabled:
        raise InvalidInputError(
            f"Point-in-time recovery is off for {table}: there is nothing to restore from.",
            hint="restore from a native backup instead (action=list shows them); turn PITR on "
            "with terraform apply (point_in_time_recovery is declared in terraform/).",
        )
    if moment is not None and moment > backups.utc_now():
        raise InvalidInputError(f"restore_time {moment.isoformat()} is in the future.")
    if moment is not None and status.earliest and moment < status.earliest:
        raise InvalidInputError(
            f"restore_time {moment.isoformat()} is before the earliest restorable time "
            f"{status.earliest.isoformat()} of {table}."
        )


def restore_pitr_to_new_table(
    table: str | Target,
    new_table: str,
    *,
    restore_time: str | dt.datetime | None = None,
    dry_run: bool = True,
    confirm: str | None = None,
    ddb: DynamoDBClient | None = None,
) -> NativeRestoreResult:
    """RestoreTableToPointInTime into a NEW table; restore_time None = latest restorable.
    PITR must be on and the time inside its window. confirm must equal new_table."""
    name = table_name(table)
    ddb = dynamodb_client(table, ddb)
    moment = _parse_restore_time(restore_time)
    new_table = _check_new_table(ddb, new_table, live=name, source=None)
    _check_pitr_window(ddb, name, moment)
    when = moment.isoformat() if moment else "latest"
    plan = NativeRestoreResult(
        source=f"pitr:{name}@{when}",
        source_table=name,
        new_table=new_table,
        dry_run=dry_run,
        restored=False,
        restore_time=when,
    )
    if not require_confirmation(Target(table=new_table), dry_run, confirm):
        return plan
    backups.restore_to_point_in_time(ddb, name, new_table, moment)
    return replace(plan, restored=True, status=backups.wait_active(ddb, new_table))
