"""The rules every write step shares (steps/confirm.py): no server needed."""

from __future__ import annotations

import pytest

from runbook_lib.errors import ConfirmationError, DecreaseRefusedError, InvalidInputError
from runbook_lib.model import Target
from runbook_lib.steps.common.confirm import refuse_decrease, require_confirmation, require_flag

TARGET = Target(table="resume-VisitorCount")


def test_confirmation_rules():
    assert require_confirmation(TARGET, True, None) is False
    with pytest.raises(Exception, match="confirm must equal the table name"):
        require_confirmation(TARGET, False, "wrong")
    assert require_confirmation(TARGET, False, TARGET.table) is True
    with pytest.raises(InvalidInputError):
        require_confirmation(TARGET, "no", TARGET.table)


def test_a_missing_confirmation_says_nothing_was_written_and_how_to_apply():
    with pytest.raises(ConfirmationError, match=r"got nothing\. Nothing was written") as err:
        require_confirmation(TARGET, False, None)
    assert err.value.hint == f"re-run with -p dry_run False -p confirm {TARGET.table}."


@pytest.mark.parametrize("value", ["False", "True", 0, 1, None])
def test_a_switch_that_guards_a_write_is_strictly_true_or_false(value):
    with pytest.raises(InvalidInputError, match="allow_decrease must be True or False"):
        require_flag("allow_decrease", value)


def test_refuse_decrease_refuses_a_lower_count_unless_allowed():
    with pytest.raises(DecreaseRefusedError, match="from 10 \\(live\\) to 3 \\(backup b\\)"):
        refuse_decrease(TARGET, 10, 3, "backup b", allow_decrease=False)
    refuse_decrease(TARGET, 10, 3, "backup b", allow_decrease=True)
    refuse_decrease(TARGET, 3, 10, "backup b", allow_decrease=False)
