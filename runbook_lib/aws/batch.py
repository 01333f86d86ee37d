"""BatchWriteItem and BatchGetItem, with what DynamoDB leaves unprocessed sent again.

Under throttling DynamoDB answers a batch call with part of it done and the rest handed back
(UnprocessedItems / UnprocessedKeys); botocore does not retry those, since the call itself
succeeded. One helper does it for both calls: the rest is sent again after a full-jitter
exponential backoff, a bounded number of times. Puts of whole items are idempotent, so a
batch whose answer was lost and that botocore sent again does no harm.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from runbook_lib.aws.errors import mapped
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.errors import ThrottledError

MAX_BATCH_WRITE = 25  # DynamoDB limit: put requests per BatchWriteItem
MAX_BATCH_GET = 100  # DynamoDB limit: keys per BatchGetItem
MAX_BATCH_ATTEMPTS = 8  # BatchWrite/BatchGet rounds for unprocessed items before giving up
BACKOFF_BASE_S = 0.05  # first retry waits up to 50 ms ...
BACKOFF_CAP_S = 5.0  # ... doubling, full jitter, never more than 5 s per wait

Item = dict[str, Any]


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of `size` items (the last one shorter), read lazily from `items`."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _backoff(attempt: int) -> float:
    """Full-jitter exponential backoff: uniform(0, min(cap, base * 2**attempt))."""
    return random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2**attempt)))


def _until_processed(
    call: Callable[..., Mapping[str, Any]],  # the client's method: a stub TypedDict answer
    pending: dict[str, Any],
    *,
    left_key: str,
    action: str,
    table: str,
    on_answer: Callable[[Mapping[str, Any]], None] = lambda _resp: None,
) -> tuple[int, dict[str, Any]]:
    """Send `pending`, then what each answer left under `left_key`, waiting a backoff before
    each retry, at most MAX_BATCH_ATTEMPTS calls. Returns (retry rounds, what is still
    unprocessed: empty when everything was done)."""
    for attempt in range(MAX_BATCH_ATTEMPTS):
        with mapped(action, table=table):
            resp = call(RequestItems=pending)
        on_answer(resp)
        pending = resp.get(left_key) or {}
        if not pending:
            return attempt, {}
        if attempt + 1 < MAX_BATCH_ATTEMPTS:
            time.sleep(_backoff(attempt))  # looked up now: a test stubs time.sleep
    return MAX_BATCH_ATTEMPTS, pending


def put_items(ddb: DynamoDBClient, table: str, items: list[Item]) -> int:
    """BatchWriteItem of <= 25 wire-format items, unprocessed ones retried. Returns the
    number of retry rounds."""
    pending = {table: [{"PutRequest": {"Item": item}} for item in items]}
    retries, left = _until_processed(
        ddb.batch_write_item,
        pending,
        left_key="UnprocessedItems",
        action="BatchWriteItem",
        table=table,
    )
    if left:
        count = sum(len(v) for v in left.values())
        raise ThrottledError(
            f"BatchWriteItem into {table}: {count} item(s) still unprocessed after "
            f"{MAX_BATCH_ATTEMPTS} attempts with backoff. The restore is PARTIAL.",
            hint="wait a minute and re-run the same restore: puts are idempotent.",
        )
    return retries


def get_items(ddb: DynamoDBClient, table: str, keys: list[Item]) -> list[Item]:
    """BatchGetItem (consistent reads) of <= 100 keys, unprocessed keys retried. Returns the
    items found, in no particular order."""
    found: list[Item] = []
    _, left = _until_processed(
        ddb.batch_get_item,
        {table: {"Keys": keys, "ConsistentRead": True}},
        left_key="UnprocessedKeys",
        action="BatchGetItem",
        table=table,
        on_answer=lambda resp: found.extend(resp.get("Responses", {}).get(table, [])),
    )
    if left:
        raise ThrottledError(
            f"BatchGetItem on {table}: keys still unprocessed after {MAX_BATCH_ATTEMPTS} "
            "attempts; the restore was written but could not be verified."
        )
    return found
