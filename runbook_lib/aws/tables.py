"""Calls on any DynamoDB table, for callers that hold a table name (and a key) rather than a
counter Target: the table's description and key schema, the tables that exist, a few items,
one item by key, the only item, and deleting a throwaway table the runbook made itself."""

from __future__ import annotations

from typing import Any

from runbook_lib.aws.errors import mapped
from runbook_lib.aws.types import DynamoDBClient, TableDescriptionTypeDef


def describe_table(ddb: DynamoDBClient, table: str) -> TableDescriptionTypeDef:
    """DescribeTable's `Table`: status, key schema, attribute definitions."""
    with mapped("DescribeTable", table=table):
        return ddb.describe_table(TableName=table)["Table"]


def table_names(ddb: DynamoDBClient, limit: int = 100) -> list[str]:
    """The first `limit` table names in the client's region (one ListTables call)."""
    with mapped("ListTables"):
        return list(ddb.list_tables(Limit=limit).get("TableNames", []))


def first_items(ddb: DynamoDBClient, table: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` items (wire format) from one Scan page, and whether the table holds more."""
    with mapped("Scan", table=table):
        resp = ddb.scan(TableName=table, Limit=limit)
    return resp.get("Items", []), bool(resp.get("LastEvaluatedKey"))


def describe_keys(ddb: DynamoDBClient, table: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """([{"AttributeName": "stat", "KeyType": "HASH"}, ...], {"stat": "S", ...})."""
    return key_schema_of(describe_table(ddb, table))


def key_schema_of(desc: TableDescriptionTypeDef) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The key schema and the key attributes' types from DescribeTable's `Table` (pure)."""
    schema = [
        {"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in desc["KeySchema"]
    ]
    names = {k["AttributeName"] for k in schema}
    types: dict[str, str] = {
        a["AttributeName"]: a["AttributeType"]
        for a in desc.get("AttributeDefinitions", [])
        if a["AttributeName"] in names
    }
    return schema, types


def get_item(ddb: DynamoDBClient, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item (wire format) at `key`, strongly consistent; None if it is missing."""
    with mapped("GetItem", table=table):
        return ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


def only_item(ddb: DynamoDBClient, table: str) -> dict[str, Any] | None:
    """The table's item when it holds exactly one (a consistent Scan of two), else None."""
    with mapped("Scan", table=table):
        page = ddb.scan(TableName=table, Limit=2, ConsistentRead=True)
    items = page.get("Items") or []
    return items[0] if len(items) == 1 and not page.get("LastEvaluatedKey") else None


def delete_table(ddb: DynamoDBClient, table: str) -> None:
    """DeleteTable: only for throwaway tables the runbook made itself (the reset demo)."""
    with mapped("DeleteTable", table=table):
        ddb.delete_table(TableName=table)
