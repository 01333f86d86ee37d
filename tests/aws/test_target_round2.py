"""Issue 16 on the moto server: a stack in another region than the shell's is read in its
own region (its provider's region, else its state's ARN), its string count is seen as one,
a table missing there says both regions, and guard-plan reads the live item where the plan
says. The shell is the README's sandbox shell: AWS_REGION=us-east-1 (tests/conftest.py)."""

from __future__ import annotations

import json
import os
import textwrap
import uuid
from pathlib import Path

import pytest

from runbook_lib import aws, cli
from runbook_lib.aws import counter
from runbook_lib.notebook.banner import target_banner
from runbook_lib.resolve import resolve_target
from runbook_lib.steps import status
from runbook_lib.steps.status.checks import TABLE_CHECK
from runbook_lib.steps.status.report import FAIL

STACK_REGION = "us-east-2"


@pytest.fixture
def east2(moto_url: str):
    assert os.environ["AWS_REGION"] == "us-east-1", "the shell is the sandbox's"
    return aws.client("dynamodb", region=STACK_REGION)


def _table(ddb, items=()) -> str:
    name = f"crc-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in items:
        ddb.put_item(TableName=name, Item=item)
    return name


def _stack(folder: Path, table: str, provider: str, region: str = STACK_REGION) -> Path:
    """A cloud-resume stack after apply: the table and its item, a local state."""
    folder.mkdir(parents=True)
    (folder / "main.tf").write_text(
        textwrap.dedent(f"""
        variable "aws_region" {{
          type    = string
          default = "{region}"
        }}
        {provider}
        resource "aws_dynamodb_table" "crc" {{
          name         = "{table}"
          billing_mode = "PAY_PER_REQUEST"
          hash_key     = "id"
          attribute {{
            name = "id"
            type = "S"
          }}
        }}
        resource "aws_dynamodb_table_item" "counter" {{
          table_name = aws_dynamodb_table.crc.name
          hash_key   = aws_dynamodb_table.crc.hash_key
          item       = jsonencode({{ id = {{ S = "Counter" }}, count = {{ S = "0" }} }})
        }}
        """)
    )
    arn = f"arn:aws:dynamodb:{region}:123456789012:table/{table}"
    attrs = {
        "name": table,
        "arn": arn,
        "hash_key": "id",
        "attribute": [{"name": "id", "type": "S"}],
    }
    item = {
        "table_name": table,
        "hash_key": "id",
        "item": '{"id":{"S":"Counter"},"count":{"S":"0"}}',
    }
    state = {
        "version": 4,
        "serial": 3,
        "lineage": "l",
        "outputs": {},
        "resources": [
            {"mode": "managed", "type": "aws_dynamodb_table", "name": "crc",
             "instances": [{"attributes": attrs}]},
            {"mode": "managed", "type": "aws_dynamodb_table_item", "name": "counter",
             "instances": [{"attributes": item}]},
        ],
    }  # fmt: skip
    (folder / "terraform.tfstate").write_text(json.dumps(state))
    return folder


def test_a_stack_in_us_east_2_is_read_there_from_terraform_dir_alone(east2, tmp_path):
    table = _table(east2, [{"id": {"S": "Counter"}, "count": {"S": "57"}}])
    stack = _stack(tmp_path / "crc", table, 'provider "aws" {\n  region = var.aws_region\n}')
    target = resolve_target(terraform_dir=stack)
    assert (target.table, target.region, target.key_label) == (table, STACK_REGION, "id=Counter")
    assert target.sources["region"] == "stack crc provider aws (variable aws_region default)"
    assert (target.count_attribute, target.count_type) == ("count", "S")
    assert target.sources["count_type"] == "live item"
    assert counter.dynamodb(target).get_item(TableName=table, Key=target.key)["Item"]["count"] == {
        "S": "57"
    }
    text = str(target_banner(target))
    assert f"region {STACK_REGION}" in text and "sandbox at" in text
    assert f"region {STACK_REGION}: stack crc provider aws (variable aws_region default)" in text
    assert "attribute count (S: a count stored as a string)" in text


def test_without_a_provider_region_the_states_arn_finds_the_table(east2, tmp_path):
    table = _table(east2, [{"id": {"S": "Counter"}, "count": {"S": "3"}}])
    stack = _stack(tmp_path / "arn", table, 'provider "aws" {}')
    target = resolve_target(terraform_dir=stack)
    assert (target.region, target.sources["region"]) == (STACK_REGION, "stack arn state ARN")
    assert target.sources["key_name"] == "live table", "DescribeTable answered in us-east-2"


def test_a_table_missing_in_the_stacks_region_names_both_regions(moto_url, tmp_path):
    table = f"crc-{uuid.uuid4().hex[:10]}"  # created nowhere
    stack = _stack(
        tmp_path / "gone", table, 'provider "aws" {\n  region = var.aws_region\n}', "eu-west-1"
    )
    target = resolve_target(terraform_dir=stack)
    report = status.run_status(target, terraform_dir=stack)
    (check,) = [c for c in report.checks if c.name == TABLE_CHECK]
    assert check.state == FAIL
    assert f"table {table} not found in eu-west-1 (from stack gone provider aws" in check.detail
    assert "the shell's region is us-east-1" in check.detail


def test_guard_plan_reads_the_live_item_in_the_plans_region(east2, tmp_path, capsys):
    table = _table(east2, [{"id": {"S": "a"}, "hits": {"N": "1234"}}])
    side = {"table_name": table, "hash_key": "id"}
    before = {**side, "item": json.dumps({"id": {"S": "a"}, "hits": {"N": "1"}})}
    after = {**side, "item": json.dumps({"id": {"S": "a"}, "hits": {"N": "0"}})}
    address = "aws_dynamodb_table_item.a"
    change = {
        "address": address,
        "mode": "managed",
        "type": "aws_dynamodb_table_item",
        "name": "a",
        "change": {"actions": ["update"], "before": before, "after": after},
    }
    region = {"region": {"references": ["var.aws_region"]}}
    plan = {
        "format_version": "1.2",
        "variables": {"aws_region": {"value": STACK_REGION}},
        "configuration": {
            "provider_config": {"aws": {"expressions": region}},
            "root_module": {"resources": [{"address": address, "provider_config_key": "aws"}]},
        },
        "resource_changes": [change],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    assert cli.main(["guard-plan", str(path)]) == 3
    out = capsys.readouterr().out
    assert f"would set hits in {table} from 1234 (live) to 0" in out
    assert (
        f"Live items read in {STACK_REGION}: the plan's provider aws (variable aws_region) "
        "(the shell's is us-east-1)" in out
    )
