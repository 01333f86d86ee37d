"""The status check against a real moto server: verdicts, not just that it ran."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys

import pytest

from runbook_lib import aws
from tests.conftest import ROOT


def _states(report):
    return {c.name: c.state for c in report.checks}


def _put_counts(target, values, minutes_apart=5, now=None):
    cw = aws.client("cloudwatch")
    now = now or dt.datetime.now(dt.timezone.utc)
    data = [
        {
            "MetricName": target.metric_name,
            "Dimensions": [{"Name": "TableName", "Value": target.table}],
            "Timestamp": now - dt.timedelta(minutes=minutes_apart * (len(values) - i)),
            "Value": float(v),
            "Unit": "Count",
        }
        for i, v in enumerate(values)
    ]
    cw.put_metric_data(Namespace=target.metric_namespace, MetricData=data)


# ---- could not look: NOT CHECKED, never "fine"; an unreachable endpoint is one line -------


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_):
        yield self.data


def _dynamodb_error(code: str, message: str):
    """A before-send hook answering with a DynamoDB error (botocore fault injection)."""
    from botocore.awsrequest import AWSResponse

    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})

    def answer(request, **_):
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 400, headers, _Body(body.encode()))

    return answer


@pytest.fixture
def inject(monkeypatch):
    """inject["dynamodb.ListBackups"] = hook: clients made from now on answer that
    operation with the hook's response instead of sending it."""
    import boto3

    hooks: dict = {}
    original = boto3.session.Session.client

    def client(self, *args, **kwargs):
        made = original(self, *args, **kwargs)
        for event, hook in hooks.items():
            made.meta.events.register(f"before-send.{event}", hook)
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    return hooks


def _closed_port_url() -> str:
    """A loopback URL nothing listens on: bound, read, closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.notebook
def test_runbook_run_against_a_stopped_sandbox_is_one_line_and_exit_1(tmp_path):
    """GIVEN AWS_ENDPOINT_URL pointing at a closed loopback port (a stale sandbox shell)
    WHEN `runbook run 02_status` runs THEN one line says so, exit 1, never UNHEALTHY."""
    url = _closed_port_url()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNBOOK_")}
    env.update(
        AWS_ENDPOINT_URL=url,
        RUNBOOK_TABLE="resume-VisitorCount",
        RUNBOOK_STATE_DIR=str(tmp_path / "state"),
        RUNBOOK_HOME=os.environ.get("RUNBOOK_HOME", str(ROOT)),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "runbook_lib.cli", "run", "02_status", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    expected = (
        f"02_status: cannot reach {url}: the sandbox is not running; run `runbook sandbox up` "
        "or unset AWS_ENDPOINT_URL"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (proc.stdout + proc.stderr).strip().splitlines() == [expected]
