"""Native backups, PITR and copying the count back, against a real moto server over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from botocore.stub import Stubber

from runbook_lib import aws
from runbook_lib.aws import backups as aws_backups
from runbook_lib.aws import counter
from runbook_lib.errors import (
    ConfirmationError,
    CountConflictError,
    InvalidInputError,
    ItemMissingError,
    RunbookError,
    TableMissingError,
)
from runbook_lib.steps.backup import copyback, itembackup, nativebackup, nativerestore
from tests.conftest import make_table

UTC = dt.timezone.utc


def _new_name(target) -> str:
    return f"{target.table}-restored"


def _exists(ddb, table: str) -> bool:
    return table in ddb.list_tables()["TableNames"]


# ------------------------------------------------------------------ names


def test_backup_name_is_timestamped_and_valid():
    name = nativebackup.backup_name(
        "my.site-VisitorCount", dt.datetime(2024, 5, 1, 12, 0, 9, tzinfo=UTC)
    )
    assert name == "my.site-VisitorCount-runbook-20240501T120009Z"
    long = nativebackup.backup_name("t" * 255)
    assert len(long) == nativebackup.MAX_BACKUP_NAME and nativebackup.BACKUP_NAME_RE.match(long)


@pytest.mark.parametrize("name", ["ab", "bad name!", "x" * 256, "slash/no"])
def test_bad_backup_names_are_refused_before_aws(name, target, ddb):
    with pytest.raises(InvalidInputError, match="3-255 characters"):
        nativebackup.create_backup(target, name=name, ddb=ddb)
    assert nativebackup.list_backups(target, ddb=ddb) == []


# ------------------------------------------------------------------ create / list


def test_create_then_list_newest_first_across_pages(target, ddb):
    counter.init_counter(target, initial=3, ddb=ddb)
    first = nativebackup.create_backup(target, ddb=ddb)
    assert re.fullmatch(rf"{re.escape(target.table)}-runbook-\d{{8}}T\d{{6}}Z", first.name)
    for i in range(3):
        nativebackup.create_backup(target.table, name=f"manual-{i}", ddb=ddb)
    found = nativebackup.list_backups(target, ddb=ddb, page_size=2)
    assert len(found) == 4
    assert [b.created for b in found] == sorted((b.created for b in found), reverse=True)
    assert all(b.status == "AVAILABLE" and 0 <= b.age_hours < 1 for b in found)
    assert first.arn in {b.arn for b in found}


def test_backup_of_missing_table_says_what_to_do(ddb):
    with pytest.raises(TableMissingError, match="sandbox up"):
        nativebackup.create_backup("no-such-table", ddb=ddb)


# ------------------------------------------------------------------ restore from backup


def test_restore_backup_dry_run_then_confirmed_into_new_table(target, ddb):
    counter.init_counter(target, initial=42, ddb=ddb)
    arn = nativebackup.create_backup(target, ddb=ddb).arn
    new = _new_name(target)

    dry = nativerestore.restore_backup_to_new_table(arn, new, live_table=target.table, ddb=ddb)
    assert (dry.dry_run, dry.restored, dry.source_table) == (True, False, target.table)
    assert not _exists(ddb, new)

    with pytest.raises(ConfirmationError, match=f"confirm must equal the table name '{new}'"):
        nativerestore.restore_backup_to_new_table(
            arn, new, dry_run=False, confirm=target.table, ddb=ddb
        )
    assert not _exists(ddb, new)

    res = nativerestore.restore_backup_to_new_table(arn, new, dry_run=False, confirm=new, ddb=ddb)
    assert (res.restored, res.status) == (True, "ACTIVE")
    assert counter.read_count(target.__class__(table=new), ddb=ddb) == 42


def test_restore_backup_over_the_live_table_is_refused(target, ddb):
    counter.init_counter(target, initial=1, ddb=ddb)
    arn = nativebackup.create_backup(target, ddb=ddb).arn
    other_live = make_table(ddb)
    for new, what in (
        (target.table, "the table the backup was taken from"),
        (other_live, "the live table"),
    ):
        with pytest.raises(InvalidInputError, match=f"that is {what}"):
            nativerestore.restore_backup_to_new_table(
                arn, new, dry_run=False, confirm=new, live_table=other_live, ddb=ddb
            )
    assert counter.read_count(target, ddb=ddb) == 1


def test_restore_backup_into_an_existing_table_is_refused(target, ddb):
    counter.init_counter(target, initial=1, ddb=ddb)
    arn = nativebackup.create_backup(target, ddb=ddb).arn
    existing = make_table(ddb)
    with pytest.raises(InvalidInputError, match="already exists"):
        nativerestore.restore_backup_to_new_table(
            arn, existing, dry_run=False, confirm=existing, ddb=ddb
        )
    assert ddb.scan(TableName=existing)["Count"] == 0


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("not-an-arn", "is not a DynamoDB backup ARN"),
        ("arn:aws:dynamodb:us-east-1:123456789012:table/t-x/backup/0000-missing", "No such backup"),
    ],
)
def test_bad_backup_arn_is_a_clear_error(arn, message, ddb):
    with pytest.raises(InvalidInputError, match=message):
        nativerestore.restore_backup_to_new_table(
            arn, "fresh-table", dry_run=False, confirm="x", ddb=ddb
        )


def test_restore_that_never_becomes_active_stops_waiting():
    """Fault injection: a table stuck in CREATING (AWS restores can take hours)."""
    client = aws.client("dynamodb", aws.session("us-east-1"))
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response(
                "describe_table", {"Table": {"TableName": "slow-table", "TableStatus": "CREATING"}}
            )
        with pytest.raises(RunbookError, match="not ACTIVE after 0 s; the restore continues"):
            aws_backups.wait_active(client, "slow-table", delay_s=0, max_attempts=3)


# ------------------------------------------------------------------ PITR


def test_pitr_enable_is_confirmed_and_idempotent(target, ddb):
    assert nativebackup.pitr_status(target, ddb=ddb).enabled is False
    dry = nativebackup.enable_pitr(target, ddb=ddb)
    assert (dry.changed, nativebackup.pitr_status(target, ddb=ddb).enabled) == (False, False)
    with pytest.raises(ConfirmationError):
        nativebackup.enable_pitr(target, dry_run=False, confirm="nope", ddb=ddb)
    done = nativebackup.enable_pitr(target, dry_run=False, confirm=target.table, ddb=ddb)
    assert (done.changed, done.enabled_after) == (True, True)
    again = nativebackup.enable_pitr(target, dry_run=False, confirm=target.table, ddb=ddb)
    assert again.changed is False
    status = nativebackup.pitr_status(target, ddb=ddb)
    assert status.enabled and status.earliest is not None and status.recovery_period_days == 35


def test_pitr_restore_refused_while_pitr_is_off(target, ddb):
    counter.init_counter(target, initial=1, ddb=ddb)
    new = _new_name(target)
    with pytest.raises(InvalidInputError, match="Point-in-time recovery is off"):
        nativerestore.restore_pitr_to_new_table(target, new, dry_run=False, confirm=new, ddb=ddb)
    assert not _exists(ddb, new)


def test_pitr_restore_latest_into_new_table(target, ddb):
    counter.init_counter(target, initial=77, ddb=ddb)
    nativebackup.enable_pitr(target, dry_run=False, confirm=target.table, ddb=ddb)
    new = _new_name(target)
    dry = nativerestore.restore_pitr_to_new_table(target, new, ddb=ddb)
    assert (dry.restored, dry.restore_time) == (False, "latest") and not _exists(ddb, new)
    res = nativerestore.restore_pitr_to_new_table(target, new, dry_run=False, confirm=new, ddb=ddb)
    assert res.restored and res.status == "ACTIVE"
    assert counter.read_count(target.__class__(table=new), ddb=ddb) == 77


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2001-01-01T00:00:00Z", "before the earliest restorable time"),
        ("2999-01-01T00:00:00Z", "in the future"),
        ("2024-05-01T12:00:00", "no time zone"),
        ("yesterday", "not an ISO 8601 time"),
    ],
)
def test_pitr_restore_time_is_checked(target, ddb, when, message):
    nativebackup.enable_pitr(target, dry_run=False, confirm=target.table, ddb=ddb)
    new = _new_name(target)
    with pytest.raises(InvalidInputError, match=message):
        nativerestore.restore_pitr_to_new_table(
            target, new, restore_time=when, dry_run=False, confirm=new, ddb=ddb
        )
    assert not _exists(ddb, new)


def test_pitr_restore_onto_the_live_table_is_refused(target, ddb):
    nativebackup.enable_pitr(target, dry_run=False, confirm=target.table, ddb=ddb)
    with pytest.raises(InvalidInputError, match="that is the live table"):
        nativerestore.restore_pitr_to_new_table(
            target, target.table, dry_run=False, confirm=target.table, ddb=ddb
        )


# ------------------------------------------------------------------ copy back


@pytest.fixture
def restored(target, ddb):
    """A restored table holding count 50 (as if restored from a backup)."""
    counter.init_counter(target, initial=50, ddb=ddb)
    arn = nativebackup.create_backup(target, ddb=ddb).arn
    new = _new_name(target)
    nativerestore.restore_backup_to_new_table(arn, new, dry_run=False, confirm=new, ddb=ddb)
    return new


def test_copy_back_raises_a_reset_count_after_backing_up(target, ddb, restored, backups):
    counter.conditional_set(target, 0, allow_decrease=True, ddb=ddb)  # the terraform apply reset
    dry = copyback.copy_counter_back(restored, target, ddb=ddb)
    assert (dry.before, dry.after, dry.written) == (0, 50, False)
    assert counter.read_count(target, ddb=ddb) == 0
    with pytest.raises(ConfirmationError, match="confirm must equal the table name"):
        copyback.copy_counter_back(restored, target, dry_run=False, confirm=restored, ddb=ddb)
    res = copyback.copy_counter_back(restored, target, dry_run=False, confirm=target.table, ddb=ddb)
    assert res.written and counter.read_count(target, ddb=ddb) == 50
    assert json.loads(res.backup_path.read_text())["viewCount"] == {"N": "0"}


def test_copy_back_refuses_to_lower_unless_allowed(target, ddb, restored, backups):
    counter.increment(target, 10, ddb=ddb)  # live 60 > restored 50
    for dry_run in (True, False):
        with pytest.raises(InvalidInputError, match=r"Refusing to lower viewCount .* 60 .* to 50"):
            copyback.copy_counter_back(
                restored, target, dry_run=dry_run, confirm=target.table, ddb=ddb
            )
    assert counter.read_count(target, ddb=ddb) == 60 and not backups.exists()
    res = copyback.copy_counter_back(
        restored, target, dry_run=False, confirm=target.table, allow_decrease=True, ddb=ddb
    )
    assert (res.before, res.after, res.written) == (60, 50, True)
    assert counter.read_count(target, ddb=ddb) == 50


def test_copy_back_loses_no_visit_counted_meanwhile(target, ddb, restored, backups):
    """A visit between our read and our write makes the conditional write fail loudly."""
    counter.conditional_set(target, 5, allow_decrease=True, ddb=ddb)

    def backup_then_visit(*args, **kwargs):
        out = itembackup.backup_item(*args, **kwargs)
        counter.increment(target, ddb=ddb)
        return out

    with pytest.raises(CountConflictError, match="The count moved"):
        copyback.copy_counter_back(
            restored,
            target,
            dry_run=False,
            confirm=target.table,
            ddb=ddb,
            backup_item=backup_then_visit,
        )
    assert counter.read_count(target, ddb=ddb) == 6


def test_copy_back_creates_a_deleted_counter_item(target, ddb, restored, backups):
    ddb.delete_item(TableName=target.table, Key=target.key)
    res = copyback.copy_counter_back(restored, target, dry_run=False, confirm=target.table, ddb=ddb)
    assert (res.before, res.written) == (None, True)
    assert counter.read_count(target, ddb=ddb) == 50


def test_copy_back_needs_a_different_source_with_the_item(target, ddb, restored):
    with pytest.raises(InvalidInputError, match="not the live table"):
        copyback.copy_counter_back(target.table, target, ddb=ddb)
    empty = make_table(ddb)
    with pytest.raises(ItemMissingError, match=f"restored table {empty} has no counter item"):
        copyback.copy_counter_back(empty, target, ddb=ddb)
    with pytest.raises(TableMissingError, match="does not exist"):
        copyback.copy_counter_back("never-restored", target, ddb=ddb)
