"""The item backup file (formats/itemfile.py), written and read without a server."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runbook_lib.aws import counter
from runbook_lib.errors import BackupFileError
from runbook_lib.formats import itemfile, itemstore
from runbook_lib.model import Target
from runbook_lib.steps.backup import itembackup

TARGET = Target(table="unit-VisitorCount")
TAKEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def written(folder: Path, count: str = "5") -> itemfile.ItemBackup:
    item = {**TARGET.key, TARGET.count_attribute: {"N": count}}
    return itemstore.write_backup(folder, TARGET, item, count=5, reason="unit", taken_at=TAKEN)


def test_missing_file_is_a_backup_file_error(tmp_path):
    with pytest.raises(BackupFileError, match="no such file"):
        itemfile.load_item_file(tmp_path / "nope.json")


def test_sidecar_and_item_paths_map_both_ways(tmp_path):
    backup = written(tmp_path)
    assert backup.path.name == "20260102T030405Z-Quantity.json"
    assert itemfile.meta_path_for(backup.path) == backup.meta_path
    assert itemfile.item_path_for(backup.meta_path) == backup.path


def test_a_written_backup_reads_back_with_its_sidecar(tmp_path):
    backup = written(tmp_path)
    loaded = itemfile.load_item_file(backup.path, target=TARGET)
    assert loaded.item == backup.item and loaded.meta["sha256"] == backup.sha256
    assert (loaded.wrapped, loaded.count) == (False, None), "the count is the step's check"


def test_numbers_are_decimal_never_float(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({**TARGET.key, "viewCount": {"N": "9" * 38}}))
    loaded = itembackup.load_backup(path, target=TARGET)
    assert loaded.count == 10**38 - 1


@given(st.integers(min_value=0, max_value=counter.MAX_COUNT))
def test_any_valid_count_round_trips_through_the_file_format(value):
    text = itemfile.dumps_item({**TARGET.key, "viewCount": {"N": str(value)}})
    data, wrapped = itemfile.unwrap(json.loads(text))
    assert not wrapped and data[TARGET.count_attribute] == {"N": str(value)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "item.json"
        path.write_text(text)
        assert itembackup.load_backup(path, target=TARGET).count == value


def test_a_listing_shows_the_item_file_of_an_unreadable_sidecar(tmp_path):
    backup = written(tmp_path / TARGET.table)
    backup.meta_path.write_text("{not json")
    (row,) = itemstore.list_item_backups(tmp_path)
    assert row["path"] == str(backup.path) and row["file_present"] is True
    assert row["table"] is None and row["count"] is None
