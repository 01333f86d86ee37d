"""Manual set/reset: refusals write nothing, a real set is backed up, audited and undoable."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runbook_lib import aws
from runbook_lib.aws import counter
from runbook_lib.aws.writetoken import WRITE_TOKEN
from runbook_lib.errors import (
    ConfirmationError,
    CountConflictError,
    DecreaseRefusedError,
    InvalidInputError,
    ItemMissingError,
)
from runbook_lib.model import Target
from runbook_lib.steps import setcount
from runbook_lib.steps.backup import itembackup
from runbook_lib.steps.common import auditlog as setrecord
from runbook_lib.steps.setcount import plan as setplan
from tests.conftest import files_under

AWS_CLI = Path(sys.executable).parent / "aws"
AUDIT_FIELDS = {
    "time",
    "actor",
    "table",
    "key",
    "count_attribute",
    "old",
    "new",
    "expected_current",
    "reason",
    "backup_path",
    "undo_command",
    "dry_run",
}


def real(target, value: Any = 100, **kwargs: Any) -> setcount.SetResult:
    kwargs = {"reason": "fix after reset", "dry_run": False, "confirm": target.table, **kwargs}
    return setcount.set_count(target, value, **kwargs)


# ---- plan_set: pure validation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"new_value": -1}, InvalidInputError, "must not be negative"),
        ({"new_value": 1.5}, InvalidInputError, "whole number"),
        ({"new_value": True}, InvalidInputError, "whole number"),
        ({"new_value": "ten"}, InvalidInputError, "whole number"),
        ({"new_value": 10**38}, InvalidInputError, "39 digits; DynamoDB numbers hold at most 38"),
        ({"expected_current": -3}, InvalidInputError, "expected_current must not be negative"),
        ({"dry_run": "False"}, InvalidInputError, "dry_run must be True or False"),
        ({"confirm": "prod"}, ConfirmationError, "confirm must equal the table name"),
        ({"confirm": ""}, ConfirmationError, "got nothing"),
        ({"reason": "x" * 600}, InvalidInputError, "keep it under 500"),
        ({"reason": "AKIAABCDEFGHIJKLMNOP"}, InvalidInputError, "credential"),
        ({"new_value": None}, InvalidInputError, "new_value is required: the count to set"),
        ({"allow_decrease": "True"}, InvalidInputError, "allow_decrease must be True or False"),
    ],
)
def test_plan_set_refuses(kwargs, error, message):
    target = Target(table="plan-VisitorCount")
    request = {"new_value": 100, "reason": "why", "dry_run": False, "confirm": target.table}
    request.update(kwargs)
    with pytest.raises(error, match=message):
        setcount.plan_set(target, **request)


def test_plan_set_accepts_and_normalises():
    target = Target(table="plan-VisitorCount")
    plan = setcount.plan_set(target, "100", reason="  reset\n by  bot ", dry_run=True)
    assert plan == setplan.SetPlan(
        new_value=100, expected_current=None, reason="reset by bot", apply=False
    )
    assert setcount.plan_set(target, 0, dry_run=True).reason == ""  # a dry run needs no reason
    # a real write without a reason goes ahead; the audit log says none was given
    real = setcount.plan_set(target, 0, dry_run=False, confirm=target.table, reason="  ")
    assert real.reason == setrecord.NO_REASON


# ---- refusals write nothing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"value": -5}, InvalidInputError, "must not be negative"),
        ({"value": 10**38}, InvalidInputError, "at most 38"),
        ({"confirm": "wrong-table"}, ConfirmationError, "Refusing to write: confirm must equal"),
        ({"expected_current": 41}, CountConflictError, "expected 41, live value is 42"),
        ({"value": None}, InvalidInputError, "new_value is required"),
        ({"value": 0}, DecreaseRefusedError, r"lower viewCount in \S+ from 42 \(live\) to 0"),
        ({"value": 41, "expected_current": 42}, DecreaseRefusedError, "1 counted visit would"),
    ],
)
def test_refused_set_writes_nothing(live42, ddb, backups, tmp_path, kwargs, error, message):
    before = counter.get_item(live42, ddb=ddb)
    with pytest.raises(error, match=message):
        real(live42, audit_path=tmp_path / "audit.jsonl", **kwargs)
    assert counter.get_item(live42, ddb=ddb) == before
    assert files_under(backups) == []
    assert not (tmp_path / "audit.jsonl").exists()


def test_conflict_reports_the_live_value(live42, ddb, backups):
    with pytest.raises(CountConflictError, match="live value is 42") as err:
        real(live42, expected_current=7)
    assert err.value.live_value == "42"
    assert "expected_current set to it" in str(err.value)


def test_conflict_between_read_and_write_writes_nothing_but_the_backup(live42, ddb, backups):
    # GIVEN a visitor arrives between the runbook's read and its conditional write
    racy = _VisitorBeforeWrite(ddb, live42)
    # WHEN the operator insisted on the value they saw
    with pytest.raises(CountConflictError, match="expected 42, live value is 43"):
        real(live42, expected_current=42, ddb=racy)
    # THEN the count is the visitor's, no audit record, only the backup of the untouched item
    assert counter.read_count(live42, ddb=ddb) == 43
    assert not (backups / setrecord.AUDIT_FILE).exists()
    assert [p.name.endswith(".json") for p in files_under(backups)] == [True, True]


def test_visit_between_backup_and_write_is_flagged(live42, ddb, backups):
    result = real(live42, ddb=_VisitorBeforeWrite(ddb, live42))
    assert result.applied and result.moved and result.needs_attention and result.problem
    assert result.old == 43 and "the count moved from 42 (read" in result.message
    assert "so the write replaced 43, not 42" in result.message
    # the undo puts back what the write replaced (43), not what was read (42)
    assert itembackup.load_backup(result.backup_path, target=live42).count == 43
    assert itembackup.load_backup(result.read_backup_path, target=live42).count == 42


def test_set_on_a_missing_item_says_run_init(target, ddb, backups):
    for dry_run in (True, False):
        with pytest.raises(ItemMissingError, match="01_init"):
            real(target, dry_run=dry_run)
    assert counter.get_item(target, ddb=ddb) is None
    assert files_under(backups) == []


# ---- dry run ------------------------------------------------------------------------------


def test_dry_run_says_what_it_would_do_and_writes_nothing(live42, ddb, backups):
    before = counter.get_item(live42, ddb=ddb)

    result = setcount.set_count(live42, 100)

    assert f"would set viewCount in {live42.table} from 42 to 100" in result.message
    assert (result.applied, result.dry_run, result.old, result.new) == (False, True, 42, 100)
    assert result.backup_path is result.audit_path is result.undo_command is None
    assert counter.get_item(live42, ddb=ddb) == before
    assert files_under(backups) == []


# ---- a real set ---------------------------------------------------------------------------


def test_real_set_backs_up_writes_once_and_audits(live42, ddb, backups):
    result = real(live42, 100, expected_current=42)

    assert (result.applied, result.dry_run, result.old, result.new) == (True, False, 42, 100)
    assert counter.read_count(live42, ddb=ddb) == 100
    backup = Path(result.backup_path)
    saved = json.loads(backup.read_text())
    assert saved.pop(WRITE_TOKEN)["S"], "init's write token, backed up with the item"
    assert saved == {**live42.key, "viewCount": {"N": "42"}}
    assert itembackup.load_backup(backup, target=live42).count == 42
    assert result.audit_path == str(backups / "audit.jsonl")
    (record,) = setrecord.read_audit()
    assert set(record) >= AUDIT_FIELDS
    assert record["actor"].startswith("arn:aws:")
    assert record["time"].endswith("+00:00")
    assert (record["table"], record["key"]) == (live42.table, {"stat": "Quantity"})
    assert (record["old"], record["new"], record["expected_current"]) == (42, 100, 42)
    assert (record["reason"], record["backup_path"]) == ("fix after reset", str(backup))
    assert record["dry_run"] is False
    assert record["undo_command"] == result.undo_command


def test_audit_log_appends(live42, ddb, backups, tmp_path):
    log = tmp_path / "elsewhere" / "audit.jsonl"
    real(live42, 50, audit_path=log)
    real(live42, 60, audit_path=log, reason="second")
    assert [(r["old"], r["new"]) for r in setrecord.read_audit(log)] == [(42, 50), (50, 60)]


def test_undo_command_is_the_guide_put_item_and_the_aws_cli_runs_it(live42, ddb, backups, tmp_path):
    result = real(live42, 100)
    expected = (
        f"aws dynamodb put-item --table-name {live42.table} --item file://{result.backup_path}"
    )
    assert result.undo_command.startswith(expected)
    assert "--endpoint-url http://127.0.0.1:" in result.undo_command
    assert result.undo_runbook == (
        f"runbook run 04_backup_restore -p action restore -p backup_path {result.backup_path} "
        f"-p table_name {live42.table} -p allow_decrease True "
        f"-p dry_run False -p confirm {live42.table}"
    )
    assert result.undo_command in result.message and result.undo_runbook in result.message

    argv = shlex.split(result.undo_command)
    env = {**os.environ, "AWS_CONFIG_FILE": str(tmp_path / "none")}
    done = subprocess.run(
        [str(AWS_CLI), *argv[1:]], capture_output=True, text=True, env=env, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert counter.read_count(live42, ddb=ddb) == 42


def test_runbook_undo_restores_through_the_conditional_path(live42, ddb, backups):
    result = real(live42, 100)
    undo = itembackup.restore_item(
        live42, result.backup_path, dry_run=False, confirm=live42.table, allow_decrease=True
    )
    assert (undo.old, undo.new) == (100, 42)
    assert counter.read_count(live42, ddb=ddb) == 42
    # the backup holds init's write token: the runbook's bookkeeping, not an "other" attribute
    assert WRITE_TOKEN in json.loads(Path(result.backup_path).read_text())
    assert "Other attributes" not in undo.message


def test_setting_a_corrupt_count_repairs_it_keeping_its_type(target, ddb, backups):
    ddb.put_item(TableName=target.table, Item={**target.key, "viewCount": {"S": "many"}})
    assert 'from {"S": "many"} to 0' in setcount.set_count(target, 0).message
    # a number over a string is a type change: refused, the string repair is the command
    refused = setcount.run(target, 0, reason="fix", dry_run=False, confirm=target.table)
    assert refused.problem and "-p count_type S" in refused.fields["command"]
    assert counter.get_item(target, ddb=ddb)["viewCount"] == {"S": "many"}
    result = real(target, 0, count_type="S")
    assert result.applied and result.old is None
    assert counter.get_item(target, ddb=ddb)["viewCount"] == {"S": "0"}


def test_set_result_to_dict_is_json(live42, backups):
    data = real(live42, 77).to_dict()
    assert json.loads(json.dumps(data))["new"] == 77
    assert {"applied", "dry_run", "old", "new", "backup_path", "audit_path"} <= set(data)


class _VisitorBeforeWrite:
    """A DynamoDB client where one visitor's increment lands just before the first update."""

    def __init__(self, ddb: Any, target: Any) -> None:
        self._ddb, self._target, self._done = ddb, target, False

    def update_item(self, **kwargs: Any) -> Any:
        if not self._done and kwargs.get("UpdateExpression", "").startswith("SET"):
            self._done = True
            counter.increment(self._target, ddb=self._ddb)
        return self._ddb.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ddb, name)


# ---- never lower the count by accident --------------------------------------------------------


def test_lowering_needs_allow_decrease_and_says_how(live42, ddb, backups):
    with pytest.raises(DecreaseRefusedError) as err:
        real(live42, 0)
    assert str(err.value).startswith(
        f"Refusing to lower viewCount in {live42.table} from 42 (live) to 0 (new_value): "
        "42 counted visits would be lost. Nothing was written."
    )
    assert "allow_decrease=True" in err.value.hint
    assert counter.read_count(live42, ddb=ddb) == 42 and files_under(backups) == []


def test_the_guides_reset_to_0_is_allowed_with_allow_decrease(live42, ddb, backups):
    result = real(live42, 0, allow_decrease=True)
    assert (result.applied, result.old, result.new, result.problem) == (True, 42, 0, False)
    assert counter.read_count(live42, ddb=ddb) == 0
    assert [(r["old"], r["new"]) for r in setrecord.read_audit()] == [(42, 0)]
    assert "allow_decrease" not in result.undo_runbook, "the undo raises the count again"


def test_dry_run_of_a_decrease_says_a_real_run_needs_allow_decrease(live42, ddb, backups):
    result = setcount.set_count(live42, 7, reason="reset after test traffic")
    command = (
        f"runbook run 03_set_count -p table_name {live42.table} -p new_value 7 "
        f"-p allow_decrease True -p dry_run False -p confirm {live42.table} "
        "-p reason 'reset after test traffic'"
    )
    assert result.message == (
        f"DRY RUN: would LOWER viewCount in {live42.table} from 42 to 7 (item stat=Quantity), "
        "after backing it up. Nothing was written.\n"
        "A confirmed run is REFUSED without allow_decrease=True: 35 counted visits would be "
        f"lost.\nTo apply: {command}"
    )
    assert result.command == command and not result.problem
    allowed = setcount.set_count(live42, 7, allow_decrease=True)
    assert "REFUSED" not in allowed.message and "-p allow_decrease True" in allowed.command
    raising = setcount.set_count(live42, 100)
    assert "REFUSED" not in raising.message and "allow_decrease" not in raising.command
    assert "-p reason '<why>'" in raising.command
    assert files_under(backups) == [] and counter.read_count(live42, ddb=ddb) == 42


def test_the_command_spells_out_a_key_other_than_the_guides():
    crc = Target(table="crc-table", key_name="id", key_value="0", count_attribute="visitcount")
    assert setrecord.set_command(crc, 5, expected_current=4, reason="fix") == (
        "runbook run 03_set_count -p table_name crc-table -p key_name id -p key_value 0 "
        "-p count_attribute visitcount -p new_value 5 -p expected_current 4 "
        "-p dry_run False -p confirm crc-table -p reason fix"
    )


# ---- refusals are results (exit 3), each with the command that would do it ----------------


@pytest.mark.parametrize(
    ("kwargs", "refused", "command"),
    [
        (
            {"value": 0},
            r"Refusing to lower viewCount in \S+ from 42 \(live\) to 0 \(new_value\)",
            "-p new_value 0 -p allow_decrease True -p dry_run False -p confirm {t}",
        ),
        (
            {"confirm": "prod"},
            r"Refusing to write: confirm must equal the table name '\S+', got 'prod'",
            "-p new_value 100 -p dry_run False -p confirm {t}",
        ),
        (
            {"expected_current": 40},
            r"The count moved: expected 40, live value is 42\. Nothing was written\.",
            "-p new_value 100 -p expected_current 42 -p dry_run False -p confirm {t}",
        ),
    ],
    ids=["decrease", "confirm", "conflict"],
)
def test_run_returns_a_refusal_with_the_exact_command(
    live42, ddb, backups, kwargs, refused, command
):
    kwargs = {"reason": "fix after reset", "dry_run": False, "confirm": live42.table, **kwargs}
    ran = setcount.run(live42, kwargs.pop("value", 100), ddb=ddb, **kwargs)
    assert ran.problem and ran.verdict == "REFUSED" and ran.fields["table"] == live42.table
    result = ran.detail
    assert result.problem and not result.applied and re.match(refused, result.refused)
    assert "Next step" not in result.refused and "\n" not in result.refused, "one line"
    expected = f"runbook run 03_set_count -p table_name {live42.table} " + command.format(
        t=live42.table
    )
    assert result.command == f"{expected} -p reason 'fix after reset'"
    assert result.message == f"REFUSED: {result.refused}\nTo do it: {result.command}"
    assert list(result.to_dict())[:2] == ["refused", "command"]
    assert counter.read_count(live42, ddb=ddb) == 42 and files_under(backups) == []


def test_run_lets_other_errors_through(target, ddb, backups):
    with pytest.raises(ItemMissingError):
        setcount.run(target, 5, dry_run=False, confirm=target.table, ddb=ddb)


# ---- racing writes: injected deterministically, just before the set is sent ----------------


def before_set(ddb: Any, action: Any) -> None:
    """Run `action` once, when this client is about to send its SET UpdateItem: botocore's
    own event hook on this one client, so the concurrent write lands in between for sure."""

    def hook(params: dict[str, Any], **_: Any) -> None:
        if params.get("UpdateExpression", "").startswith("SET"):
            ddb.meta.events.unregister("before-parameter-build.dynamodb.UpdateItem", hook)
            action()

    ddb.meta.events.register("before-parameter-build.dynamodb.UpdateItem", hook)


def test_two_racing_sets_back_up_and_audit_what_each_replaced(live42, ddb, backups):
    # GIVEN a colleague's confirmed set (42 -> 100) lands just before ours (read 42) is sent
    colleague: list[setcount.SetResult] = []
    other = aws.client("dynamodb")
    before_set(ddb, lambda: colleague.append(real(live42, 100, ddb=other, reason="colleague")))
    # WHEN ours (-> 200) goes ahead
    ours = real(live42, 200, ddb=ddb, reason="ours")
    # THEN both applied; ours says it replaced 100, not the 42 it read, and exits 3
    (theirs,) = colleague
    assert (theirs.old, theirs.new, theirs.moved) == (42, 100, False)
    assert (ours.applied, ours.old, ours.new, ours.moved, ours.problem) == (
        True,
        100,
        200,
        True,
        True,
    )
    assert "the count moved from 42 (read" in ours.message and "replaced 100" in ours.message
    assert itembackup.load_backup(ours.backup_path, target=live42).count == 100
    assert itembackup.load_backup(ours.read_backup_path, target=live42).count == 42
    audit = setrecord.read_audit()
    assert [(r["old"], r["new"], r["backup_path"]) for r in audit] == [
        (42, 100, theirs.backup_path),
        (100, 200, ours.backup_path),
    ]
    assert audit[1]["read_backup_path"] == ours.read_backup_path
    # AND our undo is exact: back to the colleague's 100
    argv = shlex.split(ours.undo_runbook)
    assert argv[argv.index("backup_path") + 1] == ours.backup_path
    itembackup.restore_item(
        live42, ours.backup_path, dry_run=False, confirm=live42.table, allow_decrease=True
    )
    assert counter.read_count(live42, ddb=ddb) == 100


def test_a_set_that_would_lower_a_count_raised_meanwhile_is_refused_by_the_write(
    live42, ddb, backups
):
    # GIVEN the count is raised to 1000 just before our set (read 42, -> 200) is sent
    other = aws.client("dynamodb")
    before_set(ddb, lambda: real(live42, 1000, ddb=other, reason="colleague"))
    # WHEN ours goes ahead without allow_decrease
    ran = setcount.run(live42, 200, reason="ours", dry_run=False, confirm=live42.table, ddb=ddb)
    result = ran.detail
    # THEN the write's own condition refused it: the colleague's 1000 stands, no audit of ours
    assert result.refused.startswith(
        f"Refusing to lower viewCount in {live42.table} from 1000 (live: it rose before the "
        "write) to 200"
    )
    assert "-p new_value 200 -p allow_decrease True" in result.command and ran.problem
    assert counter.read_count(live42, ddb=ddb) == 1000
    assert [(r["old"], r["new"]) for r in setrecord.read_audit()] == [(42, 1000)]
