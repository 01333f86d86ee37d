"""What the harness reads and writes in a stack's moto server: counts, visits, the README
shell's other table, and the S3 bucket and lock table a re-homed backend keeps its state in."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib import aws
from runbook_lib.sandbox import server as sandbox

# The README's sandbox shell exports the sandbox's own counter; here it is another table.
OTHER_TABLE = "public-stacks-readme-shell-VisitorCount"
OTHER_COUNT = 7
SHELL_RUNBOOK_ENV = {
    "RUNBOOK_TABLE": OTHER_TABLE,
    "RUNBOOK_KEY_NAME": "stat",
    "RUNBOOK_KEY_VALUE": "Quantity",
    "RUNBOOK_COUNT_ATTRIBUTE": "viewCount",
}


@dataclass(frozen=True)
class BackendHome:
    """Where a re-homed backend "s3" keeps the stack's state in the sandbox."""

    region: str
    bucket: str
    key: str
    lock_table: str | None = None


def ddb(region: str) -> Any:
    return aws.client("dynamodb", region=region)


def item_key(item: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {item["key_name"]: {item["key_type"]: str(item["key_value"])}}


def read_count(item: dict[str, Any]) -> int | str | None:
    """The live count, typed as stored (a string count stays a string); None: no item, or
    no count attribute, or no table."""
    try:
        got = ddb(item["region"]).get_item(
            TableName=item["table"], Key=item_key(item), ConsistentRead=True
        )
    except Exception:  # the table is not (or no longer) there: no count
        return None
    value = (got.get("Item") or {}).get(item["count_attribute"])
    if not value:
        return None
    return int(value["N"]) if "N" in value else f"S:{value.get('S')}"


def visit(item: dict[str, Any]) -> None:
    """One visit as the site's Lambda counts it: ADD for a number; for a string count the
    site's own read-then-write of str(n + 1), guarded by the value it read."""
    client = ddb(item["region"])
    name = item["count_attribute"]
    if item["count_type"] == "N":
        client.update_item(
            TableName=item["table"],
            Key=item_key(item),
            UpdateExpression="ADD #c :one",
            ExpressionAttributeNames={"#c": name},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        return
    now = str(read_count(item)).removeprefix("S:")
    client.update_item(
        TableName=item["table"],
        Key=item_key(item),
        UpdateExpression="SET #c = :new",
        ConditionExpression="#c = :old",
        ExpressionAttributeNames={"#c": name},
        ExpressionAttributeValues={":new": {"S": str(int(now) + 1)}, ":old": {"S": now}},
    )


def tree_hash(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def other_table() -> int | None:
    got = ddb(sandbox.REGION).get_item(
        TableName=OTHER_TABLE, Key={"stat": {"S": "Quantity"}}, ConsistentRead=True
    )
    return int(got["Item"]["viewCount"]["N"]) if "Item" in got else None


def make_other_table() -> None:
    client = ddb(sandbox.REGION)
    client.create_table(
        TableName=OTHER_TABLE,
        KeySchema=[{"AttributeName": "stat", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "stat", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(
        TableName=OTHER_TABLE,
        Item={"stat": {"S": "Quantity"}, "viewCount": {"N": str(OTHER_COUNT)}},
    )


def make_backend_home(home: BackendHome) -> None:
    """The bucket (and lock table) the author made for their state, made in the sandbox, in
    the backend's region, as the S3 backend expects them (the lock table keyed LockID)."""
    s3 = aws.client("s3", region=home.region)
    extra = {}
    if home.region != "us-east-1":  # S3 refuses a LocationConstraint of us-east-1
        extra = {"CreateBucketConfiguration": {"LocationConstraint": home.region}}
    s3.create_bucket(Bucket=home.bucket, **extra)
    if home.lock_table:
        ddb(home.region).create_table(
            TableName=home.lock_table,
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


def state_doc(home: BackendHome) -> dict[str, Any] | None:
    """The state document in a re-homed backend (None: no state object there)."""
    s3 = aws.client("s3", region=home.region)
    try:
        body = s3.get_object(Bucket=home.bucket, Key=home.key)["Body"].read()
    except Exception:  # no such key: no state yet
        return None
    doc: dict[str, Any] = json.loads(body)
    return doc


def state_serial(home: BackendHome) -> int | None:
    """The serial of the state in a re-homed backend (None: no state object there)."""
    doc = state_doc(home)
    serial = (doc or {}).get("serial")
    return int(serial) if serial is not None else None
