"""The counter Lambda, called in-process against the moto server (moto cannot invoke
Lambda without Docker). Also proves why it uses UpdateItem ADD: the guide's
read-modify-write handler loses visits under concurrency."""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "terraform" / "lambda"
THREADS = 8
VISITS_PER_THREAD = 250


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"lambda_{name}", LAMBDA_DIR / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def counter() -> ModuleType:
    return _load("visitor_counter")


@pytest.fixture(scope="module")
def guide() -> ModuleType:
    return _load("guide_counter")


@pytest.fixture
def lambda_env(table: str, monkeypatch: pytest.MonkeyPatch, counter: ModuleType) -> Iterator[str]:
    """The environment lambda.tf gives the function, pointing at a fresh table."""
    for key, value in {
        "TABLE_NAME": table,
        "KEY_NAME": "stat",
        "KEY_VALUE": "Quantity",
        "COUNT_ATTRIBUTE": "viewCount",
        "METRIC_NAMESPACE": "VisitorCounter",
        "METRIC_NAME": "ViewCount",
        "ALLOW_ORIGIN": "https://resume.example.com",
    }.items():
        monkeypatch.setenv(key, value)
    counter.reset_client()
    yield table
    counter.reset_client()


def _stored_count(ddb, table: str) -> int | None:
    item = ddb.get_item(TableName=table, Key={"stat": {"S": "Quantity"}}, ConsistentRead=True)
    return int(item["Item"]["viewCount"]["N"]) if "Item" in item else None


def _hammer(call: Callable[[], object], threads: int, per_thread: int) -> None:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(lambda: [call() for _ in range(per_thread)]) for _ in range(threads)]
        for future in futures:
            future.result()


def test_first_visit_creates_the_item_with_one(counter, lambda_env, ddb, capsys):
    # GIVEN an empty table WHEN the first visit arrives
    resp = counter.handler({"requestContext": {"requestId": "r1"}}, None)
    # THEN the item exists with 1 and the API response carries it
    assert resp["statusCode"] == 200
    assert json.loads(resp["body"]) == {"count": 1}
    assert resp["headers"]["Content-Type"] == "application/json"
    assert resp["headers"]["Access-Control-Allow-Origin"] == "https://resume.example.com"
    assert _stored_count(ddb, lambda_env) == 1
    assert counter.handler({}, None)["body"] == json.dumps({"count": 2})


def test_prints_one_emf_line_with_the_new_count(counter, lambda_env, capsys):
    counter.handler({}, None)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1
    doc = json.loads(lines[0])
    directive = doc["_aws"]["CloudWatchMetrics"]
    assert isinstance(doc["_aws"]["Timestamp"], int)
    assert directive == [
        {
            "Namespace": "VisitorCounter",
            "Dimensions": [["TableName"]],
            "Metrics": [{"Name": "ViewCount", "Unit": "Count"}],
        }
    ]
    assert doc["TableName"] == lambda_env
    assert doc["ViewCount"] == 1


def test_keeps_an_existing_count(counter, lambda_env, ddb):
    ddb.put_item(TableName=lambda_env, Item={"stat": {"S": "Quantity"}, "viewCount": {"N": "41"}})
    assert json.loads(counter.handler({}, None)["body"]) == {"count": 42}


def test_error_returns_500_and_logs_one_error_line(counter, lambda_env, monkeypatch, capsys):
    monkeypatch.setenv("TABLE_NAME", "no-such-table-VisitorCount")
    resp = counter.handler({"requestContext": {"requestId": "r-err"}}, None)
    assert resp["statusCode"] == 500
    assert "error" in json.loads(resp["body"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    log = json.loads(lines[0])
    assert log["level"] == "ERROR"
    assert log["error"] == "ResourceNotFoundException"
    assert log["requestId"] == "r-err"
    assert "_aws" not in log  # no metric for a visit that was not counted


def test_increment_request_is_one_atomic_add(counter):
    req = counter.increment_request("t", "stat", "Quantity", "viewCount")
    assert req["UpdateExpression"] == "ADD #c :one"
    assert req["ReturnValues"] == "UPDATED_NEW"
    assert req["ExpressionAttributeNames"] == {"#c": "viewCount"}


def test_concurrent_visits_are_all_counted(counter, lambda_env, ddb, capsys):
    # GIVEN 8 threads x 250 visits WHEN they all hit the handler at once
    _hammer(lambda: counter.handler({}, None), THREADS, VISITS_PER_THREAD)
    # THEN not one visit is lost
    assert _stored_count(ddb, lambda_env) == THREADS * VISITS_PER_THREAD
    counts = [json.loads(line)["ViewCount"] for line in capsys.readouterr().out.splitlines()]
    assert sorted(counts) == list(range(1, THREADS * VISITS_PER_THREAD + 1))


def test_guide_read_modify_write_loses_visits_under_load(guide, lambda_env, ddb):
    # GIVEN the guide's GetItem, +1, PutItem handler WHEN the same load hits it
    _hammer(lambda: guide.handler({}, None, client=ddb), THREADS, VISITS_PER_THREAD)
    # THEN visits are lost: concurrent readers see the same N and all write N+1
    assert _stored_count(ddb, lambda_env) < THREADS * VISITS_PER_THREAD


def test_guide_race_is_deterministic_with_a_barrier(guide, lambda_env, ddb):
    """Scheduling-independent proof: every thread reads before any writes."""
    barrier = threading.Barrier(THREADS)
    _hammer(
        lambda: guide.handler({}, None, client=ddb, between_read_and_write=barrier.wait),
        THREADS,
        1,
    )
    # 8 visits, but all 8 read 0 and wrote 1
    assert _stored_count(ddb, lambda_env) == 1
