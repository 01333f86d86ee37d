"""What every bad-input test checks (tests/aws/test_badinput.py, tests/e2e/test_badinput.py):
the watched tables and folders snapshotted byte for byte before and after, and a refusal's
message naming the problem and a next step."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runbook_lib.errors import RunbookError
from runbook_lib.model import Target
from runbook_lib.sandbox import server as sandbox
from tests.badinput_cases import STATES, Ctx
from tests.conftest import make_table

FIX = "fix the parameter"
INTACT = "pick an intact backup file"
TABLE_FACTS = (
    "TableName",
    "TableStatus",
    "KeySchema",
    "AttributeDefinitions",
    "BillingModeSummary",
    "ProvisionedThroughput",
    "ItemCount",
    "DeletionProtectionEnabled",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
)


# ---- folders and the snapshot ----------------------------------------------------------------


@dataclass(frozen=True)
class Folders:
    src: Path  # input files a case arranges
    backups: Path  # RUNBOOK_BACKUPS
    run_dir: Path  # RUNBOOK_RUN_DIR (a notebook's CSV)
    reports: Path  # RUNBOOK_REPORTS, and `out` of notebook runs


def make_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Folders:
    """Backups, artifacts and reports in tmp_path: the kernel and the CLI inherit this."""
    f = Folders(tmp_path / "src", tmp_path / "backups", tmp_path / "run", tmp_path / "reports")
    f.src.mkdir()
    monkeypatch.setenv("RUNBOOK_BACKUPS", str(f.backups))
    monkeypatch.setenv("RUNBOOK_RUN_DIR", str(f.run_dir))
    monkeypatch.setenv("RUNBOOK_REPORTS", str(f.reports))
    return f


def _wire(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(type(value).__name__)


def table_snapshot(ddb: Any, name: str) -> dict[str, Any]:
    """DescribeTable's key facts, PITR and native backups, and every item from a full
    consistent Scan, each item serialized as wire-format JSON, sorted."""
    try:
        desc = ddb.describe_table(TableName=name)["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        return {"missing": True}
    items: list[str] = []
    req: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
    while True:
        page = ddb.scan(**req)
        items += [json.dumps(i, sort_keys=True, default=_wire) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        req["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    backups = ddb.list_backups(TableName=name)["BackupSummaries"]
    return {
        "facts": {k: desc.get(k) for k in TABLE_FACTS},
        "pitr": pitr,
        "native_backups": sorted(b["BackupArn"] for b in backups),
        "items": sorted(items),
    }


def files(root: Path) -> dict[str, str]:
    """Every file under root with its sha256."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def snapshot(ctx: Ctx, *, with_backups: bool = True) -> bytes:
    """Bytes to compare before and after: the watched tables, the server's table names,
    and the files under the input, artifact and (unless told otherwise) backups folders."""
    tables = []
    for page in ctx.ddb.get_paginator("list_tables").paginate():
        tables += page["TableNames"]
    state = {
        "tables": {name: table_snapshot(ctx.ddb, name) for name in ctx.watched},
        "table_names": sorted(tables),
        "src": files(ctx.src),
        "backups": files(ctx.backups) if with_backups else None,
        "run_dir": files(ctx.run_dir),
    }
    return json.dumps(state, sort_keys=True, default=str).encode("utf-8")


def make_ctx(ddb: Any, moto_url: str, state: str, f: Folders) -> Ctx:
    """The counter table in `state` (a fresh, uniquely named table; or none at all)."""
    if state == "no_table":
        name = f"bi-missing-{uuid.uuid4().hex[:10]}-VisitorCount"
    else:
        name = make_table(ddb, f"bi-{uuid.uuid4().hex[:10]}-VisitorCount")
        if STATES[state] is not None:
            ddb.put_item(TableName=name, Item=STATES[state])
    target = Target(table=name, endpoint=moto_url, region=sandbox.REGION)
    return Ctx(ddb, target, f.src, f.backups, f.run_dir, watched=[name])


def assert_actionable(exc: BaseException, what: str, todo: str) -> None:
    """The message names the problem (`what`) and a next step (the hint, matching `todo`)."""
    message = str(exc)
    assert isinstance(exc, RunbookError), f"not a runbook error: {type(exc).__name__}: {exc}"
    assert re.search(what, message, re.S), f"{what!r} not in the message:\n{message}"
    assert len(exc.hint) >= 15 and f"Next step: {exc.hint}" in message, message
    assert re.search(todo, exc.hint), f"{todo!r} not in the next step: {exc.hint}"
