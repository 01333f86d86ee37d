"""No secret reaches a parameter, an output notebook, an HTML report or a result."""

from __future__ import annotations

import pytest

from runbook_lib import counter, runner, sandbox
from runbook_lib.errors import InvalidInputError
from runbook_lib.redact import find_secrets, refuse_secret_parameters
from tests.conftest import scan_for_secrets


@pytest.mark.parametrize(
    "text",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        '"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        "-----BEGIN RSA PRIVATE KEY-----",
    ],
)
def test_patterns_catch_credentials(text):
    assert find_secrets(text)


def test_patterns_leave_ordinary_text_alone():
    assert not find_secrets("table resume.example.com-VisitorCount has viewCount 42")


@pytest.mark.parametrize(
    "params",
    [{"aws_secret_access_key": "x"}, {"token": "abc"}, {"table_name": "ASIAABCDEFGHIJKLMNOP"}],
)
def test_secret_parameters_are_refused(params):
    with pytest.raises(InvalidInputError, match=r"secret|credential"):
        refuse_secret_parameters(params)


@pytest.mark.notebook
def test_reports_hold_no_credentials_even_with_them_in_the_environment(target, ddb, tmp_path):
    """The kernel runs with the sandbox's dummy keys in its environment; none reach a report."""
    counter.init_counter(target, ddb=ddb)
    out = runner.run_notebook("02_status", {"table_name": target.table}, tmp_path)
    assert out.exit_code == 0
    assert scan_for_secrets(tmp_path) == []
    # and the scanner would have caught them: plant the dummy secret in a copy
    planted = tmp_path / "planted.html"
    planted.write_text(f"oops {sandbox.DUMMY_SECRET}")
    assert scan_for_secrets(tmp_path)
    planted.unlink()
