"""tf.lostanswer.apply_fresh_stack: a fresh-named stack's apply on a shared sandbox
server survives the AWS provider losing moto's answer to its own writes.

The lost answers are real: Terraform talks to moto through the fault proxy
(tests/faultproxy.py), which answers a request with a 500 after moto applied it (DynamoDB's
own docs: a 500 "may or may not" have been applied). The provider's SDK retries it, and
the retry meets what the first attempt did: the table ("already exists"), the item (its
PutItem is conditioned on the key being absent: ConditionalCheckFailedException), or, in
the start-over's destroy, no table left to delete (ResourceNotFoundException). Each stack
is the guide's legacy stack with a table name of its own.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from runbook_lib.aws import counter
from runbook_lib.errors import TerraformError
from runbook_lib.model import Target
from runbook_lib.onboarding import resetdemo
from runbook_lib.tf import workspace as tfworkspace
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.lostanswer import apply_fresh_stack, lost_answer_collision
from tests.faultproxy import AFTER, Fault, FaultProxy

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.skipif(find_terraform() is None, reason="no terraform binary on PATH"),
]
ITEM_ADDRESS = "aws_dynamodb_table_item.visitor_count"  # in tests/fixtures/legacy_stack


def _legacy(folder: Path) -> tuple[tfworkspace.Workspace, Target]:
    bucket = f"lost-{uuid.uuid4().hex[:6]}.example.com"
    resetdemo.copy_legacy_stack(folder, bucket_name=bucket)
    ws = tfworkspace.workspace(folder)
    ws.sync()
    ws.init()
    return ws, Target(table=f"{bucket}-VisitorCount", endpoint="sandbox")


def _in_state(folder: Path) -> list[str]:
    state = json.loads((folder / "terraform.tfstate").read_text())
    return sorted(f"{r['type']}.{r['name']}" for r in state["resources"])


def _recovers(ws: tfworkspace.Workspace, target: Target, folder: Path) -> None:
    """apply_fresh_stack met the collision, started over, and left the stack as a clean
    first apply does: both resources in the state, the configured count in the table."""
    said: list[str] = []
    apply_fresh_stack(ws, {resetdemo.LEGACY_TABLE_ADDRESS: target.table}, log=said.append)
    assert any("destroying the stack and applying again" in line for line in said), said
    assert _in_state(folder) == [resetdemo.LEGACY_TABLE_ADDRESS, ITEM_ADDRESS]
    assert counter.read_count(target) == 0, "the configured item, written once"


@pytest.fixture
def lossy(moto_url, monkeypatch):
    """A fault proxy in front of the session's moto server; Terraform talks to it."""
    with FaultProxy(moto_url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        yield proxy


def test_a_table_whose_create_answer_was_lost_starts_the_stack_over(lossy, tmp_path):
    folder = tmp_path / "stack"
    ws, target = _legacy(folder)
    lossy.script("dynamodb:CreateTable", Fault("error500", AFTER))
    with pytest.raises(TerraformError, match="already exists") as plain:
        ws.apply()
    assert lost_answer_collision(plain.value), "a plain apply fails: the collision is real"
    _recovers(ws, target, folder)
    assert lossy.faults("error500", AFTER) == 1, lossy.log


def test_lost_answers_to_the_item_put_and_to_the_table_delete_are_both_survived(lossy, tmp_path):
    """The CI failure of stop 24: the stack's first PutItem's answer lost (the retry meets
    its own item), then the first DeleteTable's in the start-over's destroy (the retry
    meets no table)."""
    lossy.script("dynamodb:PutItem", Fault("error500", AFTER))
    lossy.script("dynamodb:DeleteTable", Fault("error500", AFTER))
    folder = tmp_path / "stack"
    ws, target = _legacy(folder)
    _recovers(ws, target, folder)
    assert lossy.faults("error500", AFTER) == 2, lossy.log
