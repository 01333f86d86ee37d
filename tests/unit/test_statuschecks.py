"""The status check's rows as pure functions of what was read: no server needed."""

from __future__ import annotations

import pytest

from runbook_lib.aws.backups import PitrStatus
from runbook_lib.errors import AccessDeniedError
from runbook_lib.steps import statuschecks, statusreport


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
