"""A count stored as a string (issue 16, item 7) against a real moto server over HTTP.

The issue's item, verbatim: `{"id": {"S": "Counter"}, "count": {"S": "57"}}`, from a site whose
code writes str(n). 02 reports 57 and warns (exit 0); 03 and 07 refuse a number over it (exit 3,
nothing written) and write a string when told `count_type S`; backups and restores keep S; a
count under another name than the target's is named, never doubled by a second one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid

import pytest

from runbook_lib.aws import counter
from runbook_lib.errors import exit_code_for
from runbook_lib.formats import itemfile
from runbook_lib.formats.countvalue import CountAttributeError, CountElsewhereError
from runbook_lib.model import Target
from runbook_lib.sandbox import recoverdemo
from runbook_lib.sandbox import server as sandbox
from runbook_lib.steps import recover, setcount, status
from runbook_lib.steps.backup import copyback, export, itembackup, tablerestore
from runbook_lib.steps.common.auditlog import read_audit
from runbook_lib.steps.init import init_step
from tests.conftest import files_under, make_table

SITE_ITEM = {"id": {"S": "Counter"}, "count": {"S": "57"}}
VALUE_CHECK = "count is a non-negative integer"


@pytest.fixture
def site(ddb, moto_url) -> Target:
    """The issue's table and item; the target as resolution makes it for a string count."""
    table = make_table(ddb, f"visitors-{uuid.uuid4().hex[:10]}", key="id")
    ddb.put_item(TableName=table, Item=SITE_ITEM)
    return Target(
        table=table,
        key_name="id",
        key_value="Counter",
        count_attribute="count",
        count_type="S",
        region=sandbox.REGION,
        endpoint=moto_url,
    )


def _confirmed(target: Target, value: int, **kwargs) -> setcount.SetResult:
    kwargs = {"reason": "issue 16", "dry_run": False, "confirm": target.table, **kwargs}
    return setcount.run(target, value, **kwargs).detail


def _item(target: Target, ddb) -> dict:
    return counter.get_item(target, ddb=ddb)


# ---- 02_status -------------------------------------------------------------------------------


def test_status_reports_57_and_warns_that_it_is_a_string_exit_0(site):
    report = status.run_status(site)
    check = next(c for c in report.checks if c.name == VALUE_CHECK)
    assert check.state == "warn"
    assert check.detail.startswith('count = 57, stored as a string (S "57"): the site writes')
    assert "atomic ADD fails on a string" in check.detail
    assert "the runbook keeps the type" in check.next_step
    assert (report.count, report.count_type) == (57, "S")
    assert report.healthy, str(report)  # a warning only: record_result(problem=False), exit 0
    assert json.loads(json.dumps(report.to_dict()))["count"] == 57


def test_status_given_the_guides_attribute_names_the_sites_instead(site):
    guide = dataclasses.replace(site, count_attribute="viewCount", count_type="N")
    report = status.run_status(guide)
    check = next(c for c in report.checks if c.name == VALUE_CHECK)
    assert check.state == "fail"
    assert check.detail.endswith("holds its count as 'count' (S \"57\"), not 'viewCount'")
    assert check.next_step == "pass -p count_attribute count"
    assert "has no 'viewCount'" not in str(report) and "set a valid count" not in str(report)


# ---- 03_set_count ----------------------------------------------------------------------------


@pytest.mark.parametrize("resolved_type", ["S", "N"])  # whatever resolution said: the item's
def test_a_confirmed_number_over_the_string_count_is_refused_and_writes_nothing(
    site, ddb, backups, resolved_type
):
    target = dataclasses.replace(site, count_type=resolved_type)
    result = _confirmed(target, 60)
    assert result.problem and not result.applied  # the runner: exit 3
    assert 'holds count as a string (S "57"), as a site whose code writes str(n)' in result.refused
    assert result.command.startswith(f"runbook run 03_set_count -p table_name {site.table}")
    assert "-p new_value 60 -p count_type S -p dry_run False" in result.command
    assert _item(site, ddb) == SITE_ITEM  # nothing written, not even the token
    assert files_under(backups) == []  # no backup, no audit record


def test_count_type_s_writes_60_as_a_string_and_the_undo_puts_57_back(site, ddb, backups):
    result = _confirmed(site, 60, count_type="S")
    assert result.applied and (result.old, result.new, result.count_type) == (57, 60, "S")
    assert "as a string (S), as the item stores it" in result.message
    live = _item(site, ddb)
    assert live["count"] == {"S": "60"}
    assert set(live) == {"id", "count", "runbookWriteId"}  # no second count attribute
    (record,) = read_audit(backups / "audit.jsonl")
    assert (record["old"], record["new"], record["count_type"]) == (57, 60, "S")
    sidecar = json.loads(itemfile.meta_path_for(result.backup_path).read_text())
    assert (sidecar["count"], sidecar["count_type"]) == (57, "S")

    undo = itembackup.restore_item(
        site, result.backup_path, dry_run=False, confirm=site.table, allow_decrease=True
    )
    assert (undo.old, undo.new) == (60, 57)
    assert _item(site, ddb)["count"] == {"S": "57"}


def test_count_type_n_over_a_string_is_refused_even_in_a_dry_run(site, ddb, backups):
    result = setcount.run(site, 60, count_type="N")
    assert result.problem and "Writing 60 as a number (count_type N)" in result.fields["refused"]
    assert "-p count_type S" in result.fields["command"]
    assert _item(site, ddb) == SITE_ITEM


def test_a_dry_run_says_a_confirmed_run_needs_count_type_s(site, ddb):
    result = setcount.run(site, 60)
    assert not result.problem and result.verdict == "DRY RUN" and result.fields["dry_run"]
    assert "A confirmed run is REFUSED without count_type S" in result.message
    assert "-p count_type S" in result.detail.command


def test_a_wrong_confirm_hands_over_a_command_that_writes_a_string(site, ddb, backups):
    result = setcount.run(site, 60, reason="x", dry_run=False, confirm="visitors")
    assert result.problem and "confirm must equal the table name" in result.fields["refused"]
    assert "-p count_type S" in result.fields["command"]  # the command that would do it, as is
    assert _item(site, ddb) == SITE_ITEM


def test_a_string_count_is_never_lowered_without_allow_decrease(site, ddb, backups):
    result = _confirmed(site, 9, count_type="S")  # "9" > "57" as text: numbers decide
    assert result.problem and "from 57 (live) to 9" in result.refused
    assert _item(site, ddb) == SITE_ITEM


def test_count_type_s_over_a_number_is_refused(live42, ddb, backups):
    result = _confirmed(live42, 60, count_type="S")
    assert result.problem and "holds viewCount as a number (N" in result.refused
    assert "count_type" not in result.command
    assert counter.get_item(live42, ddb=ddb)["viewCount"] == {"N": "42"}


# ---- a count under another name: 03, 01 -----------------------------------------------------


def test_no_second_count_beside_the_sites_from_03_or_01(site, ddb, backups):
    guide = dataclasses.replace(site, count_attribute="viewCount", count_type="N")
    with pytest.raises(CountElsewhereError, match="pass -p count_attribute count") as found:
        _confirmed(guide, 60)
    assert exit_code_for(type(found.value).__name__) == 3
    with pytest.raises(CountElsewhereError, match=r"holds its count as 'count' \(S \"57\"\)"):
        init_step(guide, 0, dry_run=False, confirm=site.table)
    with pytest.raises(CountElsewhereError):
        init_step(guide, 0)
    passed = dataclasses.replace(guide, sources={"count_attribute": "parameter"})
    with pytest.raises(CountAttributeError, match="passed as count_attribute") as bad:
        _confirmed(passed, 60)
    assert exit_code_for(type(bad.value).__name__) == 2
    assert _item(site, ddb) == SITE_ITEM
    assert files_under(backups) == []


def test_init_creates_a_string_count_where_the_site_keeps_one(site, ddb):
    ddb.delete_item(TableName=site.table, Key=site.key)
    done = init_step(site, 0, dry_run=False, confirm=site.table)
    assert done.created and _item(site, ddb)["count"] == {"S": "0"}
    again = init_step(site, 5)
    assert again.value == 0 and "a string count, S" in again.message


# ---- 07_recover ------------------------------------------------------------------------------


@pytest.fixture
def planted(moto_url, ddb) -> Target:
    """A reset planted in CloudWatch (5,000, then 0, then 37), the live count a string."""
    target = Target(
        table=f"r-{uuid.uuid4().hex[:10]}-visitors",
        key_name="id",
        key_value="Counter",
        count_attribute="count",
        endpoint=moto_url,
        region=sandbox.REGION,
        function_name="fn",
    )
    frame = recoverdemo.reset_frame(3, end=dt.datetime.now(dt.timezone.utc))
    assert recoverdemo.plant_reset(target, frame) == 37
    ddb.put_item(TableName=target.table, Item={**target.key, "count": {"S": "37"}})
    return target


def test_recover_refuses_a_number_over_the_string_then_writes_a_string(planted, ddb, tmp_path):
    io = {"audit_path": tmp_path / "audit.jsonl", "backup_dir": tmp_path / "b"}
    dry = recover.run(planted, days=3, period=300, **io)
    assert (dry.fields["live"], dry.fields["recovered"]) == (37, 5037)
    assert "-p count_type S" in dry.fields["command"]
    assert "is a string count (S)" in dry.message

    wrong = recover.run(planted, days=3, period=300, dry_run=False, confirm="visitors", **io)
    assert wrong.problem and "-p count_type S" in wrong.fields["command"]

    refused = recover.run(planted, days=3, period=300, dry_run=False, confirm=planted.table, **io)
    assert (refused.verdict, refused.problem, refused.fields["applied"]) == ("REFUSED", True, False)
    assert refused.message.startswith("REFUSED: ") and "as a site whose code writes str(n)" in (
        refused.message
    )
    assert "-p count_type S" in refused.fields["command"]
    assert _item(planted, ddb)["count"] == {"S": "37"}

    done = recover.run(
        planted, days=3, period=300, dry_run=False, confirm=planted.table, count_type="S", **io
    )
    assert done.fields["applied"] and not done.problem, done.message
    assert _item(planted, ddb)["count"] == {"S": "5037"}


# ---- backups and restores keep S -------------------------------------------------------------


def test_an_item_backup_round_trip_keeps_the_string(site, ddb, backups):
    backup = itembackup.backup_item(site, ddb=ddb)
    assert (backup.count, backup.count_type) == (57, "S")
    assert json.loads(backup.path.read_text())["count"] == {"S": "57"}
    _confirmed(site, 80, count_type="S")
    restored = itembackup.restore_item(
        site, backup.path, dry_run=False, confirm=site.table, allow_decrease=True
    )
    assert (restored.old, restored.new) == (80, 57)
    assert _item(site, ddb)["count"] == {"S": "57"}
    ddb.delete_item(TableName=site.table, Key=site.key)
    itembackup.restore_item(site, backup.path, dry_run=False, confirm=site.table)
    assert _item(site, ddb)["count"] == {"S": "57"}  # a missing item: put back as it was


def test_a_number_backup_is_never_restored_over_the_string(site, ddb, backups, tmp_path):
    path = tmp_path / "n.json"
    path.write_text(json.dumps({**SITE_ITEM, "count": {"N": "90"}}))
    with pytest.raises(counter.CountTypeError, match=r'holds count as N "90", the live item as S'):
        itembackup.restore_item(site, path, dry_run=False, confirm=site.table)
    assert _item(site, ddb) == SITE_ITEM


def test_a_table_export_and_restore_keep_the_string(site, ddb, backups, tmp_path):
    exported = export.export_table(site, tmp_path / "exports", ddb=ddb, progress=False)
    _confirmed(site, 80, count_type="S")
    done = tablerestore.restore_table(
        exported.path, site, dry_run=False, confirm=site.table, allow_decrease=True,
        read_back="all", ddb=ddb, progress=False,
    )  # fmt: skip
    assert done.restored and (done.counter_before, done.counter_after) == (80, 57)
    assert _item(site, ddb)["count"] == {"S": "57"}


def test_copy_back_from_a_restored_table_keeps_the_string(site, ddb, backups):
    restored = make_table(ddb, f"{site.table}-restored", key="id")
    ddb.put_item(TableName=restored, Item={**SITE_ITEM, "count": {"S": "90"}})
    done = copyback.copy_counter_back(restored, site, dry_run=False, confirm=site.table, ddb=ddb)
    assert done.written and (done.before, done.after) == (57, 90)
    assert _item(site, ddb)["count"] == {"S": "90"}
    ddb.put_item(TableName=restored, Item={**SITE_ITEM, "count": {"N": "95"}})
    with pytest.raises(counter.CountTypeError, match="would change the count's type"):
        copyback.copy_counter_back(restored, site, dry_run=False, confirm=site.table, ddb=ddb)
    assert _item(site, ddb)["count"] == {"S": "90"}


def test_a_string_increment_counts_as_the_site_does(site, ddb):
    assert counter.increment(site, ddb=ddb) == 58
    assert _item(site, ddb)["count"] == {"S": "58"}
