"""Big tables in a moto server, and the bare boto3 loops that are the floors.

The floors are what a few lines of boto3 achieve on the same server: a Scan loop following
LastEvaluatedKey (for export) and a BatchWriteItem loop over items already in memory (for
restore). Loading goes through parallel BatchWriteItem threads, since moto takes a few
hundred microseconds per item.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config

from runbook_lib import aws

KEY = "stat"  # the counter table's hash key (terraform/dynamodb.tf)
MAX_BATCH_WRITE = 25  # DynamoDB limit: put requests per BatchWriteItem
MAX_UNPROCESSED_ROUNDS = 8  # retry rounds for UnprocessedItems before giving up
LOAD_THREADS = 4
# moto serialises a Scan page item by item (~0.3 ms each): a 1 MB page of small items can take
# longer than the runbook's 30 s read timeout on a loaded machine, so bench clients wait longer.
READ_TIMEOUT_S = 300


def client(service: str = "dynamodb") -> Any:
    """The runbook's client (same retry policy), with a read timeout that fits moto."""
    config = aws.RETRY_CONFIG.merge(Config(read_timeout=READ_TIMEOUT_S))
    return aws.session().client(service, config=config)


def bench_item(i: int) -> dict[str, Any]:
    """Item i of a synthetic table: the counter table's key and a count (wire format)."""
    return {KEY: {"S": f"page-{i:07d}"}, "viewCount": {"N": str(i * 7 + 1)}}


def create_table(ddb: Any, name: str) -> str:
    """An empty on-demand table with the counter table's key schema."""
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    return name


def delete_table(ddb: Any, name: str) -> None:
    ddb.delete_table(TableName=name)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batch_write(ddb: Any, table: str, items: Sequence[dict[str, Any]]) -> int:
    """The bare BatchWriteItem loop: 25 puts per call, UnprocessedItems retried with a short
    backoff (bounded). Returns the number of calls."""
    calls = 0
    for chunk in chunks(items, MAX_BATCH_WRITE):
        pending = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        for attempt in range(MAX_UNPROCESSED_ROUNDS):
            calls += 1
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
        else:
            raise RuntimeError(f"BatchWriteItem into {table}: items still unprocessed")
    return calls


def load(table: str, n: int, *, threads: int = LOAD_THREADS) -> float:
    """Put items 0..n-1 into table from parallel threads (one client each); seconds taken."""
    started = time.perf_counter()
    bounds = [(k * n // threads, (k + 1) * n // threads) for k in range(threads)]

    def part(lo_hi: tuple[int, int]) -> int:
        lo, hi = lo_hi
        return batch_write(client(), table, [bench_item(i) for i in range(lo, hi)])

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(part, bounds))
    return time.perf_counter() - started


def scan_all(ddb: Any, table: str, *, page_size: int | None = None) -> int:
    """The bare Scan loop (consistent reads and the same Limit as the export): items seen."""
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if page_size:
        request["Limit"] = page_size
    count = 0
    while True:
        resp = ddb.scan(**request)
        count += len(resp.get("Items", []))
        last = resp.get("LastEvaluatedKey")
        if not last:
            return count
        request["ExclusiveStartKey"] = last


def item_count(ddb: Any, table: str) -> int:
    """Items in table, counted with a Select=COUNT scan."""
    request: dict[str, Any] = {"TableName": table, "Select": "COUNT", "ConsistentRead": True}
    count = 0
    while True:
        resp = ddb.scan(**request)
        count += resp["Count"]
        if not resp.get("LastEvaluatedKey"):
            return count
        request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
