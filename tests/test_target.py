"""Target resolution order: parameter, environment, terraform output, defaults."""

from __future__ import annotations

import pytest

from runbook_lib.errors import InvalidInputError
from runbook_lib.target import resolve_target


def test_parameters_win_over_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNBOOK_TABLE", "from-env")
    target = resolve_target("from-param", terraform_dir=tmp_path)
    assert target.table == "from-param"
    assert target.sources["table"] == "parameter"


def test_environment_then_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNBOOK_TABLE", "env-table")
    target = resolve_target("", terraform_dir=tmp_path)
    assert (target.table, target.key_name, target.key_value, target.count_attribute) == (
        "env-table",
        "stat",
        "Quantity",
        "viewCount",
    )
    assert target.sources["table"] == "env RUNBOOK_TABLE"
    assert target.sources["key_name"] == "default"
    assert target.key == {"stat": {"S": "Quantity"}}


def test_no_table_anywhere_says_how_to_fix(tmp_path):
    with pytest.raises(InvalidInputError, match="RUNBOOK_TABLE"):
        resolve_target(terraform_dir=tmp_path)


@pytest.mark.parametrize("bad", ["ab", "has space", "x" * 256, "semi;colon"])
def test_invalid_table_names_are_refused(bad, tmp_path):
    with pytest.raises(InvalidInputError, match="not a valid DynamoDB table name"):
        resolve_target(bad, terraform_dir=tmp_path)


def test_sandbox_detection(moto_url, tmp_path):
    target = resolve_target("some-table", terraform_dir=tmp_path)
    assert target.is_sandbox and target.endpoint == moto_url
