"""One AWS provider process for the several Terraform commands of one sandbox run.

Terraform starts the (large) AWS provider afresh several times in every command: for its
schemas, then for each graph walk, about 1.2 CPU s each time. Against the sandbox that is
most of a command's CPU (measured here: a no-change plan 4.6 CPU s of Terraform, 1.0 with
the provider shared; a migration 20.6 -> 14.8). Started once in debug mode, the same binary
from the workspace's own `init`
prints a TF_REATTACH_PROVIDERS value; Terraform given it makes the same calls to that one
process and starts none of its own.

Only where nothing can tell the difference:
- a sandbox run (a loopback endpoint): against real AWS, Terraform starts the user's
  provider exactly as it always does;
- one configuration of the AWS provider (one `provider "aws"` block at most, in the root):
  a reattached provider is configured by each command's walk, and with two configurations
  the last one configured would serve both;
- one installed version of it.
Anything else, or a provider that does not start, and Terraform starts its own as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

PROVIDER = "registry.terraform.io/hashicorp/aws"
REATTACH_ENV = "TF_REATTACH_PROVIDERS"
_REATTACH_LINE = re.compile(r"TF_REATTACH_PROVIDERS='(\{.*\})'")
_PROVIDER_BLOCK = re.compile(r'^\s*provider\s+"aws"', re.MULTILINE)
START_LIMIT_S = 60.0  # a safety limit, not a wait: the line comes as soon as it is up
_PR_SET_PDEATHSIG = 1


class _Workspace(Protocol):
    """What this needs of tf.workspace.Workspace (which imports this module)."""

    workdir: Path
    env: dict[str, str]
    sandbox: bool

    @property
    def shadow_top(self) -> Path: ...


def provider_binary(workdir: Path) -> Path | None:
    """The AWS provider `terraform init` installed for workdir, when exactly one version is."""
    found = sorted(
        (workdir / ".terraform" / "providers" / PROVIDER).glob("*/*/terraform-provider-aws*")
    )
    return found[0].resolve() if len(found) == 1 else None


def one_configuration(top: Path, root: Path) -> bool:
    """Whether a single configuration of the AWS provider serves the whole stack: at most one
    `provider "aws"` block, in the root folder's own files (a module's block, or one in a
    downloaded module, is a second configuration beside the root's implied one). Override
    files only amend a block; a .tf.json that configures a provider is not read here, so it
    counts as a second one."""
    in_root = 0
    for path in _configuration_files(top):
        if path.name.endswith(".tf.json"):
            if '"provider"' in path.read_text(errors="replace"):
                return False
            continue
        if path.name.endswith("override.tf"):
            continue
        blocks = len(_PROVIDER_BLOCK.findall(path.read_text(errors="replace")))
        if blocks and path.parent != root:
            return False
        in_root += blocks
    return in_root <= 1


def _configuration_files(top: Path) -> Iterator[Path]:
    """Every .tf and .tf.json file of the copy: its folders and the modules `init`
    downloaded into .terraform/modules (not the provider binaries beside them)."""
    for path in top.rglob("*.tf*"):
        parts = path.relative_to(top).parts
        if any(a == ".terraform" and b != "modules" for a, b in itertools.pairwise(parts)):
            continue
        if path.is_file() and path.name.endswith((".tf", ".tf.json")):
            yield path


@contextlib.contextmanager
def shared_provider(ws: _Workspace) -> Iterator[subprocess.Popen[bytes] | None]:
    """Within the block, the workspace's Terraform commands attach to one provider process
    (yielded), or start their own as always (None: not a case this module takes). Call it
    after `ws.init()`; the process is stopped when the block ends, however it ends."""
    binary = provider_binary(ws.workdir) if ws.sandbox and REATTACH_ENV not in ws.env else None
    if binary is None or not one_configuration(ws.shadow_top, ws.workdir):
        yield None
        return
    log = ws.shadow_top.with_name(ws.shadow_top.name + ".provider.log")
    proc = _start(binary, ws, log)
    try:
        value = _reattach_value(proc, log)
        if value is not None:
            ws.env[REATTACH_ENV] = value
        yield proc if value is not None else None
    finally:
        ws.env.pop(REATTACH_ENV, None)
        _stop(proc)
        log.unlink(missing_ok=True)


def _start(binary: Path, ws: _Workspace, log: Path) -> subprocess.Popen[bytes]:
    """The provider in debug mode, where Terraform would start it (the root's folder: a
    relative path in the configuration is read from there) and with Terraform's
    environment. Its own session: a Ctrl-C reaches Terraform, which finishes its call in
    flight with this provider; the provider stops after it (or with this process)."""
    # started in debug mode the provider refuses a CA bundle on its client; the sandbox is
    # plain HTTP on loopback, so it never needs one
    env = {k: v for k, v in ws.env.items() if k != "AWS_CA_BUNDLE"}
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(binary), "-debug"],
            cwd=ws.workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


def _die_with_parent() -> None:
    """Linux: the provider gets SIGTERM when the runbook process dies, even by SIGKILL,
    so a killed run leaves no provider waiting for a Terraform that never comes."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _reattach_value(proc: subprocess.Popen[bytes], log: Path) -> str | None:
    """The provider's TF_REATTACH_PROVIDERS value, once printed; None if it exits first."""
    deadline = time.monotonic() + START_LIMIT_S
    while time.monotonic() < deadline:
        match = _REATTACH_LINE.search(log.read_text(errors="replace"))
        if match:
            return match.group(1)
        if proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
