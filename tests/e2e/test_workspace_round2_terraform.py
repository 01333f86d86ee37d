"""The shadow workspace against real Terraform and the moto sandbox (issue 16, round 2).

Stacks as the public ones are written, in the README's sandbox shell (AWS_REGION us-east-1):

- run from environments/dev/, calling `../../modules/dynamodb`, a provider with the
  author's `profile` and `shared_config_files` and `region = var.aws_region` (default
  us-east-2), the table's name from a var file: applied and planned in the shadow, the
  table lands in us-east-2, and the user's folders are unchanged but for the state;
- a `backend "s3"` whose endpoints are the sandbox's: used as it is, the state lands in
  the sandbox's S3 bucket, never in a local file;
- the same backend in real AWS: the proof refuses before anything is planned or applied
  (exit 3), and nothing is written in the user's folder.

Terraform runs cost seconds each: one module fixture builds all three, the tests read it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from runbook_lib import aws
from runbook_lib.errors import EXIT_CODES, StackMismatchError
from runbook_lib.sandbox.lostanswer import apply_fresh_stack
from runbook_lib.steps import migrate_prove
from runbook_lib.tf import workspace as tfworkspace
from runbook_lib.tf.binary import find_terraform

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.xdist_group("workspace-round2"),
    pytest.mark.skipif(
        find_terraform() is None,
        reason="no terraform binary on PATH (set RUNBOOK_TERRAFORM to use another one)",
    ),
]

STACK_REGION = "us-east-2"
BACKEND_REGION = "eu-central-1"
ITEM = "module.table.aws_dynamodb_table_item.counter"
TABLE = "module.table.aws_dynamodb_table.counter"

ROOT_TF = """\
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "aws_region" {
  type    = string
  default = "us-east-2"
}

variable "table_name" {
  type = string
}

provider "aws" {
  region              = var.aws_region
  profile             = "crc"
  shared_config_files = ["c:\\\\Users\\\\someone\\\\.aws\\\\config"]
}

module "table" {
  source     = "../../modules/dynamodb"
  table_name = var.table_name
}
"""
MODULE_TF = """\
variable "table_name" {
  type = string
}

resource "aws_dynamodb_table" "counter" {
  name         = var.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_dynamodb_table_item" "counter" {
  table_name = aws_dynamodb_table.counter.name
  hash_key   = aws_dynamodb_table.counter.hash_key
  item       = jsonencode({ id = { S = "visits" }, count = { N = "0" } })
}
"""
REMOVED = """
removed {
  from = module.table.aws_dynamodb_table_item.counter

  lifecycle {
    destroy = false
  }
}
"""
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


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _tables(region: str) -> list[str]:
    return aws.client("dynamodb", region=region).list_tables()["TableNames"]


def _module_stack(base: Path, name: str) -> dict[str, Any]:
    """GIVEN environments/dev calling ../../modules/dynamodb, applied in its shadow with
    the var file; WHEN the item block is proven away (module file edited, `removed` in the
    root) on the overlay."""
    dev = _write(base / "environments/dev/main.tf", ROOT_TF).parent
    var_file = _write(dev / "dev.tfvars", f'table_name = "{name}"\n')
    module = _write(base / "modules/dynamodb/main.tf", MODULE_TF)
    _write(base / "docs/notes.md", "unrelated\n")
    before = _tree(base)
    ws = tfworkspace.workspace(dev, var_files=[var_file])
    ws.sync()
    ws.init()
    apply_fresh_stack(ws, {TABLE: name})
    proof = migrate_prove.prove(
        ws,
        {
            str(module): MODULE_TF.split('resource "aws_dynamodb_table_item"')[0],
            str(dev / "main.tf"): ROOT_TF + REMOVED,
        },
    )
    ws.plan_path.unlink(missing_ok=True)
    return {"ws": ws, "base": base, "before": before, "after": _tree(base), "proof": proof}


def _backend_stack(base: Path, name: str, endpoints: str) -> Path:
    text = BACKEND_TF % {
        "bucket": f"{name}-state",
        "lock": f"{name}-lock",
        "table": name,
        "endpoints": endpoints,
    }
    return _write(base / "main.tf", text).parent


def _sandbox_backend(base: Path, name: str, url: str) -> dict[str, Any]:
    """GIVEN the sandbox's own S3 bucket and lock table, and a stack whose backend names
    them with endpoints on loopback: applied through the workspace."""
    aws.client("s3", region=BACKEND_REGION).create_bucket(
        Bucket=f"{name}-state", CreateBucketConfiguration={"LocationConstraint": BACKEND_REGION}
    )
    aws.client("dynamodb", region=BACKEND_REGION).create_table(
        TableName=f"{name}-lock",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
    )
    folder = _backend_stack(base, name, f'endpoints = {{ s3 = "{url}", dynamodb = "{url}" }}')
    ws = tfworkspace.workspace(folder)
    ws.sync()
    ws.init()
    apply_fresh_stack(ws, {"aws_dynamodb_table.counter": name})
    state = aws.client("s3", region=BACKEND_REGION).get_object(
        Bucket=f"{name}-state", Key="counter/terraform.tfstate"
    )
    return {
        "ws": ws,
        "folder": folder,
        "state": json.loads(state["Body"].read()),
        "has_state": ws.has_state(),
    }


def _real_backend(base: Path, name: str) -> dict[str, Any]:
    """GIVEN the same backend in real AWS (no endpoints); WHEN a proof runs against the
    sandbox."""
    folder = _backend_stack(base, name, "")
    before = _tree(folder)
    try:
        migrate_prove.prove(folder)
    except StackMismatchError as exc:
        refused: Exception | None = exc
    else:
        refused = None
    return {"folder": folder, "before": before, "after": _tree(folder), "refused": refused}


@pytest.fixture(scope="module")
def stacks(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("round2")
    tag = uuid.uuid4().hex[:8]
    return {
        "module": _module_stack(base / "repo", f"round2-module-{tag}"),
        "sandbox_backend": _sandbox_backend(base / "s3-sandbox", f"round2-s3-{tag}", moto_url),
        "real_backend": _real_backend(base / "s3-real", f"round2-real-{tag}"),
        "tag": tag,
    }


def test_a_stack_calling_modules_outside_its_folder_plans_and_applies_in_the_shadow(stacks):
    s = stacks["module"]
    ws = s["ws"]
    assert ws.workdir == tfworkspace.shadow_dir(ws.source) / "environments/dev"
    # the user's folders: only the state written, where Terraform keeps it
    assert {k: v for k, v in s["after"].items() if k in s["before"]} == s["before"]
    assert set(s["after"]) - set(s["before"]) == {"environments/dev/terraform.tfstate"}
    state = json.loads((s["base"] / "environments/dev/terraform.tfstate").read_text())
    assert {r["type"] for r in state["resources"]} == {
        "aws_dynamodb_table",
        "aws_dynamodb_table_item",
    }
    # the edit of the module file, planned on the overlay: the item is forgotten, not written
    proof = s["proof"]
    assert proof.safe and [(c["action"], c["address"]) for c in proof.changes] == [("remove", ITEM)]


def test_the_stacks_own_region_stands_and_the_authors_profile_is_not_looked_for(stacks):
    name = f"round2-module-{stacks['tag']}"
    assert name in _tables(STACK_REGION)
    assert name not in _tables("us-east-1")  # the shell's region
    shadow_main = (stacks["module"]["ws"].workdir / "main.tf").read_text()
    assert "profile" not in shadow_main and "shared_config_files" not in shadow_main


def test_a_backend_in_the_sandbox_is_used_as_it_is(stacks):
    s = stacks["sandbox_backend"]
    ws = s["ws"]
    assert (ws.backend_kind, ws.state_is_stacks_own, s["has_state"]) == (
        "sandbox-remote",
        True,
        True,
    )
    assert [r["type"] for r in s["state"]["resources"]] == ["aws_dynamodb_table"]
    assert sorted(p.name for p in s["folder"].iterdir()) == ["main.tf"]
    assert not (ws.workdir / "terraform.tfstate").exists()  # (.terraform/ has its settings)
    assert f"round2-s3-{stacks['tag']}" in _tables("us-east-1")  # no region: the shell's


def test_a_backend_in_real_aws_is_refused_before_any_plan_and_nothing_is_written(stacks):
    s = stacks["real_backend"]
    refused = s["refused"]
    assert refused is not None, "the proof planned from an empty stand-in state"
    assert EXIT_CODES[type(refused).__name__] == 3
    text = str(refused)
    assert "not looking at the stack's real state" in text
    assert f'backend "s3" (bucket "round2-real-{stacks["tag"]}-state"' in text
    assert "found no state at all" in text
    assert s["after"] == s["before"]
    assert f"round2-real-{stacks['tag']}" not in _tables("us-east-1")
