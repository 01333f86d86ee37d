"""Native DynamoDB backups and point-in-time recovery (PITR).

Both restore only into a NEW table: DynamoDB cannot restore over an existing table, and
this runbook never deletes or recreates the Terraform-managed live table. Getting the
count back is then a second, separate step, `copy_counter_back`: read the counter in the
restored table and write it into the live item through the same safe path as every other
write (live item backed up first, no lowering unless allowed, one conditional UpdateItem).

The restored table is NOT managed by Terraform and costs storage until someone deletes it
(`aws dynamodb delete-table --table-name NAME`); this module never deletes anything.

What moto 5.2 (the sandbox) does, checked against a moto server:
- CreateBackup, ListBackups (paginated with ExclusiveStartBackupArn/LastEvaluatedBackupArn),
  DescribeBackup, RestoreTableFromBackup, DescribeContinuousBackups,
  UpdateContinuousBackups and RestoreTableToPointInTime are all implemented.
- It does NOT validate backup names (it accepts "bad name!"), so names are checked here.
- RestoreTableToPointInTime works even when PITR is disabled and for any RestoreDateTime,
  even years before the table existed; it restores the table's CURRENT items. So the PITR
  window is checked here (DescribeContinuousBackups), and sandbox tests cannot prove a
  restore to an earlier moment.
- Restored tables are ACTIVE at once (AWS takes minutes to hours); the waiter still runs.
- Restoring onto an existing name fails with TableAlreadyExistsException, an unknown ARN
  with BackupNotFoundException; both are checked before the call here anyway.
- EarliestRestorableDateTime/LatestRestorableDateTime both stay at the moment PITR was
  enabled (AWS moves the latest to about five minutes ago).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from runbook_lib.aws import counter
from runbook_lib.aws.errors import from_client_error
from runbook_lib.errors import (
    CountConflictError,
    InvalidInputError,
    ItemMissingError,
    RunbookError,
    TableMissingError,
)
from runbook_lib.formats import itemfile
from runbook_lib.target.model import Target

# DynamoDB's rules for backup names: 3-255 characters of letters, digits, '_', '-', '.'.
BACKUP_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,255}$")
MAX_BACKUP_NAME = 255  # DynamoDB limit (characters)
BACKUP_SUFFIX_FMT = "-runbook-%Y%m%dT%H%M%SZ"
BACKUP_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:dynamodb:[a-z0-9\-]+:\d{12}:table/[^/]+/backup/\S+$")
TABLE_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,255}$")  # DynamoDB limit
WAIT_DELAY_S = 10  # between DescribeTable polls while a restored table is CREATING
WAIT_MAX_ATTEMPTS = 180  # 180 x 10 s = 30 min, then give up waiting (AWS keeps restoring)
PITR_RECOVERY_DAYS = 35  # DynamoDB's default PITR window


# --------------------------------------------------------------------------- data


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for k in ("earliest", "latest"):
            data[k] = data[k].isoformat() if data[k] else None
        return data


@dataclass(frozen=True)
class PitrChange:
    table: str
    dry_run: bool
    enabled_before: bool
    enabled_after: bool
    changed: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


# --------------------------------------------------------------------------- helpers


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc)


def _name(table: str | Target) -> str:
    name = table.table if isinstance(table, Target) else table
    if not isinstance(name, str) or not TABLE_NAME_RE.match(name):
        raise InvalidInputError(
            f"{name!r} is not a valid DynamoDB table name "
            "(3-255 characters of letters, digits, '_', '-', '.')."
        )
    return name


def _client(table: str | Target | None, ddb: Any) -> Any:
    if ddb is not None:
        return ddb
    return counter.dynamodb(table if isinstance(table, Target) else None)


def _fail(exc: Exception, *, table: str | None, action: str) -> Exception:
    """ClientError codes specific to backups, then the shared mapping."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        msg = exc.response.get("Error", {}).get("Message", "")
        if code == "BackupNotFoundException":
            return InvalidInputError(
                f"No such backup during {action}: {msg}",
                hint="list the backups (04_backup_restore action=list) and copy an ARN from there.",
            )
        if code in ("TableAlreadyExistsException", "TableInUseException"):
            return InvalidInputError(
                f"Table {table} already exists ({code}); nothing was restored.",
                hint="pick a new_table_name that does not exist yet.",
            )
        if code in ("PointInTimeRecoveryUnavailableException", "InvalidRestoreTimeException"):
            return InvalidInputError(f"{action} refused by DynamoDB ({code}): {msg}")
        if code in ("BackupInUseException", "LimitExceededException"):
            return RunbookError(
                f"{action} refused by DynamoDB ({code}): {msg}",
                hint="another backup or restore is running; wait a few minutes and run again.",
            )
    return from_client_error(exc, table=table, action=action)


def backup_name(table: str, now: dt.datetime | None = None) -> str:
    """`<table>-runbook-YYYYmmddTHHMMSSZ`, the table part shortened to fit 255 characters."""
    suffix = _utc(now or _utc_now()).strftime(BACKUP_SUFFIX_FMT)
    return table[: MAX_BACKUP_NAME - len(suffix)] + suffix


def validate_backup_name(name: str) -> str:
    if not isinstance(name, str) or not BACKUP_NAME_RE.match(name):
        raise InvalidInputError(
            f"Backup name {name!r} is not allowed: DynamoDB takes 3-255 characters of "
            "letters, digits, '_', '-', '.'."
        )
    return name


def _table_exists(ddb: Any, table: str) -> bool:
    try:
        ddb.describe_table(TableName=table)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise _fail(exc, table=table, action="DescribeTable") from exc
    except Exception as exc:
        raise _fail(exc, table=table, action="DescribeTable") from exc
    return True


def _check_new_table(ddb: Any, new_table: str, *, live: str | None, source: str | None) -> str:
    """The restore destination must be a valid name, neither the live table nor the
    backup's source table, and must not exist yet."""
    new_table = _name(new_table) if new_table else ""
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
    if _table_exists(ddb, new_table):
        raise InvalidInputError(
            f"Refusing to restore into {new_table}: the table already exists. A restore "
            "only creates a NEW table; nothing was written.",
            hint="pick a new_table_name that does not exist yet.",
        )
    return new_table


def wait_active(
    ddb: Any, table: str, *, delay_s: int = WAIT_DELAY_S, max_attempts: int = WAIT_MAX_ATTEMPTS
) -> str:
    """Wait (bounded) until the table is ACTIVE; returns its status."""
    try:
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


# --------------------------------------------------------------------------- backups


def _info(summary: dict[str, Any], now: dt.datetime) -> BackupInfo:
    created = _utc(summary["BackupCreationDateTime"])
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


def create_backup(
    target_or_table: str | Target, *, name: str | None = None, ddb: Any = None
) -> BackupInfo:
    """CreateBackup of the whole table (on-demand, full). Read-only on the data, so no
    confirmation; backups are kept until deleted (storage is billed)."""
    table = _name(target_or_table)
    name = validate_backup_name(name) if name else backup_name(table)
    ddb = _client(target_or_table, ddb)
    try:
        resp = ddb.create_backup(TableName=table, BackupName=name)
    except Exception as exc:
        raise _fail(exc, table=table, action="CreateBackup") from exc
    details = resp["BackupDetails"]
    return _info({**details, "TableName": table}, _utc_now())


def list_backups(
    table: str | Target,
    *,
    ddb: Any = None,
    now: dt.datetime | None = None,
    page_size: int | None = None,
) -> list[BackupInfo]:
    """Every native backup of the table (all pages of ListBackups), newest first."""
    name = _name(table)
    ddb = _client(table, ddb)
    now = _utc(now or _utc_now())
    found: list[BackupInfo] = []
    kwargs: dict[str, Any] = {"TableName": name}
    if page_size:
        kwargs["Limit"] = page_size
    while True:
        try:
            resp = ddb.list_backups(**kwargs)
        except Exception as exc:
            raise _fail(exc, table=name, action="ListBackups") from exc
        found.extend(_info(s, now) for s in resp.get("BackupSummaries", []))
        last = resp.get("LastEvaluatedBackupArn")
        if not last:
            break
        kwargs["ExclusiveStartBackupArn"] = last
    return sorted(found, key=lambda b: b.created, reverse=True)


def backups_frame(backups: list[BackupInfo]) -> Any:
    """A pandas DataFrame of backups (newest first) for the notebook."""
    import pandas as pd

    columns = ["name", "created", "age_hours", "status", "type", "size_bytes", "arn"]
    return pd.DataFrame([b.to_dict() for b in backups], columns=columns)


def describe_backup(backup_arn: str, *, ddb: Any = None) -> dict[str, Any]:
    if not isinstance(backup_arn, str) or not BACKUP_ARN_RE.match(backup_arn):
        raise InvalidInputError(
            f"{backup_arn!r} is not a DynamoDB backup ARN "
            "(arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/backup/ID).",
            hint="copy an ARN from 04_backup_restore action=list.",
        )
    ddb = _client(None, ddb)
    try:
        return ddb.describe_backup(BackupArn=backup_arn)["BackupDescription"]
    except Exception as exc:
        raise _fail(exc, table=None, action="DescribeBackup") from exc


def restore_backup_to_new_table(
    backup_arn: str,
    new_table: str,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    live_table: str | None = None,
    ddb: Any = None,
    wait_attempts: int = WAIT_MAX_ATTEMPTS,
) -> NativeRestoreResult:
    """RestoreTableFromBackup into a NEW table (refused for the backup's own table, the live
    table, or any existing table). confirm must equal new_table. Waits until ACTIVE."""
    ddb = _client(None, ddb)
    desc = describe_backup(backup_arn, ddb=ddb)
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
    if not counter.require_confirmation(Target(table=new_table), dry_run, confirm):
        return plan
    try:
        ddb.restore_table_from_backup(TargetTableName=new_table, BackupArn=backup_arn)
    except Exception as exc:
        raise _fail(exc, table=new_table, action="RestoreTableFromBackup") from exc
    state = wait_active(ddb, new_table, max_attempts=wait_attempts)
    return replace(plan, restored=True, status=state)


# --------------------------------------------------------------------------- PITR


def pitr_status(table: str | Target, *, ddb: Any = None) -> PitrStatus:
    name = _name(table)
    ddb = _client(table, ddb)
    try:
        resp = ddb.describe_continuous_backups(TableName=name)
    except Exception as exc:
        raise _fail(exc, table=name, action="DescribeContinuousBackups") from exc
    pitr = resp.get("ContinuousBackupsDescription", {}).get("PointInTimeRecoveryDescription", {})
    earliest = pitr.get("EarliestRestorableDateTime")
    latest = pitr.get("LatestRestorableDateTime")
    return PitrStatus(
        table=name,
        enabled=pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
        earliest=_utc(earliest) if earliest else None,
        latest=_utc(latest) if latest else None,
        recovery_period_days=pitr.get("RecoveryPeriodInDays"),
    )


def enable_pitr(
    table: str | Target, *, dry_run: bool = True, confirm: str | None = None, ddb: Any = None
) -> PitrChange:
    """Turn PITR on (terraform/dynamodb.tf declares it on, so this matches the code; it
    never turns it off). No-op when already enabled. confirm must equal the table name."""
    name = _name(table)
    ddb = _client(table, ddb)
    before = pitr_status(name, ddb=ddb).enabled
    if before:
        return PitrChange(name, dry_run, True, True, changed=False)
    if not counter.require_confirmation(Target(table=name), dry_run, confirm):
        return PitrChange(name, dry_run, False, False, changed=False)
    try:
        ddb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    except Exception as exc:
        raise _fail(exc, table=name, action="UpdateContinuousBackups") from exc
    return PitrChange(name, dry_run, False, pitr_status(name, ddb=ddb).enabled, changed=True)


def parse_restore_time(value: str | dt.datetime | None) -> dt.datetime | None:
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
    return _utc(moment)


def restore_pitr_to_new_table(
    table: str | Target,
    new_table: str,
    *,
    restore_time: str | dt.datetime | None = None,
    dry_run: bool = True,
    confirm: str | None = None,
    ddb: Any = None,
    wait_attempts: int = WAIT_MAX_ATTEMPTS,
) -> NativeRestoreResult:
    """RestoreTableToPointInTime into a NEW table; restore_time None = latest restorable.
    PITR must be on and the time inside its window. confirm must equal new_table."""
    name = _name(table)
    ddb = _client(table, ddb)
    moment = parse_restore_time(restore_time)
    new_table = _check_new_table(ddb, new_table, live=name, source=None)
    status = pitr_status(name, ddb=ddb)
    if not status.enabled:
        raise InvalidInputError(
            f"Point-in-time recovery is off for {name}: there is nothing to restore from.",
            hint="restore from a native backup instead (action=list shows them); turn PITR on "
            "with terraform apply (point_in_time_recovery is declared in terraform/).",
        )
    now = _utc_now()
    if moment is not None and moment > now:
        raise InvalidInputError(f"restore_time {moment.isoformat()} is in the future.")
    if moment is not None and status.earliest and moment < status.earliest:
        raise InvalidInputError(
            f"restore_time {moment.isoformat()} is before the earliest restorable time "
            f"{status.earliest.isoformat()} of {name}."
        )
    when = moment.isoformat() if moment else "latest"
    plan = NativeRestoreResult(
        source=f"pitr:{name}@{when}",
        source_table=name,
        new_table=new_table,
        dry_run=dry_run,
        restored=False,
        restore_time=when,
    )
    if not counter.require_confirmation(Target(table=new_table), dry_run, confirm):
        return plan
    req: dict[str, Any] = {"SourceTableName": name, "TargetTableName": new_table}
    if moment is None:
        req["UseLatestRestorableTime"] = True
    else:
        req["RestoreDateTime"] = moment
    try:
        ddb.restore_table_to_point_in_time(**req)
    except Exception as exc:
        raise _fail(exc, table=new_table, action="RestoreTableToPointInTime") from exc
    state = wait_active(ddb, new_table, max_attempts=wait_attempts)
    return replace(plan, restored=True, status=state)


# --------------------------------------------------------------------------- copy back


def copy_counter_back(
    source_table: str,
    target: Target,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    allow_decrease: bool = False,
    reason: str = "",
    ddb: Any = None,
) -> CopyBackResult:
    """Put the count found in a restored table back into the live counter item.

    Reads the counter (same key and attribute) from `source_table`, compares it with the
    live count, refuses to lower it unless allow_decrease, needs confirm == live table name,
    backs up the live item (itemfile.backup_item), then ONE conditional UpdateItem
    (counter.conditional_set with expected_current=live): a visit counted in between makes
    it fail with CountConflictError instead of being lost. A missing live item is created
    with counter.init_counter (conditional: only if still missing).
    """
    counter.require_flag("allow_decrease", allow_decrease)
    source_table = _name(source_table)
    if source_table == target.table:
        raise InvalidInputError(
            f"source_table must be the restored table, not the live table {target.table}."
        )
    ddb = _client(target, ddb)
    source = replace(target, table=source_table)
    try:
        restored = counter.read_count(source, ddb=ddb)
    except ItemMissingError as exc:
        raise ItemMissingError(
            f"The restored table {source_table} has no counter item "
            f"{target.key_label}; nothing to copy back.",
            hint="check the restore time or backup: the item did not exist then.",
        ) from exc
    except TableMissingError as exc:
        raise TableMissingError(
            f"The restored table {source_table} does not exist.",
            hint="restore it first (kind=native or kind=pitr with new_table_name).",
        ) from exc
    live_item = counter.get_item(target, ddb=ddb)
    live = counter.parse_count(live_item, target.count_attribute) if live_item else None
    if live is not None:
        counter.refuse_decrease(
            target, live, restored, f"restored table {source_table}", allow_decrease=allow_decrease
        )
    plan = CopyBackResult(source_table, target.table, live, restored, dry_run, written=False)
    if live == restored or not counter.require_confirmation(target, dry_run, confirm):
        return plan
    if live is None:
        created = counter.init_counter(target, initial=restored, ddb=ddb)
        if not created.created:
            raise CountConflictError(
                f"The live counter item appeared meanwhile (value {created.value}); "
                "nothing was written.",
            )
        return replace(plan, written=True)
    why = reason or f"before copying the count back from {source_table}"
    backup = itemfile.backup_item(target, ddb=ddb, reason=why)
    counter.conditional_set(target, restored, expected_current=live, ddb=ddb)
    return replace(plan, written=True, backup_path=backup.path)
