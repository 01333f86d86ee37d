"""The status check's rows as pure functions of what was read: no server needed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runbook_lib import paths
from runbook_lib.aws.backups import PitrStatus
from runbook_lib.errors import AccessDeniedError
from runbook_lib.model import Target
from runbook_lib.steps import status
from runbook_lib.steps.reset import resets
from runbook_lib.steps.status import checks as statuschecks
from runbook_lib.steps.status import report as statusreport


@pytest.mark.parametrize(
    ("status", "said"),
    [("DISABLED", "PITR is DISABLED"), ("ENABLING", "PITR is ENABLING"), (None, "PITR is unknown")],
)
def test_pitr_not_on_is_a_warning_in_dynamodbs_own_word(status, said) -> None:
    row = statuschecks.check_pitr(PitrStatus("t", enabled=False, status=status), None)
    assert (row.state, row.detail) == (statusreport.WARN, said)


def test_pitr_on_is_ok_and_an_unreadable_setting_is_not_checked() -> None:
    on = statuschecks.check_pitr(PitrStatus("t", enabled=True, status="ENABLED"), None)
    assert on.state == statusreport.OK
    denied = statuschecks.check_pitr(None, AccessDeniedError("no DescribeContinuousBackups"))
    assert denied.state == statusreport.NOT_CHECKED


# ---- the hints name the stack the run was given -----------------------------------------


def test_the_hints_name_the_stack_the_run_was_given() -> None:
    """With terraform_dir of another stack, "enable it in terraform/" sent the reader to the
    project's own stack; the hint names the folder the run was given."""
    off = PitrStatus("t", enabled=False, status="DISABLED")
    target = Target(table="t")

    assert "enable it in terraform/ (" in statuschecks.check_pitr(off, None).next_step
    assert statuschecks.check_alarms([], None, target).next_step == "apply terraform/ (alarms.tf)"
    other = statuschecks.check_pitr(off, None, stack="stacks/prod/").next_step
    alarms = statuschecks.check_alarms([], None, target, stack="stacks/prod/").next_step
    assert other.startswith("enable it in stacks/prod/ (point_in_time_recovery)")
    assert "stacks/prod/" in alarms and "terraform/" not in alarms


def test_the_stack_is_named_relative_and_the_projects_own_as_terraform(tmp_path, monkeypatch):
    own = paths.terraform_dir()
    stack = tmp_path / "stacks" / "prod"
    stack.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)

    assert status.stack_label(None) == status.stack_label("") == "terraform/"
    assert status.stack_label(own) == status.stack_label(str(own) + "/") == "terraform/"
    assert status.stack_label("stacks/prod") == "stacks/prod/"
    assert status.stack_label(stack) == "stacks/prod/", "absolute: relative to the cwd"
    monkeypatch.chdir(own)
    label = status.stack_label(stack)
    assert not Path(label).is_absolute() and label.endswith("stacks/prod/")


# ---- the drop check: a repaired reset warns, an open one fails -----------------------------

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
SERIES = [
    (dt.datetime(2026, 5, 4, 0, 30, tzinfo=UTC), 4676.0),
    (dt.datetime(2026, 5, 4, 0, 35, tzinfo=UTC), 5.0),
    (dt.datetime(2026, 5, 4, 1, 45, tzinfo=UTC), 23.0),
]
REPAIR = resets.Write(dt.datetime(2026, 5, 4, 1, 58, tzinfo=UTC), 23, 4699, resets.RECOVER, "ab")


def test_a_repaired_reset_is_a_warning_that_says_how() -> None:
    found = resets.settle(resets.find_drops(SERIES), SERIES, [REPAIR], live=4699)
    row = statuschecks.check_drops(SERIES, None, Target(table="t"), 24, NOW, found=found)

    assert row.state == statusreport.WARN
    assert row.detail == (
        "reset at 00:35 UTC (4676 → 5), repaired at 01:58 UTC by 07_recover (+4676, audit id ab)"
    )
    assert "07_recover" not in row.next_step
    report = statusreport.StatusReport(Target(table="t"), [row], 4699)
    assert report.healthy and report.verdict.startswith("HEALTHY with 1 warning(s)")


def test_an_open_reset_fails_and_sends_to_07_recover() -> None:
    found = resets.settle(resets.find_drops(SERIES), SERIES, [], live=24)
    row = statuschecks.check_drops(SERIES, None, Target(table="t"), 24, NOW, found=found)

    assert row.state == statusreport.FAIL
    assert row.detail == "count dropped from 4676 to 5 at 00:35 UTC"
    assert row.next_step.startswith("rebuild the count from CloudWatch: runbook run 07_recover")
    unjudged = statuschecks.check_drops(SERIES, None, Target(table="t"), 24, NOW)
    assert unjudged.state == statusreport.FAIL, "without `found`: the drops as the series shows"
