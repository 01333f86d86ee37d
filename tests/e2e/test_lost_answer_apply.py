"""sandbox.lostanswer.apply_fresh_stack: a fresh-named stack's apply on a shared sandbox
server survives the AWS provider losing moto's answer to one of its creates.

A lost answer cannot be caused on demand, but the state it leaves can be built: the
resource the first attempt made is on the server and not in the state. For a table, it is
created before the apply (the provider's retried CreateTable meets it: "already exists");
for the item, the stack is applied and the item then removed from the state (the retried
conditional PutItem meets it: ConditionalCheckFailedException, as in the corpus test).
Each stack is the guide's legacy stack with a table name of its own.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from runbook_lib.aws import counter
from runbook_lib.model import Target
from runbook_lib.onboarding import resetdemo
from runbook_lib.sandbox.lostanswer import apply_fresh_stack
from runbook_lib.tf import workspace as tfworkspace
from runbook_lib.tf.binary import find_terraform

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


def test_an_item_whose_put_answer_was_lost_starts_the_stack_over(moto_url, tmp_path):
    folder = tmp_path / "stack"
    ws, target = _legacy(folder)
    # the GIVEN's own apply can meet a real lost answer too: it recovers the same way
    apply_fresh_stack(ws, {resetdemo.LEGACY_TABLE_ADDRESS: target.table}, log=lambda _m: None)
    counter.increment(target)  # 1 now: the 0 after recovery is the item written afresh
    ws.run(["state", "rm", ITEM_ADDRESS])
    _recovers(ws, target, folder)


def test_a_table_whose_create_answer_was_lost_starts_the_stack_over(moto_url, ddb, tmp_path):
    folder = tmp_path / "stack"
    ws, target = _legacy(folder)
    ddb.create_table(
        TableName=target.table,
        KeySchema=[{"AttributeName": "stat", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "stat", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=target.table, Item={"stat": {"S": "Quantity"}, "viewCount": {"N": "9"}})
    _recovers(ws, target, folder)
