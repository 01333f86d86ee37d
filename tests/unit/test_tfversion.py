"""Version pins: read from the stack, checked against the binary and the provider mirror."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from runbook_lib.errors import TerraformError, TerraformPinError
from runbook_lib.steps import migrate
from runbook_lib.tf import version as tfversion
from runbook_lib.tf.binary import find_terraform


@pytest.mark.parametrize(
    ("constraint", "version", "ok"),
    [
        ("~> 1.3.7", (1, 3, 9), True),
        ("~> 1.3.7", (1, 4, 0), False),
        ("~> 1.3.7", (1, 11, 4), False),
        ("~> 1.3", (1, 11, 4), True),
        ("~> 1.3", (2, 0, 0), False),
        (">= 1.2, < 1.7", (1, 6, 6), True),
        (">= 1.2, < 1.7", (1, 7, 0), False),
        ("1.11.4", (1, 11, 4), True),
        ("!= 1.11.4", (1, 11, 4), False),
        ("~> 5.0", (5, 100, 0), True),
        ("~> 4.0", (5, 100, 0), False),
        (">= 4.0", (5, 100, 0), True),
    ],
)
def test_constraints_read_as_terraform_reads_them(constraint, version, ok):
    assert tfversion.satisfies(version, constraint) is ok


def test_an_unreadable_constraint_is_named():
    with pytest.raises(TerraformError, match="'>= one'"):
        tfversion.satisfies((1, 0, 0), ">= one")


def _fake_terraform(tmp_path: Path, version: str) -> str:
    """A stand-in binary that only answers `version -json` (nothing else is run here)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "terraform"
    path.write_text(f"#!/bin/sh\necho '{json.dumps({'terraform_version': version})}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _stack(folder: Path, terraform_block: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "versions.tf").write_text(f"terraform {{\n{terraform_block}\n}}\n")
    return folder


def test_a_core_pin_the_binary_cannot_meet_is_refused_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNBOOK_TERRAFORM", _fake_terraform(tmp_path, "1.11.4"))
    stack = _stack(tmp_path / "s", '  required_version = "~> 1.3.7"')
    with pytest.raises(TerraformPinError, match=r"requires Terraform ~> 1\.3\.7.*1\.11\.4"):
        tfversion.check_pins(stack)


def test_a_provider_pin_the_mirror_cannot_meet_is_refused_naming_it(tmp_path, monkeypatch):
    if not tfversion.mirror_aws_versions():
        pytest.skip("no local provider mirror: the registry decides (init's error is mapped)")
    monkeypatch.setenv("RUNBOOK_TERRAFORM", _fake_terraform(tmp_path, "1.11.4"))
    block = (
        "  required_providers {\n    aws = {\n"
        '      source  = "hashicorp/aws"\n      version = "~> 3.0"\n    }\n  }'
    )
    with pytest.raises(TerraformPinError, match=r"hashicorp/aws provider to ~> 3\.0"):
        tfversion.check_pins(_stack(tmp_path / "s", block))


def test_below_1_7_the_removed_strategy_becomes_state_rm_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNBOOK_TERRAFORM", _fake_terraform(tmp_path, "1.5.7"))
    stack = _stack(tmp_path / "s", '  required_version = ">= 1.3.0"')
    said: list[str] = []
    assert migrate._strategy_for(stack, "removed", said.append) == "state_rm"
    assert "1.5.7" in said[0] and "state_rm" in said[0]
    assert migrate._strategy_for(stack, "ignore_changes", said.append) == "ignore_changes"
    monkeypatch.setenv("RUNBOOK_TERRAFORM", _fake_terraform(tmp_path / "new", "1.11.4"))
    assert migrate._strategy_for(_stack(tmp_path / "t", ""), "removed", said.append) == "removed"


def test_an_init_refusing_a_pin_reads_as_the_pin(tmp_path):
    stack = _stack(tmp_path / "s", '  required_version = "~> 1.3.7"')
    exc = TerraformError("Error: Unsupported Terraform Core version\n...")
    mapped = tfversion.pin_error_from_init(exc, stack)
    assert isinstance(mapped, TerraformPinError) and "~> 1.3.7" in str(mapped)
    other = TerraformError("Error: something else")
    assert tfversion.pin_error_from_init(other, stack) is other


def test_the_machines_terraform_version_is_read():
    if os.environ.get("RUNBOOK_TERRAFORM") is None and find_terraform() is None:
        pytest.skip("no terraform binary on PATH")
    version = tfversion.binary_version()
    assert version is not None and version >= (1, 0, 0)


LOCK = """provider "registry.terraform.io/hashicorp/aws" {
  version     = "%s"
  constraints = ">= 4.0.0"
  hashes = [
    "h1:uZO0XsK1RW1mBRn8SsVPXT76pSSbyb4SmA0eLJsOe38=",
  ]
}
"""


def test_a_sandbox_copy_leaves_out_a_lock_file_the_mirror_cannot_meet(tmp_path, monkeypatch):
    """A committed lock at a version the mirror lacks would make init fail whatever the pins
    allow: the sandbox's private copy leaves it out (and says so), the user's file is kept;
    against real AWS, and with a lock the mirror meets, the lock is copied as it is."""
    from runbook_lib.tf.workspace import workspace

    available = tfversion.mirror_aws_versions()
    if not available:
        pytest.skip("no local provider mirror: the registry decides")
    have = ".".join(map(str, available[-1]))
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(tmp_path / "state"))
    sandbox = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_REGION": "us-east-1"}
    real = {"AWS_REGION": "us-east-1"}
    for locked, env, copied in (
        ("5.82.2", sandbox, False),
        (have, sandbox, True),
        ("5.82.2", real, True),
    ):
        stack = _stack(tmp_path / f"s-{locked}-{len(env)}", "")
        (stack / "main.tf").write_text('provider "aws" {\n  region = "us-east-2"\n}\n')
        (stack / ".terraform.lock.hcl").write_text(LOCK % locked)
        said: list[str] = []
        ws = workspace(stack, env=env, stream=said.append)
        ws.sync()
        assert (ws.workdir / ".terraform.lock.hcl").is_file() is copied, (locked, env)
        assert (stack / ".terraform.lock.hcl").read_text() == LOCK % locked
        assert any("5.82.2" in line for line in said) is (not copied), said
