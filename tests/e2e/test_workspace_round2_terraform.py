"""A backend in real AWS, proved against the moto sandbox (issue 16, round 2): the proof
refuses before anything is planned or applied (exit 3), and nothing is written in the
user's folder.

The other round-2 shapes of the shadow workspace (modules called from `../../modules`, the
author's `profile` and shared config files, the stack's own region, an `s3` backend whose
endpoints are the sandbox's) are migrated end to end by the corpus
(tests/e2e/test_corpus_terraform.py: modules_outside_folder, provider_profile,
backend_s3_sandbox).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from runbook_lib import aws
from runbook_lib.errors import StackMismatchError, exit_code_for
from runbook_lib.model import Target
from runbook_lib.steps import migrate
from runbook_lib.steps.migrate import proof
from runbook_lib.tf.binary import find_terraform
from tests.conftest import tree_hash, write_file

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.xdist_group("workspace-round2"),
    pytest.mark.skipif(
        find_terraform() is None,
        reason="no terraform binary on PATH (set RUNBOOK_TERRAFORM to use another one)",
    ),
]

BACKEND_TF = """\
terraform {
  backend "s3" {
    bucket         = "%(bucket)s"
    key            = "counter/terraform.tfstate"
    region         = "eu-central-1"
    dynamodb_table = "%(lock)s"
    profile        = "crc"
    %(endpoints)s
  }
}

provider "aws" {
  profile = "crc"
}

resource "aws_dynamodb_table" "counter" {
  name         = "%(table)s"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}
"""


def _tables(region: str) -> list[str]:
    return aws.client("dynamodb", region=region).list_tables()["TableNames"]


def _backend_stack(base: Path, name: str, endpoints: str) -> Path:
    text = BACKEND_TF % {
        "bucket": f"{name}-state",
        "lock": f"{name}-lock",
        "table": name,
        "endpoints": endpoints,
    }
    return write_file(base / "main.tf", text).parent


def _real_backend(base: Path, name: str) -> dict[str, Any]:
    """GIVEN the same backend in real AWS (no endpoints); WHEN a proof runs against the
    sandbox."""
    folder = _backend_stack(base, name, "")
    before = tree_hash(folder)
    try:
        proof.prove(folder)
    except StackMismatchError as exc:
        refused: Exception | None = exc
    else:
        refused = None
    return {"folder": folder, "before": before, "after": tree_hash(folder), "refused": refused}


PROTECTED_ITEM_TF = """
resource "aws_dynamodb_table_item" "counter" {
  table_name = aws_dynamodb_table.counter.name
  hash_key   = "id"
  item       = jsonencode({ id = { S = "visits" }, count = { N = "0" } })

  lifecycle {
    ignore_changes = [item]
  }
}
"""


def _migrate_refused(base: Path, name: str, extra: str, strategy: str) -> dict[str, Any]:
    """GIVEN the backend in real AWS, its configuration safe (no item, or one whose changes
    are ignored, with the strategy that leaves such an item be); WHEN 05_migrate runs
    against the sandbox: it cannot see the state."""
    folder = _backend_stack(base, name, "")
    (folder / "main.tf").write_text((folder / "main.tf").read_text() + extra)
    before = tree_hash(folder)
    with pytest.raises(StackMismatchError) as refused:
        migrate.run(Target(table=name, endpoint="sandbox"), terraform_dir=folder, strategy=strategy)
    return {"refused": refused.value, "unchanged": tree_hash(folder) == before}


@pytest.fixture(scope="module")
def stacks(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # the corpus (tests/fixtures/stacks: modules_outside_folder, provider_profile,
    # backend_s3_sandbox) migrates the other round-2 shapes end to end; this file keeps what
    # no migration there shows: a backend in real AWS is refused before anything is planned
    base = tmp_path_factory.mktemp("round2")
    tag = uuid.uuid4().hex[:8]
    return {
        "real_backend": _real_backend(base / "s3-real", f"round2-real-{tag}"),
        "no_item": _migrate_refused(base / "no-item", f"round2-none-{tag}", "", "removed"),
        "protected": _migrate_refused(
            base / "kept", f"round2-kept-{tag}", PROTECTED_ITEM_TF, "ignore_changes"
        ),
        "tag": tag,
    }


def test_a_backend_in_real_aws_is_refused_before_any_plan_and_nothing_is_written(stacks):
    s = stacks["real_backend"]
    refused = s["refused"]
    assert refused is not None, "the proof planned from an empty stand-in state"
    assert exit_code_for(type(refused).__name__) == 3
    text = str(refused)
    assert "not looking at the stack's real state" in text
    assert f'backend "s3" (bucket "round2-real-{stacks["tag"]}-state"' in text
    assert "found no state at all" in text
    assert s["after"] == s["before"]
    assert f"round2-real-{stacks['tag']}" not in _tables("us-east-1")


@pytest.mark.parametrize("shape", ["no_item", "protected"])
def test_a_safe_looking_configuration_with_its_state_in_real_aws_is_not_called_safe(stacks, shape):
    """05_migrate's "Already safe" needs the state as the proof does: an item only the
    real state holds would be deleted by the next apply (the public stack r2_wongyx, run
    verbatim, was called safe from its configuration alone)."""
    refused = stacks[shape]["refused"]
    assert exit_code_for(type(refused).__name__) == 3
    text = str(refused)
    assert "cannot say the count is safe" in text and "found no state at all" in text, text
    assert 'backend "s3" (bucket "round2-' in text and "Nothing was written" in text
    assert stacks[shape]["unchanged"]
