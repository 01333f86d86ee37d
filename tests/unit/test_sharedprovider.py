"""tf.sharedprovider: when several Terraform commands may share one AWS provider process,
and that the process is started, handed over and stopped as it should be.

The provider here is a stand-in script at the place `terraform init` installs the real one:
it records that it started, prints the line the real one prints in debug mode, and waits.
That the real provider serves Terraform this way is tests/e2e/test_shared_provider_terraform.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from runbook_lib.tf.sharedprovider import PROVIDER, REATTACH_ENV, one_configuration, shared_provider
from tests.conftest import write_file

REATTACH = '{"registry.terraform.io/hashicorp/aws":{"Protocol":"grpc","Pid":1}}'
PROVIDER_TF = 'provider "aws" {\n  region = "eu-west-1"\n}\n'
DEATH_LIMIT_S = 60.0  # a safety limit on a wait for a condition, not a measured time


@dataclass
class FakeWorkspace:
    """What shared_provider reads of a tf.workspace.Workspace."""

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    sandbox: bool = True

    @property
    def shadow_top(self) -> Path:
        return self.workdir


def install_provider(workdir: Path, *, prints: bool = True) -> Path:
    """A stand-in provider where init puts the real one; it writes its pid to `started`."""
    write_file(workdir / "line", f"TF_REATTACH_PROVIDERS='{REATTACH}'\n")
    line = f'cat "{workdir / "line"}"' if prints else "exit 1"
    script = f'#!/bin/sh\necho $$ > "{workdir / "started"}"\n{line}\nexec sleep 600\n'
    binary = workdir / ".terraform/providers" / PROVIDER / "5.100.0/linux_amd64"
    path = write_file(binary / "terraform-provider-aws_v5.100.0_x5", script)
    path.chmod(0o755)
    return path


def alive(pid: int) -> bool:
    """Running: a zombie (dead, not yet reaped by whoever adopted it) is not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


@pytest.fixture
def stack(tmp_path: Path) -> FakeWorkspace:
    root = tmp_path / "shadow"
    write_file(root / "main.tf", PROVIDER_TF + 'resource "aws_dynamodb_table" "t" {}\n')
    install_provider(root)
    return FakeWorkspace(root, env={"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})


@pytest.mark.parametrize(
    ("files", "one"),
    [
        ({"main.tf": 'resource "aws_s3_bucket" "b" {}\n'}, True),  # the implied provider
        ({"main.tf": PROVIDER_TF}, True),
        ({"main.tf": PROVIDER_TF, "runbook_sandbox_override.tf": PROVIDER_TF}, True),
        ({"main.tf": PROVIDER_TF, "mods/x/main.tf": 'resource "aws_s3_bucket" "b" {}\n'}, True),
        ({"main.tf": PROVIDER_TF + PROVIDER_TF.replace("{", '{\n  alias = "w"')}, False),
        ({"main.tf": PROVIDER_TF, "extra.tf": PROVIDER_TF}, False),
        ({"mods/x/main.tf": PROVIDER_TF}, False),  # a module's own beside the root's implied
        ({".terraform/modules/vpc/main.tf": PROVIDER_TF}, False),  # a downloaded module's
        ({"main.tf.json": '{"provider": {"aws": {"region": "eu-west-1"}}}'}, False),
        ({"main.tf.json": '{"resource": {}}', "main.tf": PROVIDER_TF}, True),
        ({".terraform/providers/x/README.tf": PROVIDER_TF * 2, "main.tf": PROVIDER_TF}, True),
    ],
    ids=[
        "implied",
        "one-block",
        "override-amends",
        "module-without-block",
        "alias",
        "two-files",
        "module-block",
        "downloaded-module-block",
        "tf-json-provider",
        "tf-json-without",
        "provider-binaries-dir",
    ],
)
def test_one_configuration_of_the_provider(tmp_path, files, one):
    root = tmp_path / "top" / "envs" / "dev"
    for name, text in files.items():
        base = tmp_path / "top" if name.startswith("mods/") else root
        write_file(base / name, text)
    assert one_configuration(tmp_path / "top", root) is one


def test_commands_in_the_block_attach_to_one_process_stopped_after_it(stack):
    with shared_provider(stack) as proc:
        assert proc is not None
        assert stack.env[REATTACH_ENV] == REATTACH
        pid = int((stack.workdir / "started").read_text())
        assert alive(pid)
    assert REATTACH_ENV not in stack.env
    assert proc.poll() is not None, "the provider outlived the block"
    assert list(stack.workdir.parent.glob("*.provider.log")) == []


def test_an_error_in_the_block_still_stops_the_provider(stack):
    with pytest.raises(RuntimeError), shared_provider(stack) as proc:
        raise RuntimeError("a command failed")
    assert proc is not None and proc.poll() is not None
    assert REATTACH_ENV not in stack.env


@pytest.mark.parametrize("case", ["real-aws", "two-configurations", "user-reattach", "no-init"])
def test_where_it_does_not_apply_nothing_is_started(stack, case):
    if case == "real-aws":
        stack.sandbox = False
    elif case == "two-configurations":
        write_file(stack.workdir / "west.tf", PROVIDER_TF.replace("{", '{\n  alias = "west"'))
    elif case == "user-reattach":
        stack.env[REATTACH_ENV] = "the user's own"
    else:
        (stack.workdir / ".terraform/providers").rename(stack.workdir / "elsewhere")
    before = dict(stack.env)
    with shared_provider(stack) as proc:
        assert proc is None
        assert stack.env == before
    assert stack.env == before
    assert not (stack.workdir / "started").exists()


def test_a_provider_that_exits_before_its_line_leaves_terraform_to_start_its_own(tmp_path):
    root = tmp_path / "shadow"
    write_file(root / "main.tf", PROVIDER_TF)
    install_provider(root, prints=False)
    ws = FakeWorkspace(root)
    with shared_provider(ws) as proc:
        assert proc is None
        assert REATTACH_ENV not in ws.env
    assert (root / "started").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_a_killed_runbook_leaves_no_provider_behind(stack):
    """SIGKILL gives the runbook no chance to stop it: the kernel's parent-death signal does."""
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_sharedprovider import FakeWorkspace
        from pathlib import Path
        from runbook_lib.tf.sharedprovider import shared_provider
        ws = FakeWorkspace(Path({str(stack.workdir)!r}), env={{"A": "b"}})
        with shared_provider(ws) as proc:
            print(proc.pid, flush=True)
            time.sleep(600)
        """
    )
    runbook = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(runbook.stdout.readline())
        assert alive(pid)
    finally:
        runbook.send_signal(signal.SIGKILL)
        runbook.wait()
    deadline = time.monotonic() + DEATH_LIMIT_S
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), "the provider outlived the killed runbook"
