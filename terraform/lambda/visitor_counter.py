"""Visitor counter Lambda: count one visit atomically and return the new count.

API Gateway HTTP API (payload 2.0) -> handler -> ONE DynamoDB UpdateItem:

    UpdateExpression = "ADD #c :one", ReturnValues = "UPDATED_NEW"

ADD is atomic on the server, so concurrent visits never overwrite each other, and it
creates the item (and the attribute, starting from 0) on the first visit, so nothing has
to seed the table. The guide's read-modify-write (GetItem, +1, PutItem) loses visits
under concurrency; see guide_counter.py and tests/aws/test_lambda.py.

After the write the handler prints one CloudWatch Embedded Metric Format (EMF) line, so
CloudWatch Logs turns the new count into the metric <METRIC_NAMESPACE>/<METRIC_NAME>
(dimension TableName, unit Count) without a PutMetricData call. The runbook's history
and the "count dropped" alarm read that metric.

Configuration comes from the environment Terraform sets (lambda.tf). The boto3 client is
created on first use and reused across warm invocations; it honours AWS_ENDPOINT_URL, so
tests call handler() in-process against the moto sandbox.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
from typing import Any

import boto3
from botocore.config import Config

# Fail fast and let the caller retry: API Gateway gives up after 30 s anyway.
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
)
_DEFAULTS = {
    "KEY_NAME": "stat",
    "KEY_VALUE": "Quantity",
    "KEY_TYPE": "S",  # the table's hash key type: S, N (or B, base64 text)
    "COUNT_ATTRIBUTE": "viewCount",
    "METRIC_NAMESPACE": "VisitorCounter",
    "METRIC_NAME": "ViewCount",
    "ALLOW_ORIGIN": "*",
}

# Warm-start cache. Creating boto3 clients is not thread-safe, so the first creation is
# guarded; the client itself is thread-safe once built.
_client_lock = threading.Lock()
_client_cache: dict[str, Any] = {}


def _setting(name: str) -> str:
    value = os.environ.get(name) or _DEFAULTS.get(name)
    if not value:
        raise KeyError(f"environment variable {name} is not set")
    return value


def dynamodb_client() -> Any:
    """The cached DynamoDB client (AWS_ENDPOINT_URL and AWS_REGION are read by boto3)."""
    with _client_lock:
        if "dynamodb" not in _client_cache:
            _client_cache["dynamodb"] = boto3.session.Session().client(
                "dynamodb", config=_CLIENT_CONFIG
            )
        return _client_cache["dynamodb"]


def reset_client() -> None:
    """Forget the cached client (tests that switch endpoints)."""
    with _client_lock:
        _client_cache.clear()


def increment_request(
    table: str, key_name: str, key_value: str, attribute: str, key_type: str = "S"
) -> dict:
    """The UpdateItem arguments for one visit, the key typed as the table defines it (pure)."""
    value: Any = base64.b64decode(key_value) if key_type == "B" else key_value
    return {
        "TableName": table,
        "Key": {key_name: {key_type: value}},
        "UpdateExpression": "ADD #c :one",
        "ExpressionAttributeNames": {"#c": attribute},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
        "ReturnValues": "UPDATED_NEW",
    }


def emf_record(
    namespace: str, metric: str, table: str, count: int, timestamp_ms: int | None = None
) -> dict:
    """One Embedded Metric Format document publishing `count` (pure)."""
    return {
        "_aws": {
            "Timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["TableName"]],
                    "Metrics": [{"Name": metric, "Unit": "Count"}],
                }
            ],
        },
        "TableName": table,
        metric: count,
    }


def response(status: int, body: dict, origin: str) -> dict:
    """An API Gateway v2 (payload 2.0) response with JSON and CORS headers (pure)."""
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
            "Access-Control-Allow-Headers": "content-type",
            "Cache-Control": "no-store",
        },
        "body": json.dumps(body),
    }


def _request_id(event: Any, context: Any) -> str | None:
    if context is not None and getattr(context, "aws_request_id", None):
        return context.aws_request_id
    if isinstance(event, dict):
        return (event.get("requestContext") or {}).get("requestId")
    return None


def _emit(doc: dict) -> None:
    """Write one JSON log line in a single write, so lines never interleave."""
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def handler(event: Any, context: Any) -> dict:
    """Count one visit; 200 {"count": N}, or 500 {"error": ...} with an ERROR log line."""
    origin = os.environ.get("ALLOW_ORIGIN") or _DEFAULTS["ALLOW_ORIGIN"]
    try:
        table = _setting("TABLE_NAME")
        attribute = _setting("COUNT_ATTRIBUTE")
        result = dynamodb_client().update_item(
            **increment_request(
                table,
                _setting("KEY_NAME"),
                _setting("KEY_VALUE"),
                attribute,
                _setting("KEY_TYPE"),
            )
        )
        count = int(result["Attributes"][attribute]["N"])
    except Exception as exc:  # the visitor gets a clean 500; the log gets the detail
        _emit(
            {
                "level": "ERROR",
                "message": "visit not counted",
                "error": type(exc).__name__,
                "detail": str(exc),
                "requestId": _request_id(event, context),
            }
        )
        return response(500, {"error": "the visit could not be counted"}, origin)
    _emit(emf_record(_setting("METRIC_NAMESPACE"), _setting("METRIC_NAME"), table, count))
    return response(200, {"count": count}, origin)
