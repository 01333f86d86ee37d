"""Setting up a counter table from scratch, as the sandbox's planted demos do: create the
table if it is missing, put an item as is. Never used on a Terraform-managed table: the
callers refuse anything but the sandbox first."""

from __future__ import annotations

from typing import Any, cast

from runbook_lib.aws import tables
from runbook_lib.aws.errors import mapped
from runbook_lib.aws.types import DynamoDBClient, ScalarAttributeTypeType
from runbook_lib.errors import TableMissingError


def create_table_if_missing(ddb: DynamoDBClient, table: str, key_name: str, key_type: str) -> bool:
    """CreateTable (on-demand, hash key only) unless it exists; True when it was created."""
    try:
        tables.describe_table(ddb, table)
        return False
    except TableMissingError:
        pass
    with mapped("CreateTable", table=table):
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": key_name, "KeyType": "HASH"}],
            # cast: key_type is a str (Target.key_type, model.py): S, N or B, as the stub's literal
            AttributeDefinitions=[
                {
                    "AttributeName": key_name,
                    "AttributeType": cast(ScalarAttributeTypeType, key_type),
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    return True


def put_item(ddb: DynamoDBClient, table: str, item: dict[str, Any]) -> None:
    """An unconditional PutItem: the planted state replaces whatever was there."""
    with mapped("PutItem", table=table):
        ddb.put_item(TableName=table, Item=item)


def create_table(ddb: DynamoDBClient, request: dict[str, Any]) -> None:
    """CreateTable exactly as requested (the sandbox's, from terraform/*.tf), then wait
    until it exists."""
    table = request["TableName"]
    with mapped("CreateTable", table=table):
        ddb.create_table(**request)
        ddb.get_waiter("table_exists").wait(TableName=table)
