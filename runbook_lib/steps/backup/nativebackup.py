"""Native DynamoDB backups and the PITR setting, as runbook steps.

Names are checked here (moto accepts any backup name; DynamoDB does not), a client is
picked, and turning PITR on is a dry run unless confirmed. Backups are kept until deleted
(storage is billed); nothing here deletes anything. The AWS calls are in aws/backups.py.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from typing import Any

from runbook_lib.aws import backups
from runbook_lib.aws.backups import BackupInfo, PitrStatus
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target
from runbook_lib.steps.backup.export import dynamodb_client
from runbook_lib.steps.common.confirm import require_confirmation

# DynamoDB's rules for backup names: 3-255 characters of letters, digits, '_', '-', '.'.
BACKUP_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,255}$")
MAX_BACKUP_NAME = 255  # DynamoDB limit (characters)
BACKUP_SUFFIX_FMT = "-runbook-%Y%m%dT%H%M%SZ"
TABLE_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,255}$")  # DynamoDB limit


@dataclass(frozen=True)
class PitrChange:
    table: str
    dry_run: bool
    enabled_before: bool
    enabled_after: bool
    changed: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def table_name(table: str | Target) -> str:
    """The table's name, refused unless DynamoDB would take it."""
    name = table.table if isinstance(table, Target) else table
    if not isinstance(name, str) or not TABLE_NAME_RE.match(name):
        raise InvalidInputError(
            f"{name!r} is not a valid DynamoDB table name "
            "(3-255 characters of letters, digits, '_', '-', '.')."
        )
    return name


def backup_name(table: str, now: dt.datetime | None = None) -> str:
    """`<table>-runbook-YYYYmmddTHHMMSSZ`, the table part shortened to fit 255 characters."""
    suffix = backups.utc(now or backups.utc_now()).strftime(BACKUP_SUFFIX_FMT)
    return table[: MAX_BACKUP_NAME - len(suffix)] + suffix


def _checked_backup_name(name: str) -> str:
    if not isinstance(name, str) or not BACKUP_NAME_RE.match(name):
        raise InvalidInputError(
            f"Backup name {name!r} is not allowed: DynamoDB takes 3-255 characters of "
            "letters, digits, '_', '-', '.'."
        )
    return name


def create_backup(
    target_or_table: str | Target, *, name: str | None = None, ddb: DynamoDBClient | None = None
) -> BackupInfo:
    """A native backup of the whole table. Read-only on the data, so no confirmation."""
    table = table_name(target_or_table)
    name = _checked_backup_name(name) if name else backup_name(table)
    return backups.create_backup(dynamodb_client(target_or_table, ddb), table, name)


def list_backups(
    table: str | Target,
    *,
    ddb: DynamoDBClient | None = None,
    now: dt.datetime | None = None,
    page_size: int | None = None,
) -> list[BackupInfo]:
    """Every native backup of the table, newest first."""
    name = table_name(table)
    now = backups.utc(now or backups.utc_now())
    found = backups.list_backups(dynamodb_client(table, ddb), name, now=now, page_size=page_size)
    return sorted(found, key=lambda b: b.created, reverse=True)


def pitr_status(table: str | Target, *, ddb: DynamoDBClient | None = None) -> PitrStatus:
    name = table_name(table)
    return backups.pitr_status(dynamodb_client(table, ddb), name)


def enable_pitr(
    table: str | Target,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    ddb: DynamoDBClient | None = None,
) -> PitrChange:
    """Turn PITR on (terraform/dynamodb.tf declares it on, so this matches the code; it
    never turns it off). No-op when already enabled. confirm must equal the table name."""
    name = table_name(table)
    ddb = dynamodb_client(table, ddb)
    if backups.pitr_status(ddb, name).enabled:
        return PitrChange(name, dry_run, True, True, changed=False)
    if not require_confirmation(Target(table=name), dry_run, confirm):
        return PitrChange(name, dry_run, False, False, changed=False)
    backups.enable_pitr(ddb, name)
    return PitrChange(name, dry_run, False, backups.pitr_status(ddb, name).enabled, changed=True)
