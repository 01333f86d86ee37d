"""Item backup files: written by the runbook, read back, restored, and taken by the AWS CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook_lib.aws import counter
from runbook_lib.aws.writetoken import WRITE_TOKEN
from runbook_lib.errors import (
    BackupFileError,
    ConfirmationError,
    InvalidInputError,
    ItemMissingError,
)
from runbook_lib.formats import atomic, itemfile
from runbook_lib.model import Target
from runbook_lib.steps.backup import itembackup
from tests.conftest import files_under

AWS_CLI = Path(sys.executable).parent / "aws"


def aws_cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The real AWS CLI v1, reaching moto through AWS_ENDPOINT_URL (which it honours)."""
    env = {**os.environ, "AWS_CONFIG_FILE": str(tmp_path / "no-config")}
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-credentials")
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1"), "never real AWS"
    return subprocess.run(
        [str(AWS_CLI), *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


def write(path: Path, data: object) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def without_token(live: dict) -> dict:
    """The item without the write token its last conditional write stamped (which must be
    there: it is how a lost answer is recognised)."""
    rest = dict(live)
    assert rest.pop(WRITE_TOKEN)["S"]
    return rest


def item(target: Target, count: str = "5") -> dict:
    return {**target.key, target.count_attribute: {"N": count}}


# ---- backup_item -------------------------------------------------------------------------


def test_backup_writes_the_item_as_wire_json_and_a_sidecar(target, ddb, backups):
    counter.init_counter(target, initial=5, ddb=ddb)

    backup = itembackup.backup_item(target, ddb=ddb, reason="before a test")

    assert backup.path.parent == backups / target.table
    assert backup.path.name.endswith("-Quantity.json")
    assert without_token(json.loads(backup.path.read_text())) == {
        "stat": {"S": "Quantity"},
        "viewCount": {"N": "5"},
    }, "the live item exactly (with the init's write token)"
    meta = json.loads(backup.meta_path.read_text())
    assert backup.meta_path.name == backup.path.name.replace(".json", ".meta.json")
    assert meta["table"] == target.table
    assert meta["key"] == {"stat": "Quantity"}
    assert meta["count"] == 5
    assert meta["target"] == target.endpoint
    assert meta["region"] == target.region
    assert meta["sha256"] == itemfile.sha256_bytes(backup.path.read_bytes())
    assert meta["reason"] == "before a test"
    assert meta["tool_version"] and meta["taken_at"].endswith("+00:00")
    assert not [p for p in files_under(backups) if p.name.endswith(atomic.TEMP_SUFFIX)]


def test_two_backups_in_the_same_second_do_not_overwrite(target, ddb, backups):
    counter.init_counter(target, initial=1, ddb=ddb)
    first = itembackup.backup_item(target, ddb=ddb)
    counter.increment(target, ddb=ddb)
    second = itembackup.backup_item(target, ddb=ddb)
    assert first.path != second.path
    assert (first.count, second.count) == (1, 2)
    assert itembackup.load_backup(first.path, target=target).count == 1


def test_backup_of_a_missing_item_writes_nothing(target, ddb, backups):
    with pytest.raises(ItemMissingError, match="Nothing to back up"):
        itembackup.backup_item(target, ddb=ddb)
    assert files_under(backups) == []


def test_backup_keeps_a_corrupt_count_as_it_is(target, ddb, backups):
    ddb.put_item(TableName=target.table, Item={**target.key, "viewCount": {"S": "many"}})
    backup = itembackup.backup_item(target, ddb=ddb)
    assert backup.count is None
    assert json.loads(backup.path.read_text())["viewCount"] == {"S": "many"}


def test_every_attribute_type_round_trips(target, ddb, backups):
    full = {
        **item(target, "7"),
        "bin": {"B": b"\x00\xffcounter"},
        "tags": {"SS": ["a", "b"]},
        "nums": {"NS": ["1", "2.5"]},
        "bins": {"BS": [b"x", b"y"]},
        "list": {"L": [{"S": "one"}, {"N": "2"}, {"NULL": True}]},
        "map": {"M": {"ok": {"BOOL": True}, "deep": {"M": {"n": {"N": "-1E-3"}}}}},
    }
    ddb.put_item(TableName=target.table, Item=full)
    backup = itembackup.backup_item(target, ddb=ddb)
    loaded = itembackup.load_backup(backup.path, target=target)
    assert json.loads(backup.path.read_text())["bin"] == {"B": "AP9jb3VudGVy"}
    assert loaded.boto_item() == counter.get_item(target, ddb=ddb)


# ---- the real AWS CLI takes the file ------------------------------------------------------


def test_aws_cli_put_item_restores_from_the_backup_file(target, ddb, backups, tmp_path):
    counter.init_counter(target, initial=42, ddb=ddb)
    backup = itembackup.backup_item(target, ddb=ddb)
    counter.conditional_set(target, 7, allow_decrease=True, ddb=ddb)

    # The guide's restore line, exactly.
    done = aws_cli(
        "dynamodb",
        "put-item",
        "--table-name",
        target.table,
        "--item",
        f"file://{backup.path}",
        tmp_path=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert counter.read_count(target, ddb=ddb) == 42


def test_guide_get_item_output_restores_through_restore_item(target, ddb, backups, tmp_path):
    # GIVEN the guide's backup: `aws dynamodb get-item ... > backup.json` ({"Item": {...}})
    counter.init_counter(target, initial=40, ddb=ddb)
    done = aws_cli(
        "dynamodb",
        "get-item",
        "--table-name",
        target.table,
        "--key",
        json.dumps(target.key),
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    guide_file = write(tmp_path / "backup.json", done.stdout)
    counter.increment(target, by=-15, ddb=ddb)  # the count was reset-ish to 25

    # WHEN it is restored through the runbook
    loaded = itembackup.load_backup(guide_file, target=target)
    result = itembackup.restore_item(target, guide_file, dry_run=False, confirm=target.table)

    # THEN the count is back, and the live item was backed up first
    assert loaded.wrapped and loaded.count == 40 and loaded.meta is None
    assert (result.restored, result.old, result.new) == (True, 25, 40)
    assert counter.read_count(target, ddb=ddb) == 40
    assert itembackup.load_backup(result.backup_path, target=target).count == 25


# ---- load_item_file: bad files ------------------------------------------------------------


@pytest.fixture
def good_backup(target, ddb, backups) -> itemfile.ItemBackup:
    counter.init_counter(target, initial=5, ddb=ddb)
    return itembackup.backup_item(target, ddb=ddb)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-12])


def _corrupt(path: Path) -> None:
    path.write_bytes(b"\x00\x13garbage{{")


def _edit_count(path: Path) -> None:
    path.write_text(path.read_text().replace('"5"', '"500"'))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_truncate, r"not valid JSON \(truncated\?\)"),
        (_corrupt, "not valid JSON"),
        (lambda p: p.write_text(""), "empty"),
        (_edit_count, "sha256 mismatch"),
        (lambda p: p.write_text("[1, 2]"), "must be a JSON object"),
    ],
    ids=["truncated", "corrupted", "empty", "edited-after-backup", "not-an-object"],
)
def test_damaged_backup_is_refused_and_restore_writes_nothing(
    target, ddb, backups, good_backup, damage, message
):
    counter.conditional_set(target, 9, ddb=ddb)
    damage(good_backup.path)
    before = files_under(backups)

    with pytest.raises(BackupFileError, match=message):
        itembackup.load_backup(good_backup.path, target=target)
    with pytest.raises(BackupFileError, match="Nothing was written"):
        itembackup.restore_item(target, good_backup.path, dry_run=False, confirm=target.table)

    assert counter.read_count(target, ddb=ddb) == 9
    assert files_under(backups) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": "1" * 39}}, "39 significant digits"),
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": "1" + "0" * 38}}, "at most 38"),
        ({"stat": {"S": "Other"}, "viewCount": {"N": "5"}}, "stat='Other', not the target"),
        ({"id": {"S": "Quantity"}, "viewCount": {"N": "5"}}, "key attribute 'stat' is missing"),
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": 5}}, "viewCount.N: a number must be"),
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": "1_000"}}, "not a number DynamoDB"),
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": "NaN"}}, "not a number DynamoDB"),
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": "1E+200"}}, "outside DynamoDB's"),
        ({"stat": {"S": "Quantity"}, "viewCount": 5}, "attribute viewCount: must be a typed"),
        ({"stat": {"S": "Quantity"}, "viewCount": {"X": "5"}}, "unknown type 'X'"),
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": "5", "S": "5"}}, "exactly one"),
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": "-5"}}, "count is unusable.*negative"),
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": "2.5"}}, "not a whole number"),
        ({"stat": {"S": "Quantity"}}, "no 'viewCount' attribute"),
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": "5"}, "b": {"B": "%%"}}, "base64"),
        (
            {"stat": {"S": "Quantity"}, "viewCount": {"N": "5"}, "s": {"SS": ["a", "a"]}},
            "duplicate",
        ),
        (
            {"stat": {"S": "Quantity"}, "viewCount": {"N": "5"}, "m": {"M": {"x": {"L": [1]}}}},
            r"attribute m\.M\.x\.L\[0\]: must be a typed",
        ),
        ({"stat": {"S": "Quantity"}, "viewCount": {"N": "5"}, "n": {"NULL": False}}, "true"),
        ({}, "no attributes"),
        ({"Item": {}}, "no attributes"),
    ],
)
def test_bad_item_file_names_the_failed_check(target, ddb, tmp_path, content, message):
    counter.init_counter(target, initial=3, ddb=ddb)
    path = write(tmp_path / "bad.json", content)

    with pytest.raises(BackupFileError, match=message):
        itembackup.restore_item(target, path, dry_run=False, confirm=target.table)

    assert without_token(counter.get_item(target, ddb=ddb)) == item(target, "3")
    assert [p.name for p in files_under(tmp_path)] == ["bad.json"]


def test_backup_from_another_table_is_refused_unless_allowed(target, ddb, backups, good_backup):
    other = Target(table="other-VisitorCount", endpoint=target.endpoint, region=target.region)
    with pytest.raises(BackupFileError, match=r"taken from table .* not the target 'other-Visi"):
        itembackup.load_backup(good_backup.path, target=other)
    loaded = itembackup.load_backup(good_backup.path, target=other, allow_other_table=True)
    assert loaded.count == 5


def test_sidecar_passed_instead_of_the_item_file_says_which_to_pass(good_backup):
    with pytest.raises(BackupFileError, match=f"pass the item file {good_backup.path.name}"):
        itemfile.load_item_file(good_backup.meta_path)


def test_sidecar_and_item_paths_map_both_ways(good_backup):
    assert itemfile.meta_path_for(good_backup.path) == good_backup.meta_path
    assert itemfile.item_path_for(good_backup.meta_path) == good_backup.path


# ---- restore_item -------------------------------------------------------------------------


def test_restore_dry_run_writes_nothing(target, ddb, backups, good_backup):
    counter.conditional_set(target, 2, allow_decrease=True, ddb=ddb)
    before_item, before_files = counter.get_item(target, ddb=ddb), files_under(backups)

    result = itembackup.restore_item(target, good_backup.path)

    assert result.dry_run and not result.restored and result.backup_path is None
    assert f"would restore viewCount in {target.table} from 2 to 5" in result.message
    assert counter.get_item(target, ddb=ddb) == before_item
    assert files_under(backups) == before_files


def test_restore_with_wrong_confirm_writes_nothing(target, ddb, backups, good_backup):
    counter.conditional_set(target, 2, allow_decrease=True, ddb=ddb)
    before = files_under(backups)
    with pytest.raises(ConfirmationError, match="confirm must equal the table name"):
        itembackup.restore_item(target, good_backup.path, dry_run=False, confirm="prod")
    assert counter.read_count(target, ddb=ddb) == 2
    assert files_under(backups) == before


def test_restore_refuses_to_decrease_unless_allowed(target, ddb, backups, good_backup):
    counter.conditional_set(target, 50, ddb=ddb)
    before = files_under(backups)

    with pytest.raises(InvalidInputError, match=r"lower viewCount .* from 50 \(live\) to 5"):
        itembackup.restore_item(target, good_backup.path, dry_run=False, confirm=target.table)
    assert counter.read_count(target, ddb=ddb) == 50
    assert files_under(backups) == before

    result = itembackup.restore_item(
        target, good_backup.path, dry_run=False, confirm=target.table, allow_decrease=True
    )
    assert (result.restored, result.old, result.new) == (True, 50, 5)
    assert counter.read_count(target, ddb=ddb) == 5
    assert itembackup.load_backup(result.backup_path, target=target).count == 50


def test_restore_of_the_same_value_is_a_no_op(target, ddb, backups, good_backup):
    before = files_under(backups)
    result = itembackup.restore_item(target, good_backup.path, dry_run=False, confirm=target.table)
    assert not result.restored and "nothing to do" in result.message
    assert files_under(backups) == before


def test_restore_creates_a_missing_item_with_a_conditional_put(target, ddb, tmp_path):
    path = write(tmp_path / "b.json", {**item(target, "11"), "note": {"S": "kept"}})

    dry = itembackup.restore_item(target, path)
    assert "is missing" in dry.message and counter.get_item(target, ddb=ddb) is None

    result = itembackup.restore_item(target, path, dry_run=False, confirm=target.table)
    assert (result.restored, result.old, result.new, result.backup_path) == (True, None, 11, None)
    live = without_token(counter.get_item(target, ddb=ddb))
    assert live == {**item(target, "11"), "note": {"S": "kept"}}
