"""Native DynamoDB backups and point-in-time recovery (PITR): the AWS calls, nothing else.

The decisions around them (which names are allowed, which table a restore may create, the
confirmation, copying the count back) are runbook steps: steps/nativebackup.py,
steps/nativerestore.py and steps/copyback.py. Both kinds of restore go only into a NEW
table; nothing here deletes or recreates a table.

What moto 5.2 (the sandbox) does, checked against a moto server:
- CreateBackup, ListBackups (paginated with ExclusiveStartBackupArn/LastEvaluatedBackupArn),
  DescribeBackup, RestoreTableFromBackup, DescribeContinuousBackups,
  UpdateContinuousBackups and RestoreTableToPointInTime are all implemented.
- It does NOT validate backup names (it accepts "bad name!"), so the steps check them.
- RestoreTableToPointInTime works even when PITR is disabled and for any RestoreDateTime,
  even years before the table existed; it restores the table's CURRENT items. So the steps
  check the PITR window (DescribeContinuousBackups), and sandbox tests cannot prove a
  restore to an earlier moment.
- Restored tables are ACTIVE at once (AWS takes minutes to hours); the waiter still runs.
- Restoring onto an existing name fails with TableAlreadyExistsException, an unknown ARN
  with BackupNotFoundException (aws/errors.py maps both); the steps check both first anyway.
- EarliestRestorableDateTime/LatestRestorableDateTime both stay at the moment PITR was
  enabled (AWS moves the latest to about five minutes ago).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import WaiterError

from runbook_lib.aws import tables
from runbook_lib.aws.errors import mapped
from runbook_lib.aws.types import (
    BackupDescriptionTypeDef,
    DynamoDBClient,
    PaginatorConfigTypeDef,
    RestoreTableToPointInTimeInputTypeDef,
)
from runbook_lib.errors import RunbookError, TableMissingError

WAIT_DELAY_S = 10  # between DescribeTable polls while a restored table is CREATING
WAIT_MAX_ATTEMPTS = 180  # 180 x 10 s = 30 min, then give up waiting (AWS keeps restoring)


@dataclass(frozen=True)
class BackupInfo:
    name: str
    arn: str
    table: str
    created: dt.datetime  # UTC
    status: str  # CREATING | AVAILABLE | DELETED
    type: str  # USER | SYSTEM | AWS_BACKUP
    size_bytes: int | None
    age_hours: float  # at the time of listing

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created"] = self.created.isoformat()
        return data


@dataclass(frozen=True)
class PitrStatus:
    table: str
    enabled: bool
    earliest: dt.datetime | None = None
    latest: dt.datetime | None = None
    recovery_period_days: int | None = None
    status: str | None = None  # DescribeContinuousBackups' own word: ENABLED, DISABLED, ...

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for k in ("earliest", "latest"):
            data[k] = data[k].isoformat() if data[k] else None
        return data


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _info(summary: Mapping[str, Any], now: dt.datetime) -> BackupInfo:
    created = utc(summary["BackupCreationDateTime"])
    return BackupInfo(
        name=summary["BackupName"],
        arn=summary["BackupArn"],
        table=summary.get("TableName", ""),
        created=created,
        status=summary.get("BackupStatus", ""),
        type=summary.get("BackupType", ""),
        size_bytes=summary.get("BackupSizeBytes"),
        age_hours=round((now - created).total_seconds() / 3600, 2),
    )


# --------------------------------------------------------------------------- backups


def create_backup(ddb: DynamoDBClient, table: str, name: str) -> BackupInfo:
    """CreateBackup of the whole table (on-demand, full)."""
    with mapped("CreateBackup", table=table):
        details = ddb.create_backup(TableName=table, BackupName=name)["BackupDetails"]
    return _info({**details, "TableName": table}, utc_now())


def list_backups(
    ddb: DynamoDBClient, table: str, *, now: dt.datetime, page_size: int | None = None
) -> list[BackupInfo]:
    """Every native backup of the table, all pages of ListBackups (boto3's paginator)."""
    config: PaginatorConfigTypeDef = {"PageSize": page_size} if page_size else {}
    with mapped("ListBackups", table=table):
        pages = ddb.get_paginator("list_backups").paginate(TableName=table, PaginationConfig=config)
        return [_info(s, now) for page in pages for s in page.get("BackupSummaries", [])]


def describe_backup(ddb: DynamoDBClient, backup_arn: str) -> BackupDescriptionTypeDef:
    with mapped("DescribeBackup"):
        return ddb.describe_backup(BackupArn=backup_arn)["BackupDescription"]


def restore_from_backup(ddb: DynamoDBClient, backup_arn: str, new_table: str) -> None:
    with mapped("RestoreTableFromBackup", table=new_table):
        ddb.restore_table_from_backup(TargetTableName=new_table, BackupArn=backup_arn)


# --------------------------------------------------------------------------- PITR


def pitr_status(ddb: DynamoDBClient, table: str) -> PitrStatus:
    with mapped("DescribeContinuousBackups", table=table):
        resp = ddb.describe_continuous_backups(TableName=table)
    pitr = resp.get("ContinuousBackupsDescription", {}).get("PointInTimeRecoveryDescription", {})
    earliest = pitr.get("EarliestRestorableDateTime")
    latest = pitr.get("LatestRestorableDateTime")
    return PitrStatus(
        table=table,
        enabled=pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
        earliest=utc(earliest) if earliest else None,
        latest=utc(latest) if latest else None,
        recovery_period_days=pitr.get("RecoveryPeriodInDays"),
        status=pitr.get("PointInTimeRecoveryStatus"),
    )


def enable_pitr(ddb: DynamoDBClient, table: str) -> None:
    """UpdateContinuousBackups: PITR on (this runbook never turns it off)."""
    with mapped("UpdateContinuousBackups", table=table):
        ddb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def restore_to_point_in_time(
    ddb: DynamoDBClient, table: str, new_table: str, moment: dt.datetime | None
) -> None:
    """RestoreTableToPointInTime into new_table; moment None = the latest restorable time."""
    req: RestoreTableToPointInTimeInputTypeDef = {
        "SourceTableName": table,
        "TargetTableName": new_table,
    }
    if moment is None:
        req["UseLatestRestorableTime"] = True
    else:
        req["RestoreDateTime"] = moment
    with mapped("RestoreTableToPointInTime", table=new_table):
        ddb.restore_table_to_point_in_time(**req)


# --------------------------------------------------------------------------- tables


def table_exists(ddb: DynamoDBClient, table: str) -> bool:
    try:
        tables.describe_table(ddb, table)
    except TableMissingError:
        return False
    return True


def wait_active(
    ddb: DynamoDBClient,
    table: str,
    *,
    delay_s: int = WAIT_DELAY_S,
    max_attempts: int = WAIT_MAX_ATTEMPTS,
) -> str:
    """Wait (bounded) until the table is ACTIVE; returns its status."""
    try:
        with mapped("DescribeTable", table=table):
            ddb.get_waiter("table_exists").wait(
                TableName=table, WaiterConfig={"Delay": delay_s, "MaxAttempts": max_attempts}
            )
    except WaiterError as exc:
        raise RunbookError(
            f"{table} is not ACTIVE after {delay_s * max_attempts} s; the restore continues "
            "in AWS.",
            hint=f"check `aws dynamodb describe-table --table-name {table}` until ACTIVE, "
            "then copy the counter back (kind=copy_back).",
        ) from exc
    return "ACTIVE"
