"""04_backup_restore executed headless by papermill against the moto server."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import papermill
import pytest

from runbook_lib.aws import counter
from runbook_lib.errors import InvalidInputError
from runbook_lib.notebook.results import result_from_notebook
from runbook_lib.steps import backup
from runbook_lib.steps.backup import nativebackup

pytestmark = [pytest.mark.notebook, pytest.mark.usefixtures("backups")]  # the kernel's too
ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "04_backup_restore.ipynb"


def run(tmp_path: Path, **parameters) -> dict:
    out = tmp_path / f"out-{len(list(tmp_path.glob('out-*')))}.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(ROOT),
        progress_bar=False,
    )
    return result_from_notebook(nbformat.read(str(out), as_version=4))


def test_list_shows_item_and_native_backups(target, ddb, tmp_path):
    counter.init_counter(target, initial=4, ddb=ddb)
    nativebackup.create_backup(target, ddb=ddb)
    result = run(tmp_path, table_name=target.table)
    assert result["action"] == "list" and result["problem"] is False
    assert len(result["native_backups"]) == 1 and result["item_backups"] == []


def test_item_backup_then_restore_dry_run_then_confirmed(target, ddb, tmp_path, backups):
    counter.init_counter(target, initial=250, ddb=ddb)
    made = run(tmp_path, table_name=target.table, action="backup")
    path = made["backup_path"]
    assert made["action"] == "backup" and made["kind"] == "item" and Path(path).is_file()
    assert Path(path).is_relative_to(backups)

    counter.conditional_set(target, 0, allow_decrease=True, ddb=ddb)  # the reset
    dry = run(tmp_path, table_name=target.table, action="restore", backup_path=path)
    assert (dry["restored"], dry["dry_run"], dry["old"], dry["new"]) == (False, True, 0, 250)
    assert counter.read_count(target, ddb=ddb) == 0, "a dry run writes nothing"

    real = run(
        tmp_path,
        table_name=target.table,
        action="restore",
        backup_path=path,
        dry_run=False,
        confirm=target.table,
    )
    assert real["restored"] is True and real["live_backup_path"]
    assert counter.read_count(target, ddb=ddb) == 250
    listed = run(tmp_path, table_name=target.table)
    assert len(listed["item_backups"]) == 2, "the backup taken before the restore is listed"


def test_refused_restore_fails_the_notebook_and_writes_nothing(target, ddb, tmp_path):
    counter.init_counter(target, initial=9, ddb=ddb)
    path = run(tmp_path, table_name=target.table, action="backup")["backup_path"]
    counter.conditional_set(target, 1, allow_decrease=True, ddb=ddb)
    with pytest.raises(papermill.PapermillExecutionError, match="confirm must equal the table"):
        run(
            tmp_path,
            table_name=target.table,
            action="restore",
            backup_path=path,
            dry_run=False,
            confirm="wrong-table",
        )
    assert counter.read_count(target, ddb=ddb) == 1


def test_native_backup_and_table_export(target, ddb, tmp_path, backups):
    counter.init_counter(target, initial=3, ddb=ddb)
    native_result = run(tmp_path, table_name=target.table, action="backup", kind="native")
    listed = nativebackup.list_backups(target, ddb=ddb)
    assert native_result["backup_arn"] in {b.arn for b in listed}

    export_result = run(tmp_path, table_name=target.table, action="backup", kind="table")
    assert export_result["item_count"] == 1
    assert Path(export_result["backup_path"]).name.endswith(".jsonl.gz")

    dry = run(
        tmp_path,
        table_name=target.table,
        action="restore",
        backup_path=export_result["backup_path"],
    )
    assert (dry["kind"], dry["restored"], dry["items_written"]) == ("table", False, 0)


def test_unknown_action_lists_the_choices(target, tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="Valid: backup, restore, list"):
        run(tmp_path, table_name=target.table, action="delete")


def test_runbook_runner_coerces_strings_and_exits_1_naming_the_refusal(target, ddb, tmp_path):
    """`runbook run 04_backup_restore -p ...` passes strings; a refusal is exit 1."""
    from runbook_lib.notebook import runner

    counter.init_counter(target, initial=12, ddb=ddb)
    made = runner.run_notebook(
        "04_backup_restore", {"table_name": target.table, "action": "backup"}, tmp_path
    )
    assert made.exit_code == 0, made.summary()
    counter.increment(target, 5, ddb=ddb)
    refused = runner.run_notebook(
        "04_backup_restore",
        {
            "table_name": target.table,
            "action": "restore",
            "backup_path": made.result["backup_path"],
            "dry_run": "False",
            "confirm": target.table,
        },
        tmp_path,
    )
    assert refused.exit_code == 1
    assert "Refusing to lower viewCount" in refused.error and refused.failed_cell is not None
    assert counter.read_count(target, ddb=ddb) == 17


# ------------------------------------------------------------------ the facade, without a kernel


@pytest.mark.parametrize(
    ("action", "params", "message"),
    [
        ("delete", {}, "Unknown action 'delete'. Valid: backup, restore, list."),
        ("backup", {"kind": "disk"}, "Valid: item, table, native, pitr."),
        ("restore", {"kind": "disk"}, "Valid: item, table, native, pitr, copy_back."),
        ("restore", {}, "Nothing to restore from"),
        ("list", {"kind": "item"}, "kind applies to backup and restore"),
    ],
)
def test_facade_refuses_unknown_choices(target, action, params, message):
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        backup.run(target, action=action, **params)


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ({"backup_arn": "arn:aws:dynamodb:us-east-1:1:table/t/backup/1"}, "native"),
        ({"backup_path": "b/t-2024.jsonl.gz"}, "table"),
        ({"backup_path": "b/t-2024.manifest.json"}, "table"),
        ({"backup_path": "b/t/20240101T000000Z-Quantity.json"}, "item"),
        ({"restore_time": "2024-05-01T12:00:00Z"}, "pitr"),
        ({"kind": "copy_back"}, "copy_back"),
    ],
)
def test_restore_kind_is_inferred_from_what_is_given(given, kind):
    assert backup.infer_restore_kind(**given) == kind


def test_native_restore_then_copy_back_through_the_facade(target, ddb, backups):
    counter.init_counter(target, initial=321, ddb=ddb)
    made = backup.run(target, action="backup", kind="native")
    assert (made.verdict, made.problem) == ("BACKED UP", False)
    arn = made.fields["backup_arn"]
    counter.conditional_set(target, 0, allow_decrease=True, ddb=ddb)  # the reset
    new = f"{target.table}-r"
    ran = backup.run(
        target, action="restore", backup_arn=arn, new_table_name=new, dry_run=False, confirm=new
    )
    restored = ran.fields
    assert restored["restored"] is True and "kind=copy_back" in restored["next_step"]
    assert ran.verdict == "RESTORED" and "kind=copy_back" in ran.message
    copied = backup.run(
        target,
        action="restore",
        kind="copy_back",
        new_table_name=new,
        dry_run=False,
        confirm=target.table,
    ).fields
    assert (copied["restored"], copied["before"], copied["after"]) == (True, 0, 321)
    assert counter.read_count(target, ddb=ddb) == 321
    listing = backup.inventory(target)
    assert len(listing.fields["item_backups"]) == 1, "the live item was backed up before the copy"
    assert list(backup.to_frame(listing)["kind"]) == ["item", "native"]
    assert (listing.verdict, listing.problem) == ("LISTED", False)


def test_a_listing_with_nothing_to_restore_from_is_a_problem(target, ddb):
    counter.init_counter(target, initial=7, ddb=ddb)
    listing = backup.inventory(target)
    assert (listing.verdict, listing.to_dict()["problem"]) == ("NO BACKUP", True)
    assert listing.message.startswith(f"No backup of {target.table}: no item backup")
    assert backup.run_action("list", target) == dict(listing.fields)  # 00_onboarding's reads


def test_backup_kind_pitr_turns_pitr_on_only_when_confirmed(target):
    dry = backup.run(target, action="backup", kind="pitr")
    assert (dry.fields["changed"], nativebackup.pitr_status(target).enabled) == (False, False)
    assert dry.verdict == "DRY RUN" and not dry.problem
    done = backup.run(target, action="backup", kind="pitr", dry_run=False, confirm=target.table)
    assert done.fields["changed"] is True and nativebackup.pitr_status(target).enabled
    assert backup.inventory(target).fields["pitr"]["enabled"] is True
