"""`make public-stacks --as-author`'s adaptations of a stack copy (bench/publicstacks/adapt.py).

GIVEN a copy of each committed public stack (bench/public_stacks/, never edited itself)
WHEN it is adapted as its author runs it, for a mirror holding hashicorp/aws 5.100.0 and
Terraform 1.11.4
THEN every file still parses, no pin is left that this machine cannot satisfy, a backend
"s3" is one whose endpoints are the sandbox's (the runbook's kind "sandbox-remote") with the
same bucket, key and lock table, Terraform Cloud is gone (a local state), each change is
named, and the committed folder is byte for byte what it was. No server, no Terraform.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bench.publicstacks.adapt import Adaptation, adapt
from bench.publicstacks.model import AS_AUTHOR, STACKS, load, names
from runbook_lib.tf import backends
from runbook_lib.tf.hcledit import parse_hcl
from runbook_lib.tf.shadowcopy import reached_modules
from runbook_lib.tf.version import aws_provider_pins, required_versions, satisfies
from tests.conftest import tree_hash

MIRROR = [(5, 100, 0)]
TERRAFORM = (1, 11, 4)
URL = "http://127.0.0.1:5555"


def _adapted(name: str, tmp_path: Path) -> tuple[Path, dict[str, Any], Adaptation]:
    exp = load(name, AS_AUTHOR)
    copy = tmp_path / name
    shutil.copytree(STACKS / name, copy, ignore=shutil.ignore_patterns("expect.json"))
    tf_dir = copy / exp["dir"]
    done = adapt(copy, tf_dir, exp, URL, mirror=MIRROR, terraform=TERRAFORM)
    return tf_dir, exp, done


@pytest.mark.parametrize("name", names())
def test_every_stack_adapts_to_something_this_machine_runs(name: str, tmp_path: Path) -> None:
    committed = tree_hash(STACKS / name)
    tf_dir, _, done = _adapted(name, tmp_path)
    for path in tf_dir.rglob("*.tf"):
        parse_hcl(path.read_text(), str(path))  # raises when an edit broke the file
    for folder in [tf_dir, *reached_modules(tf_dir)]:  # the modules' own pins too
        assert all(satisfies(TERRAFORM, pin) for pin in required_versions(folder))
        assert all(satisfies(MIRROR[0], pin) for pin in aws_provider_pins(folder))
    backend = backends.read_backend(tf_dir)
    kind = backends.backend_kind(backend, sandbox=True)
    assert kind in (backends.LOCAL, backends.SANDBOX_REMOTE), backend.describe()
    assert tree_hash(STACKS / name) == committed  # the committed folder is never edited
    if kind == backends.SANDBOX_REMOTE:
        (home,) = done.homes
        assert (home.bucket, home.key) == (backend.settings["bucket"], backend.settings["key"])
        assert home.lock_table == backend.settings.get("dynamodb_table")
        assert backend.settings["use_path_style"] is True


def test_unsatisfiable_pins_become_the_mirrors_and_satisfiable_ones_stay(tmp_path: Path) -> None:
    tf_dir, _, done = _adapted("r1_marcbacchi", tmp_path)
    text = (tf_dir / "providers.tf").read_text()
    assert "# required_version" in text  # ~> 1.10.0: commented out, not deleted
    assert 'version = "~> 5.0"' in text  # the mirror's 5.100.0 satisfies it: kept
    assert any('required_version "~> 1.10.0" dropped' in n for n in done.notes)
    tf_dir, _, done = _adapted("r1_aptheepan", tmp_path)
    assert '#version = "5.54.1"' in (tf_dir / "provider.tf").read_text()  # a comment: kept
    tf_dir, _, done = _adapted("r1_bitofagit", tmp_path)
    assert 'version = "= 5.100.0"' in (tf_dir / "providers.tf").read_text()
    assert any('"~> 4.0" -> "= 5.100.0"' in n for n in done.notes)


def test_a_partial_backend_gets_the_ci_values_and_the_sandbox_endpoints(tmp_path: Path) -> None:
    tf_dir, exp, done = _adapted("r2_ghaleks", tmp_path)
    settings = backends.read_backend(tf_dir).settings
    for key, value in exp["backend_config"].items():
        assert settings[key] == value
    assert settings["endpoints"] == {"s3": URL, "dynamodb": URL}
    assert done.homes[0].region == "eu-north-1"
    assert any("-backend-config written in" in n for n in done.notes)


@pytest.mark.parametrize("name", ["r1_chxnedu", "r1_eligrp", "r1_maratita", "r1_sabahatk"])
def test_terraform_cloud_becomes_a_local_state(name: str, tmp_path: Path) -> None:
    tf_dir, _, done = _adapted(name, tmp_path)
    assert backends.read_backend(tf_dir).type is None
    assert any("state moved to a local file" in n for n in done.notes)
    assert not done.homes
