"""The bad-input catalogue (tests/badinput_cases.py) itself, without a server: it covers
every notebook, category and table state, and the pre-kernel checks' limits are the
modules' own."""

from __future__ import annotations

import collections

import pytest

from runbook_lib.aws import counter
from runbook_lib.notebook import runner
from tests.badinput_cases import CASES, FILE, PARAMETER, STATE, STATES

pytestmark = pytest.mark.badinput


def test_catalogue_covers_every_notebook_and_category() -> None:
    by_group = collections.Counter(c.group for c in CASES)
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)
    assert by_group[PARAMETER] >= 10 and by_group[FILE] >= 10 and by_group[STATE] >= 10
    prefixes = {c.id.split("/")[0] for c in CASES if c.group == PARAMETER}
    assert {"init", "status", "set", "04", "05", "06", "runner", "target"} <= prefixes
    states = {c.state for c in CASES}
    assert states == set(STATES), "every table state is exercised"


# ---- the limits the pre-kernel checks use are the modules' own ------------------------------


def test_parameter_limits_match_the_modules_that_enforce_them() -> None:
    from runbook_lib.notebook import paramcheck
    from runbook_lib.steps import history

    assert paramcheck.MAX_COUNT == counter.MAX_COUNT
    assert paramcheck.MAX_HISTORY_DAYS == history.MAX_HISTORY_DAYS
    for notebook in runner.available_notebooks():
        path = runner.notebook_path(notebook)
        declared = set(runner.declared_parameters(path))
        assert paramcheck.declared_names(path) == declared, f"{notebook}: read as papermill does"
        rules = paramcheck.RULES.get(notebook, {})
        assert set(rules) <= declared, f"{notebook}: a rule for a parameter it does not have"
    assert {"03_set_count", "06_history"} <= set(paramcheck.RULES)
