"""`runbook sandbox up | env | status | down` as a user runs them (separate processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook_lib.sandbox import server as sandbox

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = str(Path(sys.executable).with_name("runbook"))


def _run(args, env, timeout=300):
    return subprocess.run(
        [RUNBOOK, *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT
    )


@pytest.fixture
def clean_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RUNBOOK_"))}
    env["RUNBOOK_STATE_DIR"] = str(tmp_path / "state")
    env["RUNBOOK_HOME"] = str(ROOT)
    return env


def _env_from(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            out[key] = value
    return out


def _assert_unset_round_trip(env: dict[str, str], exported: dict[str, str]) -> None:
    """In one shell: eval env, eval env --unset; every exported variable is gone, the
    shell's own variables stay."""
    shell_env = {**env, "AWS_ENDPOINT_URL_S3": "http://localhost:1", "MY_OWN": "kept"}
    script = f'eval "$({RUNBOOK} sandbox env)"; eval "$({RUNBOOK} sandbox env --unset)"; env -0'
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=shell_env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    left = dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)
    assert set(exported) & set(left) == set(), "sandbox variables left after --unset"
    assert "AWS_ENDPOINT_URL_S3" not in left  # a per-service endpoint on loopback too
    assert left["MY_OWN"] == "kept"


def test_env_unset_needs_no_sandbox_and_names_every_exported_variable(clean_env):
    """After `sandbox down` the shell still holds the variables: --unset works then too."""
    done = _run(["sandbox", "env", "--unset"], clean_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("unset ") and done.stdout.count("\n") == 1
    names = set(done.stdout.split()[1:])
    info = sandbox.SandboxInfo(
        url="http://127.0.0.1:1", pid=0, outputs={out: "x" for _var, out in sandbox.OUTPUT_ENV}
    )
    assert set(info.env()) <= names
    assert {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= names
    assert {"AWS_REGION", "AWS_DEFAULT_REGION", "RUNBOOK_TABLE"} <= names


def test_unset_goes_with_env_only(clean_env):
    done = _run(["sandbox", "up", "--unset"], clean_env)
    assert done.returncode == 2 and "--unset goes with `runbook sandbox env`" in done.stderr
    assert not Path(clean_env["RUNBOOK_STATE_DIR"], "sandbox", "sandbox.json").exists()


@pytest.mark.slow
def test_up_env_reuse_down_without_terraform(clean_env):
    up = _run(["sandbox", "up", "--no-terraform", "--days", "2"], clean_env)
    try:
        assert up.returncode == 0, up.stderr
        assert "No terraform binary found" not in up.stderr  # it was asked not to use it
        assert "creating the same table" in up.stderr
        exported = _env_from(up.stdout)
        assert exported["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert exported["RUNBOOK_TABLE"] == "resume.example.com-VisitorCount"

        again = _run(["sandbox", "up", "--no-terraform"], clean_env)
        assert again.returncode == 0
        assert "already running" in again.stderr and "reusing it" in again.stderr
        assert _env_from(again.stdout)["AWS_ENDPOINT_URL"] == exported["AWS_ENDPOINT_URL"]

        env_cmd = _run(["sandbox", "env"], clean_env)
        assert "unset AWS_PROFILE" in env_cmd.stdout
        assert _env_from(env_cmd.stdout) == exported
        _assert_unset_round_trip(clean_env, exported)

        # the seeded sandbox is healthy as the status check sees it
        from runbook_lib.model import Target
        from runbook_lib.steps import status

        old = dict(os.environ)
        os.environ.update(exported)
        try:
            report = status.run_status(
                Target(table=exported["RUNBOOK_TABLE"], endpoint=exported["AWS_ENDPOINT_URL"])
            )
        finally:
            os.environ.clear()
            os.environ.update(old)
        assert report.healthy, str(report)
        assert report.count and report.count > 0
        state = json.loads(
            Path(clean_env["RUNBOOK_STATE_DIR"], "sandbox", "sandbox.json").read_text()
        )
        pid = state["pid"]
    finally:
        down = _run(["sandbox", "down"], clean_env)
    assert down.returncode == 0 and "stopped" in down.stderr
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert _run(["sandbox", "env"], clean_env).returncode == 1
    assert "No sandbox is running" in _run(["sandbox", "down"], clean_env).stderr


@pytest.mark.slow
@pytest.mark.terraform
def test_a_create_whose_answer_was_lost_does_not_fail_sandbox_up(tmp_path, monkeypatch):
    """The provider sometimes loses moto's answer to a create and its retry meets the new
    table ("already exists"). A table made before the apply is that state exactly: on a
    fresh server, provision starts it over instead of failing `make demo`."""
    from runbook_lib.sandbox import provision
    from runbook_lib.sandbox import server as sandbox
    from runbook_lib.tf.binary import find_terraform
    from runbook_lib.tf.tabledef import table_definition

    if find_terraform() is None:
        pytest.skip("no terraform binary on PATH")
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(tmp_path / "state"))
    pid, url = sandbox.start_server(log_path=tmp_path / "moto.log")
    try:
        info = sandbox.SandboxInfo(url=url, pid=pid)
        create = table_definition()["create_table"]
        provision.sandbox_client(info.url, info.region, "dynamodb").create_table(**create)
        logs: list[str] = []
        provision.provision(info, days=1, use_terraform=True, log=logs.append)
        # the reset happens only after an apply failed on the collision
        assert any("resetting the new sandbox" in line for line in logs), logs
        assert info.terraform and info.outputs["table_name"] == create["TableName"]
        ddb = provision.sandbox_client(info.url, info.region, "dynamodb")
        item = ddb.get_item(TableName=create["TableName"], Key={"stat": {"S": "Quantity"}})
        assert "Item" in item, "the sandbox was seeded after the second apply"
    finally:
        sandbox.stop_pid(pid)
