"""--as-author: a copy of a stack adapted the minimum its author's environment differs from
this machine (Terraform 1.11, a provider mirror holding one hashicorp/aws version, no
registry, no real AWS, no Terraform Cloud). Only the temporary copy is edited, only the root
folder and the local module folders it reaches, and every edit is named in the row.

- A hashicorp/aws `version` constraint the mirror cannot satisfy becomes `= <mirror
  version>`: the author's registry would give them their pinned version, and the resources
  used (table, table item) are the same across 3.x-5.x. A `required_version` this Terraform
  cannot satisfy is dropped (commented out). A committed .terraform.lock.hcl is left as it
  is: the runbook handles it in the sandbox.
- A backend "s3" (real AWS) is re-homed into the sandbox: the same bucket, key and lock
  table, created in the moto server in the backend's region (live.make_backend_home), and
  `endpoints = { s3, dynamodb }` on the moto server plus `use_path_style = true` added to the
  block (Terraform 1.11's syntax). The runbook then sees a backend whose endpoints are the
  sandbox's (tf.backends: "sandbox-remote") and must use it as it is. A partial backend
  (bucket, key ... from `-backend-config`) gets the values the author's CI would pass
  (expect.json `as_author.backend_config`), written into the block: the runbook takes no
  `-backend-config`.
- Terraform Cloud (`cloud {}`, `backend "remote"`) cannot be reproduced: the block goes, and
  the state is a local file in the copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.publicstacks.live import BackendHome
from runbook_lib.tf.backends import read_backend
from runbook_lib.tf.hcledit import block_end
from runbook_lib.tf.shadowcopy import reached_modules
from runbook_lib.tf.version import (
    Version,
    binary_version,
    locked_aws_unavailable,
    mirror_aws_versions,
    satisfies,
)

# Anchored at a line's start (after blanks only), so a commented-out `# version = ...` or
# `# backend "s3" {` is never taken for a setting.
_REQUIRED_PROVIDERS = re.compile(r"(?m)^[ \t]*required_providers\s*\{")
_AWS_ENTRY = re.compile(r"(?m)^[ \t]*aws\s*=\s*\{")
_VERSION = re.compile(r'(?m)^([ \t]*version\s*=\s*)"([^"]*)"')
_REQUIRED_VERSION = re.compile(r'(?m)^([ \t]*)(required_version\s*=\s*"([^"]*)"[^\n]*)$')
_S3_BACKEND = re.compile(r'(?m)^([ \t]*)backend\s+"s3"\s*\{')
_CLOUD = re.compile(r'(?m)^([ \t]*)(?:cloud|backend\s+"remote")\s*\{')
_TAG = "# as the author runs it (bench/publicstacks/adapt.py):"


@dataclass
class Adaptation:
    """What the copy's files were changed in (notes, for the row) and the backend homes to
    create in the sandbox before the GIVEN."""

    notes: list[str] = field(default_factory=list)
    homes: list[BackendHome] = field(default_factory=list)


def adapt(
    stack: Path,
    tf_dir: Path,
    exp: dict[str, Any],
    url: str,
    *,
    mirror: list[Version] | None = None,
    terraform: Version | None = None,
) -> Adaptation:
    """Adapt the copy `stack` (the stack run from `tf_dir`) for its author's environment,
    against the moto server at `url`; `mirror` (the hashicorp/aws versions the provider
    mirror holds) and `terraform` (the binary's version) default to this machine's."""
    done = Adaptation()
    mirror = mirror_aws_versions() if mirror is None else mirror
    terraform = binary_version() if terraform is None else terraform
    for folder in [tf_dir.resolve(), *reached_modules(tf_dir)]:
        for path in sorted(folder.glob("*.tf")):
            text = before = path.read_text()
            rel = path.relative_to(stack.resolve())
            if mirror:
                text = _pin_aws(text, mirror, ".".join(map(str, mirror[-1])), rel, done.notes)
            if terraform:
                text = _drop_required_version(text, terraform, rel, done.notes)
            if text != before:
                path.write_text(text)
    locked = locked_aws_unavailable(tf_dir)
    if locked:
        done.notes.append(
            f".terraform.lock.hcl (hashicorp/aws {locked}) left as committed: the runbook "
            "handles it"
        )
    _backend(stack, tf_dir, exp, url, done)
    return done


def _pin_aws(text: str, mirror: list[Version], to: str, rel: Path, notes: list[str]) -> str:
    """Every hashicorp/aws version constraint no mirror version satisfies, as `= to`."""
    for block in reversed(list(_REQUIRED_PROVIDERS.finditer(text))):
        brace = block.end() - 1
        inner = text[brace : block_end(text, brace)]
        entry = _AWS_ENTRY.search(inner)
        if entry is None:
            continue
        start = brace + entry.end() - 1
        stop = block_end(text, start)
        found = _VERSION.search(text, start, stop)
        if found is None or any(satisfies(v, found.group(2)) for v in mirror):
            continue
        text = f'{text[: found.start()]}{found.group(1)}"= {to}"{text[found.end() :]}'
        notes.append(f'{rel}: hashicorp/aws "{found.group(2)}" -> "= {to}" (the mirror\'s)')
    return text


def _drop_required_version(text: str, terraform: Version, rel: Path, notes: list[str]) -> str:
    """A required_version this Terraform does not satisfy, commented out."""

    def drop(m: re.Match[str]) -> str:
        if satisfies(terraform, m.group(3)):
            return m.group(0)
        shown = ".".join(map(str, terraform))
        notes.append(f'{rel}: required_version "{m.group(3)}" dropped (Terraform here: {shown})')
        return f"{m.group(1)}{_TAG} dropped\n{m.group(1)}# {m.group(2)}"

    return _REQUIRED_VERSION.sub(drop, text)


def _backend(stack: Path, tf_dir: Path, exp: dict[str, Any], url: str, done: Adaptation) -> None:
    backend = read_backend(tf_dir)
    if backend.type is None or backend.file is None or backend.type == "local":
        return
    path = backend.file.resolve()
    rel = path.relative_to(stack.resolve())
    text = path.read_text()
    if backend.type in ("cloud", "remote"):
        path.write_text(_drop_block(text, _CLOUD))
        done.notes.append(
            f"{rel}: {backend.describe()} (Terraform Cloud) removed: state moved to a local file"
        )
        return
    if backend.type != "s3":
        done.notes.append(f"{rel}: {backend.describe()} left as it is (not adapted)")
        return
    given = {k: v for k, v in exp.get("backend_config", {}).items() if k not in backend.settings}
    settings = {**backend.settings, **given}
    path.write_text(_rehome_s3(text, given, url))
    home = BackendHome(
        region=str(settings["region"]),
        bucket=str(settings["bucket"]),
        key=str(settings["key"]),
        lock_table=settings.get("dynamodb_table"),
    )
    done.homes.append(home)
    ci = ", ".join(f"{k}={v}" for k, v in given.items())
    lock = f", lock table {home.lock_table}" if home.lock_table else ""
    done.notes.append(
        f"{rel}: backend s3 re-homed into the sandbox (bucket {home.bucket}, key {home.key}"
        f"{lock}, created in {home.region}; endpoints s3/dynamodb -> the sandbox, "
        f"use_path_style = true)" + (f"; the CI's -backend-config written in: {ci}" if ci else "")
    )


def _drop_block(text: str, pattern: re.Pattern[str]) -> str:
    """The first block `pattern` finds, commented out line by line."""
    found = pattern.search(text)
    if found is None:
        return text
    start, end = found.start(), block_end(text, found.end() - 1)
    indent = found.group(1)
    lines = text[start:end].splitlines()
    gone = "\n".join(f"{indent}# {line.removeprefix(indent)}" for line in lines)
    return f"{text[:start]}{indent}{_TAG} removed\n{gone}{text[end:]}"


def _rehome_s3(text: str, given: dict[str, Any], url: str) -> str:
    """The backend "s3" block with the CI's settings, and pointed at the sandbox's S3."""
    found = _S3_BACKEND.search(text)
    if found is None:
        raise ValueError('no backend "s3" block at a line start')
    close = block_end(text, found.end() - 1) - 1
    inner = found.group(1) + "  "
    lines = [f"{inner}{_TAG}"]
    lines += [f'{inner}{k} = "{v}"' for k, v in given.items()]
    lines += [
        f'{inner}endpoints = {{ s3 = "{url}", dynamodb = "{url}" }}',
        f"{inner}use_path_style = true",
    ]
    line_start = text.rfind("\n", 0, close) + 1
    if not text[line_start:close].strip():  # `}` on a line of its own
        return text[:line_start] + "\n".join(lines) + "\n" + text[line_start:]
    return text[:close] + "\n" + "\n".join(lines) + "\n" + found.group(1) + text[close:]
