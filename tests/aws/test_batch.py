"""aws/batch.py against a real moto server: what DynamoDB leaves unprocessed is sent again.

moto processes every batch in full, so the throttling answer is injected on the client
(botocore event hooks): the request is trimmed before it is sent and the trimmed part
reported back as unprocessed, exactly as DynamoDB does under throttling.
"""

from __future__ import annotations

import time

import pytest

from runbook_lib.aws import batch
from runbook_lib.errors import ThrottledError


def _item(i: int) -> dict:
    return {"stat": {"S": f"k{i:03d}"}, "v": {"N": str(i)}}


def _hold_back_keys(ddb, rounds: int | None) -> dict:
    """The first `rounds` BatchGetItem calls read only their first key and report the
    others as UnprocessedKeys; with rounds=None every call reports all its keys (a request
    must name at least one key, so the first is read anyway)."""
    state = {"calls": 0, "held": None}

    def trim(params, **_):
        state["calls"] += 1
        state["held"] = None
        if rounds is None or state["calls"] <= rounds:
            table, req = next(iter(params["RequestItems"].items()))
            held = req["Keys"] if rounds is None else req["Keys"][1:]
            if held:
                state["held"] = {table: {**req, "Keys": held}}
                params["RequestItems"] = {table: {**req, "Keys": req["Keys"][:1]}}

    def report(parsed, **_):
        if state["held"]:
            parsed["UnprocessedKeys"] = state["held"]

    ddb.meta.events.register("provide-client-params.dynamodb.BatchGetItem", trim)
    ddb.meta.events.register("after-call.dynamodb.BatchGetItem", report)
    return state


def test_chunks_are_lazy_and_keep_the_remainder():
    assert list(batch.chunks(iter(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batch.chunks([], 3)) == []


def test_put_then_get_with_unprocessed_keys_retried(ddb, table, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    items = [_item(i) for i in range(4)]
    assert batch.put_items(ddb, table, items) == 0
    state = _hold_back_keys(ddb, rounds=2)
    keys = [{"stat": i["stat"]} for i in items]
    got = batch.get_items(ddb, table, keys)
    assert sorted(got, key=lambda i: i["stat"]["S"]) == items
    assert state["calls"] == 3  # one key, one key, then the two left
    assert len(waits) == 2 and all(0 <= w <= batch.BACKOFF_CAP_S for w in waits)


def test_get_gives_up_after_bounded_attempts(ddb, table, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda s: None)
    batch.put_items(ddb, table, [_item(i) for i in range(3)])
    state = _hold_back_keys(ddb, rounds=None)
    keys = [{"stat": _item(i)["stat"]} for i in range(3)]
    with pytest.raises(ThrottledError, match="keys still unprocessed after 8 attempts"):
        batch.get_items(ddb, table, keys)
    assert state["calls"] == batch.MAX_BATCH_ATTEMPTS
