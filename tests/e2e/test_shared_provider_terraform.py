"""tf.sharedprovider with the real Terraform and AWS provider, against the moto server.

GIVEN a stack initialised in its shadow workspace, WHEN its commands run inside
shared_provider, THEN they are served by that one process: the apply works, and once that
process is gone the next command fails (so it was the one they used); after the block,
Terraform starts its own provider again and the stack plans clean.
"""

from __future__ import annotations

import uuid

import pytest

from runbook_lib import aws
from runbook_lib.errors import TerraformError
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.lostanswer import apply_starting_over, destroy_own
from runbook_lib.tf.sharedprovider import REATTACH_ENV, shared_provider
from runbook_lib.tf.workspace import workspace

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.skipif(
        find_terraform() is None,
        reason="no terraform binary on PATH (set RUNBOOK_TERRAFORM to use another one)",
    ),
]

STACK = """\
provider "aws" {}

resource "aws_dynamodb_table" "counter" {
  name         = "%s"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}
"""


def test_the_commands_in_the_block_use_the_one_shared_provider(moto_url, tmp_path):
    table = f"shared-provider-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "main.tf").write_text(STACK % table)
    ws = workspace(folder)
    ws.sync()
    ws.init()
    with shared_provider(ws) as proc:
        assert proc is not None, "a sandbox stack with one provider configuration shares it"
        # the name is fresh: a create whose answer the provider lost is the apply's own
        own = {"aws_dynamodb_table.counter": table}
        converged = apply_starting_over(ws.converge, lambda exc: destroy_own(ws, own, exc), print)
        assert converged is True
        # the shared server holds many tables (ListTables pages them): ask for this one
        described = aws.client("dynamodb").describe_table(TableName=table)["Table"]
        assert described["TableStatus"] == "ACTIVE"
        proc.kill()
        proc.wait()
        with pytest.raises(TerraformError):
            ws.plan()
    assert REATTACH_ENV not in ws.env
    assert ws.converge() is False, "after the block Terraform starts its own provider"
