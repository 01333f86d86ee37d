"""Terraform and provider version pins: which ones this machine can satisfy.

A stack says `required_version = "~> 1.3.7"` or pins `hashicorp/aws` to `~> 4.0`. Before
anything is written the runbook checks those pins against the terraform binary and, where
the provider comes from a local filesystem mirror, against the versions the mirror holds,
and names the pin it cannot satisfy. `removed` blocks need Terraform 1.7.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from runbook_lib.errors import TerraformError, TerraformPinError
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.hcledit import parse_hcl
from runbook_lib.tf.mirror import REGISTRY_HOST, find_provider_mirror

Version = tuple[int, int, int]
REMOVED_BLOCK_SINCE: Version = (1, 7, 0)  # Terraform's first release with `removed`
_CLAUSE = re.compile(r"^\s*(~>|>=|<=|!=|=|>|<)?\s*v?(\d+(?:\.\d+){0,2})\S*\s*$")


def parse_version(text: str) -> Version:
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]]
    major, minor, patch = [*parts, 0, 0, 0][:3]  # missing parts are 0
    return major, minor, patch


def binary_version(binary: str | None = None) -> Version | None:
    """The terraform binary's version (`terraform version -json`), None without one."""
    binary = binary or find_terraform()
    return None if binary is None else _version_of(binary)


@functools.lru_cache(maxsize=8)
def _version_of(binary: str) -> Version:
    try:
        out = subprocess.run(
            [binary, "version", "-json"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
        return parse_version(json.loads(out)["terraform_version"])
    except (OSError, ValueError, KeyError, subprocess.SubprocessError) as exc:
        raise TerraformError(f"Cannot read the terraform binary's version: {exc}") from exc


def satisfies(version: Version, constraint: str) -> bool:
    """Terraform's version-constraint grammar: comma-separated `op version` clauses."""
    for clause in constraint.split(","):
        match = _CLAUSE.match(clause)
        if not match:
            raise TerraformError(f"Cannot read the version constraint {constraint!r}.")
        op, text = match.group(1) or "=", match.group(2)
        if not _clause_holds(version, op, parse_version(text), text.count(".") + 1):
            return False
    return True


def _clause_holds(version: Version, op: str, bound: Version, parts: int) -> bool:
    if op == "~>":  # ~> 1.3.7 is >= 1.3.7, < 1.4.0; ~> 1.3 is >= 1.3, < 2.0
        stop = max(parts - 1, 1)
        upper = (*bound[: stop - 1], bound[stop - 1] + 1, *([0] * (3 - stop)))
        return bound <= version < upper
    return {
        "=": version == bound,
        "!=": version != bound,
        ">": version > bound,
        ">=": version >= bound,
        "<": version < bound,
        "<=": version <= bound,
    }[op]


def _terraform_blocks(folder: Path) -> Iterable[dict]:
    for path in sorted(folder.glob("*.tf")):
        for block in parse_hcl(path.read_text(), str(path)).get("terraform", []):
            yield block or {}


def required_versions(folder: Path) -> list[str]:
    return [
        str(b["required_version"]) for b in _terraform_blocks(folder) if "required_version" in b
    ]


def aws_provider_pins(folder: Path) -> list[str]:
    pins = []
    for block in _terraform_blocks(folder):
        for providers in block.get("required_providers") or []:
            spec = (providers or {}).get("aws")
            if isinstance(spec, dict) and spec.get("version"):
                pins.append(str(spec["version"]))
            elif isinstance(spec, str):
                pins.append(spec)
    return pins


def mirror_aws_versions() -> list[Version]:
    """hashicorp/aws versions in the local filesystem mirror ([] without one)."""
    mirror = find_provider_mirror()
    if mirror is None:
        return []
    folder = mirror / REGISTRY_HOST / "hashicorp" / "aws"
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    found = {
        parse_version(m.group(1)) for n in names if (m := re.match(r"^(?:.*_)?(\d+\.\d+\.\d+)", n))
    }
    return sorted(found)


LOCK_FILE = ".terraform.lock.hcl"
_LOCKED_AWS = re.compile(
    r'provider\s+"registry\.terraform\.io/hashicorp/aws"\s*\{[^}]*?version\s*=\s*"([^"]+)"', re.S
)


def locked_aws_unavailable(folder: Path) -> str | None:
    """The hashicorp/aws version the folder's committed lock file selects, when the local
    mirror does not hold it (None: no lock file, no mirror, or the mirror has it). `init`
    honours a lock file exactly, so with such a lock it fails whatever the pins allow."""
    path = folder / LOCK_FILE
    available = mirror_aws_versions()
    if not available or not path.is_file():
        return None
    match = _LOCKED_AWS.search(path.read_text(errors="replace"))
    if match is None:
        return None
    try:
        locked = parse_version(match.group(1))
    except ValueError:
        return None
    return None if locked in available else match.group(1)


def sandbox_lock_note(folder: Path) -> str | None:
    """In the sandbox, a committed lock file selecting an aws provider the local mirror does
    not hold stays out of the private copy: init there picks one the stack's pins allow and
    writes the copy's own lock. The user's lock file is never changed, and against real AWS
    it is honoured as it is. The line saying so, or None when the lock file is met."""
    locked = locked_aws_unavailable(folder)
    if locked is None:
        return None
    return (
        f"Your .terraform.lock.hcl selects hashicorp/aws {locked}, which this machine's "
        "provider mirror does not hold: the sandbox's private copy uses the mirror's (within "
        "your version pins); your lock file is not changed."
    )


def check_pins(folder: Path) -> Version | None:
    """Raise TerraformPinError naming a pin this machine cannot satisfy; return the
    binary's version (None without a binary)."""
    version = binary_version()
    shown = ".".join(map(str, version)) if version else None
    for pin in required_versions(folder):
        if version is not None and not satisfies(version, pin):
            raise TerraformPinError(
                f"The stack requires Terraform {pin} (required_version), and the terraform "
                f"here is {shown}: it refuses to run this stack, so nothing was done.",
                hint=f"run with a Terraform that satisfies {pin} on PATH (or RUNBOOK_TERRAFORM); "
                "below 1.7 the runbook uses strategy state_rm by itself.",
            )
    available = mirror_aws_versions()
    for pin in aws_provider_pins(folder):
        if available and not any(satisfies(v, pin) for v in available):
            have = ", ".join(".".join(map(str, v)) for v in available)
            raise TerraformPinError(
                f"The stack pins the hashicorp/aws provider to {pin}, and the local provider "
                f"mirror holds {have} only: terraform init would fail, so nothing was done.",
                hint=f"put a provider version matching {pin} in the mirror, or relax the pin.",
            )
    return version


def pin_error_from_init(exc: TerraformError, folder: Path) -> TerraformError | TerraformPinError:
    """An init that failed on a version pin (the registry case) as a clear pin message."""
    text = str(exc)
    if "Unsupported Terraform Core version" in text or "no available releases match" in text:
        pins = required_versions(folder) + [f"hashicorp/aws {p}" for p in aws_provider_pins(folder)]
        return TerraformPinError(
            f"terraform init refused the stack's version pins ({'; '.join(pins) or 'see above'}): "
            "nothing was done."
        )
    return exc


def supports_removed(version: Version | None) -> bool:
    return version is None or version >= REMOVED_BLOCK_SINCE
