"""Bad input (issue 6, section 3): every refusal says what went wrong and what to do, and
leaves the table byte-for-byte as it was, with no backup, audit or export file written.

The catalogue is data (`tests/badinput_cases.py`) run through the library entry points the
notebooks call, against the moto server; tests/e2e/test_badinput.py runs a representative few
through `runner.run_notebook` and the `runbook` console script.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from runbook_lib import paths
from runbook_lib.aws import counter
from runbook_lib.aws.writetoken import WRITE_TOKEN
from runbook_lib.formats import itemfile
from runbook_lib.model import Target
from runbook_lib.steps import backup, setcount, status
from runbook_lib.steps.backup import itembackup
from runbook_lib.steps.common import auditlog
from runbook_lib.steps.status import checks, report
from tests.badinput_cases import CASES, EXTRAS, STATES, Case, Ctx
from tests.badinput_checks import (
    Folders,
    assert_actionable,
    files,
    make_ctx,
    make_folders,
    snapshot,
)

pytestmark = pytest.mark.badinput


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Folders:
    return make_folders(tmp_path, monkeypatch)


# ---- the catalogue -------------------------------------------------------------------------


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=f"GAP: {case.gap}")] if case.gap else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(
    case: Case, ddb: Any, moto_url: str, folders: Folders
) -> None:
    ctx = make_ctx(ddb, moto_url, case.state, folders)
    if case.arrange:
        ctx.arranged = case.arrange(ctx)
    before = snapshot(ctx, with_backups=not case.writes_backup)

    if case.error is None:  # a report (status, a no-op): the text a user reads
        text = str(case.act(ctx))
        assert re.search(case.what, text, re.S), f"{case.what!r} not in:\n{text}"
        assert re.search(case.todo, text, re.S), f"{case.todo!r} not in:\n{text}"
    else:
        with pytest.raises(case.error) as info:
            case.act(ctx)
        assert_actionable(info.value, case.what, case.todo)

    if case.writes_backup:  # a write of the same values: only the live-item backup is new
        assert files(folders.backups), "a live-item backup comes before every write"
    else:
        assert files(folders.backups) == {}, "a refusal writes no backup, audit or export"
    assert snapshot(ctx, with_backups=not case.writes_backup) == before


# ---- what is ACCEPTED: the guide's wrapped backup, and extra attributes -------------------


def test_wrapped_get_item_backup_is_accepted_and_extra_attributes_survive(
    ddb: Any, moto_url: str, folders: Folders
) -> None:
    """GIVEN the guide's `aws dynamodb get-item ... > backup.json` ({"Item": {...}}) and a
    live item with extra attributes of every type, WHEN 04 restores it, THEN the count is
    the file's, every live attribute is kept, and the live item was backed up first."""
    ctx = make_ctx(ddb, moto_url, "extras", folders)
    wrapped = {"Item": {**STATES["counter"], "viewCount": {"N": "25"}, "note": {"S": "old"}}}
    path = ctx.item_file(wrapped, "get-item-output.json")

    ran = backup.run(
        ctx.target, action="restore", backup_path=str(path), dry_run=False, confirm=ctx.target.table
    )
    assert ran.verdict == "RESTORED" and not ran.problem and ran.message == ran.fields["message"]
    result = ran.fields

    assert itemfile.load_item_file(path).wrapped is True
    assert result["kind"] == "item" and result["restored"] is True
    assert (result["old"], result["new"]) == (10, 25)
    assert "Other attributes in the file (note) are left as they are live" in result["message"]
    live = counter.get_item(ctx.target, ddb=ddb)
    assert live.pop(WRITE_TOKEN)["S"], "the restore's write token (idempotent retries)"
    assert live == {**STATES["extras"], "viewCount": {"N": "25"}}
    saved = itembackup.load_backup(result["live_backup_path"], target=ctx.target)
    assert saved.boto_item() == STATES["extras"] and saved.count == 10


def test_set_count_keeps_extra_attributes(ddb: Any, moto_url: str, folders: Folders) -> None:
    ctx = make_ctx(ddb, moto_url, "extras", folders)
    result = setcount.set_count(
        ctx.target, 42, reason="bad-input test", dry_run=False, confirm=ctx.target.table, ddb=ddb
    )
    assert result.applied and (result.old, result.new) == (10, 42)
    item = counter.get_item(ctx.target, ddb=ddb)
    assert item.pop(WRITE_TOKEN)["S"], "the set's write token (idempotent retries)"
    assert item == {**STATES["extras"], "viewCount": {"N": "42"}}
    assert set(itemfile.load_item_file(result.backup_path).item) >= set(EXTRAS)
    assert [r["new"] for r in auditlog.read_audit()] == [42]


# ---- CREATING: only where the sandbox can produce it ----------------------------------------


def test_table_in_creating_state_is_reported_not_written(
    ddb: Any, moto_url: str, folders: Folders
) -> None:
    import moto

    name = f"bi-{uuid.uuid4().hex[:10]}-VisitorCount"
    created = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "stat", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "stat", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableStatus"]
    described = ddb.describe_table(TableName=name)["Table"]["TableStatus"]
    if "CREATING" not in (created, described):
        pytest.skip(
            f"moto {moto.__version__} never reports CREATING: CreateTable answers {created} and "
            f"DescribeTable {described} at once (moto's Table.describe hard-codes "
            "TableStatus='ACTIVE'), so a CREATING table cannot be produced in the sandbox; "
            "see test_creating_status_check_says_wait for the check itself"
        )
    target = Target(table=name, endpoint=moto_url)
    ctx = Ctx(ddb, target, folders.src, folders.backups, folders.run_dir, [name])
    before = snapshot(ctx)
    said = str(status.run(ctx.target))  # the message: the report as text
    assert "[WARN] table exists and ACTIVE" in said and "wait for ACTIVE" in said
    assert snapshot(ctx) == before


def test_creating_status_check_says_wait(moto_url: str) -> None:
    """The status check on a DescribeTable answer as AWS gives it while a table is created."""
    target = Target(table="bi-creating-VisitorCount", endpoint=moto_url)
    check = checks.check_table({"TableName": target.table, "TableStatus": "CREATING"}, None, target)
    assert check.state == report.WARN
    assert check.detail == "table bi-creating-VisitorCount is CREATING"
    assert check.next_step == "wait for ACTIVE, then run the status check again"


# ---- a backups folder that cannot take the backup (issue 17) --------------------------------


@pytest.mark.parametrize("write", ["set", "restore"])
def test_backup_folder_that_cannot_be_written_stops_the_write(
    write: str, ddb: Any, moto_url: str, folders: Folders, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RUNBOOK_BACKUPS under a regular file (which stops root as well as anyone): the
    backup before the write fails, so the write is not made; one error naming the folder
    as set and the fix, not a bare PermissionError or FileExistsError."""
    ctx = make_ctx(ddb, moto_url, "counter", folders)
    source = ctx.item_file(_counter_item(25)) if write == "restore" else None
    blocker = ctx.write("notes.txt", "a file\n")
    monkeypatch.setenv("RUNBOOK_BACKUPS", str(blocker / "backups"))
    before = snapshot(ctx)
    confirmed = {"dry_run": False, "confirm": ctx.target.table, "ddb": ddb}
    with pytest.raises(paths.UnwritableFolderError) as info:
        if write == "set":
            setcount.set_count(ctx.target, 42, reason="bad-input test", **confirmed)
        else:
            itembackup.restore_item(ctx.target, source, **confirmed)
    assert_actionable(
        info.value,
        rf"Cannot write the backup of {ctx.target.table}'s item to {blocker}/backups "
        r"\(RUNBOOK_BACKUPS\): \S*notes\.txt is a file, so no folder can be made under it\. "
        r"No backup was taken, and nothing was written to the table\.",
        r"point RUNBOOK_BACKUPS at a folder you can write to",
    )
    assert "\n" not in str(info.value), "one line"
    assert snapshot(ctx) == before, "the table as it was"


def _counter_item(count: int) -> dict[str, Any]:
    return {**STATES["counter"], "viewCount": {"N": str(count)}}
