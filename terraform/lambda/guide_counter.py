"""The guide's naive counter: GetItem, add one in Python, PutItem. DO NOT DEPLOY.

Kept ONLY as a test fixture (tests/aws/test_lambda.py). Two concurrent visits can both read
N and both write N+1, so one visit is lost; under load many are. The deployed handler is
visitor_counter.py, which does one atomic UpdateItem ADD instead.

`between_read_and_write` is a test hook: tests pass a threading.Barrier's wait so every
thread has read before any writes, making the lost update deterministic rather than
dependent on the scheduler.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3


def handler(
    event: Any,
    context: Any,
    *,
    client: Any = None,
    between_read_and_write: Callable[[], Any] | None = None,
) -> dict:
    table = os.environ["TABLE_NAME"]
    key = {os.environ.get("KEY_NAME", "stat"): {"S": os.environ.get("KEY_VALUE", "Quantity")}}
    attribute = os.environ.get("COUNT_ATTRIBUTE", "viewCount")
    ddb = client or boto3.client("dynamodb")
    item = ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item", {})
    count = int(item.get(attribute, {}).get("N", "0")) + 1
    if between_read_and_write is not None:
        between_read_and_write()
    ddb.put_item(TableName=table, Item={**key, attribute: {"N": str(count)}})
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"count": count}),
    }
