"""No secret reaches a parameter, an output notebook, an HTML report or a result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook_lib import aws
from runbook_lib.aws import counter
from runbook_lib.errors import InvalidInputError
from runbook_lib.notebook import runner
from runbook_lib.redact import find_secrets, refuse_secret_parameters
from runbook_lib.sandbox import server as sandbox
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


# ---- the sandbox's dummy keys never leave loopback -------------------------------------------

RUNBOOK = str(Path(sys.executable).with_name("runbook"))


@pytest.fixture
def leftover_sandbox_keys(monkeypatch):
    """A shell after `eval "$(runbook sandbox env)"` whose AWS_ENDPOINT_URL was unset."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", sandbox.DUMMY_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", sandbox.DUMMY_SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # were anything sent after all, it would go to a closed loopback port, never to AWS
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")


def _one_line_refusal(text: str) -> None:
    assert len(text.strip().splitlines()) == 1, text
    assert "sandbox's dummy AWS keys" in text
    assert 'eval "$(runbook sandbox env --unset)"' in text
    assert sandbox.DUMMY_KEY_ID not in text and sandbox.DUMMY_SECRET not in text


@pytest.mark.parametrize("endpoint", [None, "https://dynamodb.example.com"])
def test_dummy_keys_are_refused_off_loopback_before_any_request(
    leftover_sandbox_keys, monkeypatch, endpoint
):
    import boto3

    if endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    sess = boto3.session.Session(region_name="us-east-1")
    sent: list[str] = []

    def stop_at_the_door(request, **_):
        sent.append(request.url)
        raise AssertionError(f"a request was about to be sent to {request.url}")

    sess.events.register("before-send", stop_at_the_door)
    with pytest.raises(aws.SandboxCredentialsError) as caught:
        aws.caller_identity(sess)
    _one_line_refusal(str(caught.value))
    assert sent == [], "nothing may be sent with the sandbox's keys"
    assert isinstance(caught.value, InvalidInputError)  # bad usage: exit 2


def test_dummy_keys_passed_explicitly_are_refused_too(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(aws.SandboxCredentialsError):
        aws.client(
            "dynamodb",
            aws.session("us-east-1"),
            aws_access_key_id=sandbox.DUMMY_KEY_ID,
            aws_secret_access_key=sandbox.DUMMY_SECRET,
        )


def test_dummy_keys_work_on_the_sandbox(moto_url):
    assert os.environ["AWS_ACCESS_KEY_ID"] == sandbox.DUMMY_KEY_ID
    assert "TableNames" in aws.client("dynamodb").list_tables()


def test_other_keys_off_loopback_are_left_to_aws(leftover_sandbox_keys, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    made = aws.client("dynamodb")  # made, never used: no request
    assert made.meta.endpoint_url == "https://dynamodb.us-east-1.amazonaws.com"


def test_runbook_run_refuses_the_dummy_keys_with_exit_2_and_writes_nothing(
    leftover_sandbox_keys, tmp_path
):
    env = dict(os.environ)
    env["RUNBOOK_REPORTS"] = str(tmp_path / "reports")
    done = subprocess.run(
        [RUNBOOK, "run", "02_status"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2, done.stderr
    _one_line_refusal(done.stderr)
    assert done.stdout == ""
    assert not (tmp_path / "reports").exists(), "no report folder where nothing ran"
