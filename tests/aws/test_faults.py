"""Faults: a lossy network, a dying server and racing writers, against a real moto server.

Every runbook call here goes through the real code path: AWS_ENDPOINT_URL points boto3 at
`tests/faultproxy.py`, a loopback proxy in front of moto that answers a share of requests
with a 500, a throttle, a delay or a connection dropped mid-response, either BEFORE the
request reaches moto or AFTER moto applied it (the answer is lost). Setup and every check
of what the table holds talk to moto directly, never through the proxy.

What "correct" means here:
- Through 30 % faults (at most MAX_STREAK failures in a row per request, fewer than the
  client's attempts) every operation completes and its result equals a fault-free run.
- When retries run out, the operation raises a RunbookError that names the cause and the
  next step, never a botocore exception and never a false claim about the table ("item
  missing", "count moved"); nothing is written.
- No write is applied twice: a conditional write whose answer was lost is retried by
  botocore and meets its own write; the runbook must report it as done (not a conflict)
  and must not apply it again over visits that landed in between.
- Visits (the Lambda's UpdateItem ADD) are at-least-once: an ADD whose answer was lost is
  retried and counts twice. That is the Lambda's contract, not a runbook bug, so the test
  asserts the exact accounting instead: the count grows by exactly the number of ADDs
  that reached the table (the proxy counts them), never fewer.
- A set or restore racing visits loses none: with a new value far above the visit counts,
  each visit's returned count tells on which side of the write it landed; the final count
  is the written value plus the visits after it, and the write's ALL_OLD value is the
  initial count plus the visits before it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from runbook_lib import aws
from runbook_lib.aws import batch, counter
from runbook_lib.errors import (
    BackupFileError,
    CountConflictError,
    ItemMissingError,
    RestoreVerificationError,
    RunbookError,
    TableMissingError,
    ThrottledError,
)
from runbook_lib.formats import dynamojson, exportfile, exportread
from runbook_lib.model import Target
from runbook_lib.sandbox import seed
from runbook_lib.sandbox import server as sandbox
from runbook_lib.steps import history, setcount, status
from runbook_lib.steps.backup import export, itembackup, tablerestore
from runbook_lib.steps.common import auditlog
from runbook_lib.steps.status import report
from tests.conftest import make_table
from tests.faultproxy import AFTER, BEFORE, Fault, FaultProxy, RequestInfo

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("backups")]

ROOT = Path(__file__).resolve().parents[2]
RATE = 0.3
# botocore's `max_attempts` counts RETRIES: the runbook's client makes max_attempts + 1 tries.
ATTEMPTS = aws.RETRY_CONFIG.retries["max_attempts"] + 1
MAX_STREAK = ATTEMPTS - 2  # at 30 % every call must still get through, with one try to spare
KEY = {"stat": {"S": "Quantity"}}
WAIT_S = 10.0  # upper bound for any wait on another thread or process


# ---- helpers ------------------------------------------------------------------------------


@pytest.fixture
def proxy_for(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., FaultProxy]]:
    """proxy_for(**options) starts a FaultProxy in front of the session's moto server and
    points the runbook (AWS_ENDPOINT_URL) at it. Clients made before keep going direct."""
    started: list[FaultProxy] = []

    def make(upstream: str | None = None, **options: Any) -> FaultProxy:
        proxy = FaultProxy(upstream or moto_url, **options).start()
        started.append(proxy)
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


def lossy(proxy_for: Callable[..., FaultProxy], seed_: int, **options: Any) -> FaultProxy:
    return proxy_for(rate=RATE, seed=seed_, max_streak=MAX_STREAK, **options)


def scan_all(ddb: Any, table: str) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    for _ in range(10_000):
        resp = ddb.scan(**kwargs)
        items.update({i["stat"]["S"]: i for i in resp["Items"]})
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    raise AssertionError("scan did not end")


def fill(ddb: Any, table: str, n: int, *, prefix: str = "k", value: int = 0) -> None:
    """n items k00000.. with a number each (value + i), written 25 at a time."""
    for start in range(0, n, 25):
        puts = [
            {
                "PutRequest": {
                    "Item": {"stat": {"S": f"{prefix}{i:05d}"}, "v": {"N": str(value + i)}}
                }
            }
            for i in range(start, min(n, start + 25))
        ]
        ddb.batch_write_item(RequestItems={table: puts})


def put_count(ddb: Any, table: str, value: int) -> None:
    ddb.put_item(TableName=table, Item={**KEY, "viewCount": {"N": str(value)}})


def live_count(ddb: Any, table: str) -> int | None:
    item = ddb.get_item(TableName=table, Key=KEY, ConsistentRead=True).get("Item")
    return int(item["viewCount"]["N"]) if item else None


def new_target(ddb: Any, moto_url: str) -> Target:
    return Target(table=make_table(ddb), endpoint=moto_url, region=sandbox.REGION)


def kill9(pid: int) -> None:
    """SIGKILL a server from another thread and wait until it is gone."""

    def run() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (subprocess's own cleanup)
                return
            if done:
                return
            time.sleep(0.01)

    killer = threading.Thread(target=run, name=f"kill-{pid}")
    killer.start()
    killer.join(WAIT_S)


def load_lambda() -> ModuleType:
    path = ROOT / "terraform" / "lambda" / "visitor_counter.py"
    spec = importlib.util.spec_from_file_location("faults_visitor_counter", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def visit(target: Target, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], dict]]:
    """One visit: the real Lambda handler, in-process, with the environment lambda.tf sets.
    Its boto3 client is made on first use, from AWS_ENDPOINT_URL at that moment."""
    module = load_lambda()
    for key, value in {
        "TABLE_NAME": target.table,
        "KEY_NAME": "stat",
        "KEY_VALUE": "Quantity",
        "COUNT_ATTRIBUTE": "viewCount",
        "METRIC_NAMESPACE": "VisitorCounter",
        "METRIC_NAME": "ViewCount",
    }.items():
        monkeypatch.setenv(key, value)
    module.reset_client()
    yield lambda: module.handler({"requestContext": {"requestId": "faults"}}, None)
    module.reset_client()


def _set(target: Target, new: int, tmp_path: Path, **kwargs: Any) -> setcount.SetResult:
    return setcount.set_count(
        target,
        new,
        reason="fault test",
        dry_run=False,
        confirm=target.table,
        audit_path=tmp_path / "audit.jsonl",
        backup_dir=tmp_path / "item-backups",
        **kwargs,
    )


def restore_into(path: Path, dest: Target, **kw: Any) -> tablerestore.TableRestoreResult:
    """A confirmed table restore of another table's export into `dest`."""
    return tablerestore.restore_table(
        path, dest, dry_run=False, confirm=dest.table, allow_other_table=True, progress=False, **kw
    )


def _report(target: Target, now: Any) -> list[tuple[str, str, str]]:
    return [(c.name, c.state, c.detail) for c in status.run_status(target, now=now).checks]


# ---- 1. 30 % faults: every operation completes, and its result is the fault-free one ------


def test_init_through_faults_creates_each_item_once(proxy_for, ddb, moto_url):
    targets = [new_target(ddb, moto_url) for _ in range(5)]
    proxy = lossy(proxy_for, 11)
    results = [counter.init_counter(t, initial=40 + i) for i, t in enumerate(targets)]
    assert [r.value for r in results] == [40 + i for i in range(5)]
    assert [live_count(ddb, t.table) for t in targets] == [40 + i for i in range(5)]
    assert proxy.faults() > 0 and proxy.forwarded["dynamodb:PutItem"] >= 5


def test_set_count_through_faults_is_applied_once_and_audited(proxy_for, ddb, target, tmp_path):
    put_count(ddb, target.table, 100)
    proxy = lossy(proxy_for, 3)
    done = [
        _set(target, new, tmp_path, expected_current=old, allow_decrease=True)
        for old, new in ((100, 250), (250, 7))
    ]
    assert [(r.applied, r.old, r.new, r.moved) for r in done] == [
        (True, 100, 250, False),
        (True, 250, 7, False),
    ]
    assert live_count(ddb, target.table) == 7
    audit = auditlog.read_audit(tmp_path / "audit.jsonl")
    assert [(a["old"], a["new"]) for a in audit] == [(100, 250), (250, 7)]
    assert [json.loads(Path(r.backup_path).read_text())["viewCount"] for r in done] == [
        {"N": "100"},
        {"N": "250"},
    ]
    assert proxy.faults() > 0


def test_status_through_faults_matches_a_clean_run(proxy_for, ddb, target):
    put_count(ddb, target.table, 41)
    ddb.create_backup(TableName=target.table, BackupName="faults")
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    clean = _report(target, now)
    proxy = lossy(proxy_for, 5)
    assert _report(target, now) == clean
    assert proxy.faults() > 0


def test_export_through_faults_is_complete_and_verifies(proxy_for, ddb, target, tmp_path):
    fill(ddb, target.table, 150)
    put_count(ddb, target.table, 777)
    proxy = lossy(proxy_for, 7)
    res = export.export_table(target, tmp_path / "exports", page_size=20, progress=False)
    manifest = exportread.verify_export(res.path)
    assert manifest.item_count == res.item_count == 151
    exported = {o["stat"]["S"]: o for o in exportread.iter_export(res.path)}
    assert exported == {
        k: dynamojson.item_to_json(v) for k, v in scan_all(ddb, target.table).items()
    }
    assert proxy.requests["dynamodb:Scan"] > 8  # 8 pages, and some of them again


def _dest_with_items(ddb: Any, moto_url: str) -> tuple[Target, dict[str, dict]]:
    """A destination whose counter (5) is below the export's and which holds items the
    export overwrites (k00000-k00009, other values) and items it does not have (x...)."""
    dest = new_target(ddb, moto_url)
    fill(ddb, dest.table, 10, value=900)
    fill(ddb, dest.table, 5, prefix="x")
    put_count(ddb, dest.table, 5)
    return dest, scan_all(ddb, dest.table)


def test_restore_table_through_faults_converges(proxy_for, ddb, target, moto_url, tmp_path):
    fill(ddb, target.table, 120)
    put_count(ddb, target.table, 777)
    res = export.export_table(target, tmp_path / "exports", ddb=ddb, progress=False)
    dest, before = _dest_with_items(ddb, moto_url)
    proxy = lossy(proxy_for, 13)
    out = restore_into(res.path, dest)
    assert (out.restored, out.verified, out.items_written) == (True, True, 121)
    assert (out.counter_before, out.counter_after) == (5, 777)
    assert scan_all(ddb, dest.table) == {**before, **scan_all(ddb, target.table)}
    assert proxy.faults() > 0


def test_restore_item_through_faults_puts_the_backup_back(proxy_for, ddb, target, tmp_path):
    put_count(ddb, target.table, 300)
    backup = itembackup.backup_item(target, dest_dir=tmp_path / "b", ddb=ddb)
    put_count(ddb, target.table, 100)
    proxy = lossy(proxy_for, 3)
    out = itembackup.restore_item(
        target, backup.path, dry_run=False, confirm=target.table, backup_dir=tmp_path / "b"
    )
    assert (out.restored, out.old, out.new) == (True, 100, 300)
    assert live_count(ddb, target.table) == 300
    assert proxy.faults() > 0


@pytest.fixture
def seeded_history(moto_url: str) -> dict[str, Any]:
    """A day of metrics with a reset, under unique dimension values, in the past."""
    tag = uuid.uuid4().hex[:10]
    names = {"table": f"t-{tag}-VisitorCount", "function_name": f"fn-{tag}", "api_id": tag}
    now = pd.Timestamp("2022-07-01T00:00:00Z")
    frame = seed.synthetic_history(1, end=now, reset_at=pd.Timestamp("2022-06-30T15:00:00Z"))
    seed.seed_history(aws.client("cloudwatch"), frame, **names)
    return {"names": names, "now": now}


def test_history_through_faults_matches_a_clean_read(proxy_for, seeded_history):
    names, now = seeded_history["names"], seeded_history["now"]
    clean = history.load_history(1, **names, now=now)
    proxy = lossy(proxy_for, 1)
    reads = [history.load_history(1, **names, now=now) for _ in range(3)]
    for hist in reads:
        pd.testing.assert_frame_equal(hist.frame, clean.frame)
        assert hist.resets == clean.resets and len(hist.resets) == 1
    assert proxy.requests["monitoring:GetMetricData"] >= 3


def test_visits_through_faults_are_counted_at_least_once(proxy_for, ddb, target, visit):
    """The Lambda's ADD is not idempotent: an ADD whose answer was lost is retried and
    counted again. Exact accounting: the count grows by the ADDs that reached moto."""
    put_count(ddb, target.table, 0)
    proxy = lossy(proxy_for, 17, when=AFTER, kinds=("error500", "drop"))
    answers = [visit() for _ in range(24)]
    ok = [json.loads(a["body"])["count"] for a in answers if a["statusCode"] == 200]
    final = live_count(ddb, target.table)
    assert final == proxy.forwarded["dynamodb:UpdateItem"]  # every ADD moto saw, once
    assert final >= len(ok) and len(set(ok)) == len(ok)  # no visit lost; answers unique
    assert final - len(ok) > 0  # and this run did count some visit twice (lost answers)


# ---- 2. a write whose answer was lost: retried by botocore, must not be misreported -------

LOST = Fault("error500", AFTER)  # moto applied the write; the runbook sees a 500


def test_init_whose_answer_was_lost_reports_created(proxy_for, target, ddb):
    proxy = proxy_for()
    proxy.script("dynamodb:PutItem", LOST)
    result = counter.init_counter(target, initial=41)
    assert live_count(ddb, target.table) == 41
    assert proxy.forwarded["dynamodb:PutItem"] == 2
    assert (result.created, result.value) == (True, 41)


def test_set_whose_answer_was_lost_is_reported_done_and_audited(proxy_for, ddb, target, tmp_path):
    put_count(ddb, target.table, 100)
    proxy = proxy_for()
    proxy.script("dynamodb:UpdateItem", LOST)
    try:
        result = _set(target, 250, tmp_path, expected_current=100)
    finally:
        assert live_count(ddb, target.table) == 250  # applied exactly once either way
        assert proxy.forwarded["dynamodb:UpdateItem"] == 2
    assert (result.applied, result.old, result.new) == (True, 100, 250)
    assert [(a["old"], a["new"]) for a in auditlog.read_audit(tmp_path / "audit.jsonl")] == [
        (100, 250)
    ]


def test_set_retry_does_not_wipe_visits_counted_meanwhile(proxy_for, ddb, target, tmp_path):
    put_count(ddb, target.table, 100)

    def visits_during_backoff(info: RequestInfo) -> None:
        if info.op == "dynamodb:UpdateItem" and info.n == 1:  # botocore's retry
            for _ in range(3):
                counter.increment(target, ddb=ddb)  # straight to moto

    proxy = proxy_for(on_request=visits_during_backoff)
    proxy.script("dynamodb:UpdateItem", LOST)
    result = _set(target, 250, tmp_path)
    assert proxy.forwarded["dynamodb:UpdateItem"] == 2
    assert live_count(ddb, target.table) == 253  # 250, then the three visits
    assert result.old == 100


def test_restore_item_whose_answer_was_lost_is_reported_done(proxy_for, ddb, target, tmp_path):
    put_count(ddb, target.table, 300)
    backup = itembackup.backup_item(target, dest_dir=tmp_path / "b", ddb=ddb)
    put_count(ddb, target.table, 100)
    proxy = proxy_for()
    proxy.script("dynamodb:UpdateItem", LOST)
    try:
        out = itembackup.restore_item(
            target, backup.path, dry_run=False, confirm=target.table, backup_dir=tmp_path / "b"
        )
    finally:
        assert live_count(ddb, target.table) == 300
    assert (out.restored, out.old, out.new) == (True, 100, 300)


def test_restore_table_whose_counter_answer_was_lost_is_reported_done(
    proxy_for, ddb, target, moto_url, tmp_path
):
    fill(ddb, target.table, 30)
    put_count(ddb, target.table, 777)
    res = export.export_table(target, tmp_path / "exports", ddb=ddb, progress=False)
    dest, before = _dest_with_items(ddb, moto_url)
    proxy = proxy_for()
    proxy.script("dynamodb:PutItem", LOST)
    try:
        out = restore_into(res.path, dest)
    finally:
        assert scan_all(ddb, dest.table) == {**before, **scan_all(ddb, target.table)}
    assert (out.restored, out.verified, out.counter_after) == (True, True, 777)


def test_batch_writes_whose_answers_were_lost_are_idempotent(
    proxy_for, ddb, target, moto_url, tmp_path
):
    fill(ddb, target.table, 60)
    res = export.export_table(target, tmp_path / "exports", ddb=ddb, progress=False)
    dest, before = _dest_with_items(ddb, moto_url)
    proxy = proxy_for()
    proxy.script("dynamodb:BatchWriteItem", LOST, Fault("drop", AFTER), LOST)
    out = restore_into(res.path, dest)
    assert out.verified and proxy.forwarded["dynamodb:BatchWriteItem"] == 3 + 3
    assert scan_all(ddb, dest.table) == {**before, **scan_all(ddb, target.table)}


# ---- 3. an answer cut off mid-body (botocore reads with enforce_content_length=False) -----

CUT = Fault("drop", AFTER)


def test_history_with_a_cut_answer_is_retried_not_empty(proxy_for, seeded_history):
    names, now = seeded_history["names"], seeded_history["now"]
    clean = history.load_history(1, **names, now=now)
    proxy = proxy_for()
    proxy.script("monitoring:GetMetricData", CUT)
    hist = history.load_history(1, **names, now=now)
    # the cut answer is sent once more; every other call (a reset's dating read) once
    assert proxy.forwarded["monitoring:GetMetricData"] == clean.calls + 1
    pd.testing.assert_frame_equal(hist.frame, clean.frame)


def test_set_with_a_cut_sts_answer_completes(proxy_for, ddb, target, tmp_path):
    put_count(ddb, target.table, 100)
    proxy = proxy_for()
    proxy.script("sts:GetCallerIdentity", CUT)
    result = _set(target, 250, tmp_path, expected_current=100)
    assert result.applied and live_count(ddb, target.table) == 250


def test_dynamodb_cut_answers_are_retried_by_the_crc32_check(proxy_for, ddb, target):
    put_count(ddb, target.table, 41)
    proxy = proxy_for()
    proxy.script("dynamodb:GetItem", *[CUT] * MAX_STREAK)
    assert counter.read_count(target) == 41
    assert proxy.requests["dynamodb:GetItem"] == MAX_STREAK + 1


# ---- 4. retries run out: a clear RunbookError, nothing written, never a false claim -------
# Each (operation, fault) gets a table of its own and a proxy that fails every request naming
# it, on every attempt.

# The last attempt's fault decides the error. For `throttle`, the attempts before it get
# 500s: botocore backs off ~1 s x 2**n after a throttle but 25-50 ms x 2**n after a 500,
# so the run takes a second instead of ~30 s and still ends on a throttle.
EXHAUST_KINDS = ("error500", "throttle", "drop", "cut")
STATE_CLAIMS = (ItemMissingError, TableMissingError, CountConflictError, RestoreVerificationError)


def _exhausting_rule(marker: str, kind: str) -> Callable[[RequestInfo], Fault | None]:
    """Every request naming `marker` (a table, a metric dimension) gets the fault."""
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def rule(info: RequestInfo) -> Fault | None:
        if not info.names(marker):
            return None
        with lock:  # one call's attempts: requests of the same operation
            n = seen[info.op] = seen.get(info.op, -1) + 1
        if kind == "throttle":
            return Fault("throttle") if n % ATTEMPTS == ATTEMPTS - 1 else Fault("error500")
        if kind == "cut":
            return Fault("drop", AFTER)
        return Fault(kind, BEFORE)

    return rule


def _prepare(op: str, ddb: Any, moto_url: str, folder: Path) -> tuple[str, Callable, Callable]:
    """(marker, run, unchanged): a table (or metric) of its own for `op`, the call to make,
    and a check that the table (or folder) is as it was."""

    def own_table(count: int | None) -> tuple[Target, Callable[[], bool]]:
        t = new_target(ddb, moto_url)
        if count is not None:
            put_count(ddb, t.table, count)
        before = scan_all(ddb, t.table)
        return t, lambda: scan_all(ddb, t.table) == before

    if op == "init":
        t, same = own_table(None)
        return t.table, lambda: counter.init_counter(t, initial=5), same
    if op == "set":
        t, same = own_table(100)
        return t.table, lambda: _set(t, 250, folder, expected_current=100), same
    if op == "status":
        t, same = own_table(41)
        return t.table, lambda: status.run_status(t), same
    if op == "export":
        t, same = own_table(41)
        out = folder / "exports"
        out.mkdir()
        run = lambda: export.export_table(t, out, page_size=5, progress=False)  # noqa: E731
        return t.table, run, lambda: same() and list(out.iterdir()) == []
    if op == "restore_table":
        src, _ = own_table(777)
        fill(ddb, src.table, 30)
        path = export.export_table(src, folder / "src", ddb=ddb, progress=False).path
        t, same = own_table(5)
        return t.table, lambda: restore_into(path, t), same
    if op == "restore_item":
        t, _ = own_table(300)
        path = itembackup.backup_item(t, dest_dir=folder, ddb=ddb).path
        put_count(ddb, t.table, 100)
        run = lambda: itembackup.restore_item(  # noqa: E731
            t, path, dry_run=False, confirm=t.table, backup_dir=folder
        )
        return t.table, run, own_table_same(ddb, t)
    assert op == "history"  # its own metric dimensions; no data needed: every read fails
    tag = f"h-{uuid.uuid4().hex[:10]}"
    now = pd.Timestamp("2022-08-01T00:00:00Z")
    run = lambda: history.load_history(1, table=tag, function_name=tag, api_id=tag, now=now)  # noqa: E731
    return tag, run, lambda: True


def own_table_same(ddb: Any, t: Target) -> Callable[[], bool]:
    before = scan_all(ddb, t.table)
    return lambda: scan_all(ddb, t.table) == before


CUT_REASON = (
    "a body cut mid-response on every attempt: botocore's CRC32 check retries DynamoDB, then "
    "returns the truncated answer as SUCCESS ({'MaxAttemptsReached': True}, no data), so "
    "the runbook acts on an empty response"
)
DROP_REASON = (
    "errors.from_client_error leaves botocore's ConnectionClosedError (connection dropped, "
    "retries exhausted) unmapped: a raw botocore exception reaches the operator"
)
KNOWN = {
    ("init", "drop"): DROP_REASON,
    ("set", "drop"): DROP_REASON,
    ("export", "drop"): DROP_REASON,
    ("restore_table", "drop"): DROP_REASON,
    ("restore_item", "drop"): DROP_REASON,
    ("history", "drop"): DROP_REASON,
    ("status", "drop"): DROP_REASON + " (status shows botocore's text with NO next step)",
    ("set", "cut"): CUT_REASON + ": GetItem looks empty, set says the item does not exist",
    ("status", "cut"): CUT_REASON + ": status reports the counter item MISSING ('no item "
    "stat=Quantity') and the table check shows a bare KeyError text",
    ("export", "cut"): CUT_REASON + ": DescribeTable looks empty, a raw KeyError escapes",
    ("restore_table", "cut"): CUT_REASON + ": DescribeTable looks empty, a raw KeyError",
    ("history", "cut"): CUT_REASON + " (CloudWatch has no CRC: no retry at all): an empty "
    "window is returned as the history",
}


def _exhaust_params() -> list[Any]:
    params = []
    for op in ("init", "set", "status", "export", "restore_table", "restore_item", "history"):
        for kind in EXHAUST_KINDS:
            if (op, kind) == ("init", "cut"):
                continue  # init's first call is its write: a cut answer is not "nothing written"
            # KNOWN records what each case used to do before the fixes; none is open now
            params.append(pytest.param(op, kind, id=f"{op}-{kind}"))
    return params


@pytest.mark.parametrize(("op", "kind"), _exhaust_params())
def test_exhausted_retries_fail_clearly_and_write_nothing(
    proxy_for, ddb, moto_url, tmp_path, op, kind
):
    marker, run, unchanged = _prepare(op, ddb, moto_url, tmp_path)
    proxy_for(rule=_exhausting_rule(marker, kind))
    try:
        outcome = run()
    except Exception as exc:  # the outcome under test
        outcome = exc
    assert unchanged(), "a failed operation changed the table (or left export files)"
    if op == "status":  # the status check never raises: its verdict must say what failed
        assert isinstance(outcome, status.StatusReport), outcome
        assert not outcome.healthy and outcome.count is None
        failed = [c for c in outcome.checks if c.state == report.FAIL]
        assert failed and all(c.detail and c.next_step for c in failed)
        assert not any(c.detail.startswith("no item") for c in failed), "a false 'missing'"
        return
    assert isinstance(outcome, RunbookError), f"{type(outcome).__name__}: {outcome}"
    assert not isinstance(outcome, STATE_CLAIMS), f"a false claim about the table: {outcome}"
    assert "Next step:" in str(outcome)
    if kind == "throttle":
        assert isinstance(outcome, ThrottledError)


# ---- 5. the server killed mid-export and mid-restore ------------------------------------

PAGES_BEFORE_KILL = 3


@pytest.fixture
def dedicated(tmp_path: Path, moto_url: str) -> Iterator[Callable[..., tuple[int, str]]]:
    """start(**env) -> (pid, url) of a moto server of this test's own (never the session's;
    moto_url only for the sandbox credentials it puts in the environment)."""
    pids: list[int] = []

    def start(name: str, **env: str) -> tuple[int, str]:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            pid, url = sandbox.start_server(log_path=tmp_path / f"moto-{name}.log")
        pids.append(pid)
        return pid, url

    yield start
    for pid in pids:
        sandbox.stop_pid(pid, timeout=2)


def test_server_killed_mid_export_leaves_no_complete_looking_file(
    dedicated, moto_url, tmp_path, monkeypatch
):
    pid, url = dedicated("export")
    direct = aws.client("dynamodb", endpoint_url=url)
    table = make_table(direct)
    fill(direct, table, 200)

    def kill_after_pages(info: RequestInfo) -> None:
        if info.op != "dynamodb:Scan":
            return
        if info.n == PAGES_BEFORE_KILL:  # three pages went by: SIGKILL; this one meets a 502
            kill9(pid)
        elif info.n == PAGES_BEFORE_KILL + 1:  # the retry finds a fresh (empty) sandbox
            proxy.retarget(moto_url)

    folder = tmp_path / "exports"
    with FaultProxy(url, on_request=kill_after_pages) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        with pytest.raises(TableMissingError, match="Scan"):
            export.export_table(table, folder, page_size=20, progress=False)
    assert proxy.forwarded["dynamodb:Scan"] == PAGES_BEFORE_KILL + 1  # 3 to A, 1 to the new one
    assert not sandbox.is_alive(url)
    assert list(folder.iterdir()) == []  # no manifest, no .jsonl.gz, no temp file
    assert export.list_exports(folder) == []


EXPORTER = """
import sys
from runbook_lib.steps.backup import export
export.export_table(sys.argv[1], sys.argv[2], page_size=20, progress=False)
"""


def test_exporter_killed_mid_export_leaves_only_a_refused_temp_file(
    proxy_for, ddb, table, tmp_path
):
    fill(ddb, table, 200)
    child: list[subprocess.Popen] = []

    def kill_exporter(info: RequestInfo) -> None:
        if info.op == "dynamodb:Scan" and info.n == PAGES_BEFORE_KILL:
            os.kill(child[0].pid, signal.SIGKILL)  # Popen reaps it: returncode -9

    proxy = proxy_for(on_request=kill_exporter)
    folder = tmp_path / "exports"
    child.append(
        subprocess.Popen(
            [sys.executable, "-c", EXPORTER, table, str(folder)],
            env=dict(os.environ),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    try:
        child[0].wait(timeout=60)
    finally:
        if child[0].poll() is None:
            child[0].kill()
            child[0].wait()
    assert child[0].returncode == -signal.SIGKILL
    assert proxy.requests["dynamodb:Scan"] == PAGES_BEFORE_KILL + 1
    names = sorted(p.name for p in folder.iterdir())
    (partial,) = names  # the exporter's temp file: hidden, never the final name
    assert partial.startswith(".") and partial.endswith(".partial")
    assert not any(n.endswith((exportfile.DATA_SUFFIX, exportfile.MANIFEST_SUFFIX)) for n in names)
    assert export.list_exports(folder) == []
    with pytest.raises(BackupFileError, match="not a table export"):
        exportread.verify_export(folder / partial)
    renamed = shutil.copy(folder / partial, tmp_path / f"{table}-renamed{exportfile.DATA_SUFFIX}")
    with pytest.raises(BackupFileError, match="No manifest"):
        exportread.verify_export(renamed)


BATCHES_BEFORE_KILL = 2


def _replay(url: str) -> None:
    req = urllib.request.Request(
        f"{url}/moto-api/recorder/replay-recording", data=b"", method="POST"
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status == 200


def test_server_killed_mid_restore_then_rerun_converges(dedicated, tmp_path, monkeypatch):
    """Server A records every request it receives (moto's recorder); it is SIGKILLed after
    two restore batches; B, fresh, answers the retry (table missing, the restore fails); then
    A's recording is replayed into B (the durable state comes back, as DynamoDB's would) and
    the same restore, run again, converges to the table an uninterrupted restore gives.
    One writer, so that which batches reached A before the kill is known exactly."""
    recording = tmp_path / "moto-recording.jsonl"
    pid_a, url_a = dedicated(
        "a", MOTO_ENABLE_RECORDING="True", MOTO_RECORDER_FILEPATH=str(recording)
    )
    _, url_b = dedicated("b", MOTO_RECORDER_FILEPATH=str(recording))
    direct_a = aws.client("dynamodb", endpoint_url=url_a)
    src = Target(table=make_table(direct_a), endpoint=url_a)
    fill(direct_a, src.table, 100)
    put_count(direct_a, src.table, 777)
    res = export.export_table(src, tmp_path / "exports", ddb=direct_a, progress=False)
    dest, before = _dest_with_items(direct_a, url_a)
    expected = {**before, **scan_all(direct_a, src.table)}

    def kill_after_batches(info: RequestInfo) -> None:
        if info.op != "dynamodb:BatchWriteItem":
            return
        if info.n == BATCHES_BEFORE_KILL:
            kill9(pid_a)
        elif info.n == BATCHES_BEFORE_KILL + 1:
            proxy.retarget(url_b)

    def restore() -> tablerestore.TableRestoreResult:
        return restore_into(res.path, dest, writers=1)

    with FaultProxy(url_a, on_request=kill_after_batches) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        with pytest.raises(TableMissingError, match="BatchWriteItem"):
            restore()
        assert proxy.forwarded["dynamodb:BatchWriteItem"] == BATCHES_BEFORE_KILL + 1

        _replay(url_b)  # B now holds what A held when it died: two batches written
        direct_b = aws.client("dynamodb", endpoint_url=url_b)
        order = [o["stat"]["S"] for o in exportread.iter_export(res.path)]
        done = [k for k in order if k != "Quantity"][: BATCHES_BEFORE_KILL * batch.MAX_BATCH_WRITE]
        assert scan_all(direct_b, dest.table) == {  # the counter goes last: not reached
            **before,
            **{k: expected[k] for k in done},
        }

        first, again = restore(), restore()
    assert (first.restored, first.verified, first.counter_before) == (True, True, 5)
    assert (again.verified, again.counter_before) == (True, 777)
    assert scan_all(direct_b, dest.table) == expected


# ---- 6. a set and a restore racing 8 threads of visits ------------------------------------

THREADS = 8
MAX_VISITS_PER_THREAD = 150
VISITS_AFTER_WRITE = 3  # each thread keeps visiting until it counted this many after it
FAR = 1_000_000  # written values far above any visit count: a visit's answer tells its side


class Visitors:
    """THREADS threads calling the Lambda handler until the write is done and each has
    made VISITS_AFTER_WRITE visits after it (bounded). Records every answered count.
    `pause()` holds new visits and waits for those in flight: a quiet window."""

    def __init__(self, visit: Callable[[], dict]) -> None:
        self.visit = visit
        self.counts: list[int] = []
        self.errors: list[dict] = []
        self.written = threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(THREADS)
        self._futures: list[Any] = []

    def run(self) -> None:
        after = 0
        for _ in range(MAX_VISITS_PER_THREAD):
            self._enter()
            answer = self.visit()
            with self._lock:
                self._in_flight -= 1
                if answer["statusCode"] != 200:
                    self.errors.append(answer)
                else:
                    self.counts.append(json.loads(answer["body"])["count"])
            after += self.written.is_set()
            if after >= VISITS_AFTER_WRITE:
                return

    def _enter(self) -> None:
        """Wait while paused; count this visit in flight (checked under the lock, so pause()
        never misses a visit that is about to start)."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            self._go.wait(WAIT_S)
            with self._lock:
                if self._go.is_set():
                    self._in_flight += 1
                    return
        raise AssertionError("visitors paused for too long")

    def __enter__(self) -> Visitors:
        self._futures = [self._pool.submit(self.run) for _ in range(THREADS)]
        return self

    def visited(self) -> int:
        with self._lock:
            return len(self.counts) + len(self.errors)

    def wait_for(self, n: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while self.visited() < n and time.monotonic() < deadline:
            time.sleep(0.005)

    def pause(self) -> None:
        with self._lock:
            self._go.clear()
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return
            time.sleep(0.002)

    def resume(self) -> None:
        self._go.set()

    def __exit__(self, *exc: object) -> None:
        self.written.set()
        self._go.set()
        for fut in self._futures:
            fut.result(timeout=60)
        self._pool.shutdown()


def _hold_write_until_a_visit(visitors: Visitors) -> Callable[[RequestInfo], None]:
    """on_request hook: the writer's first conditional write (visits are unconditional ADDs)
    waits for one more visit, so the count it read has moved: a conflict, not luck."""
    held = threading.Event()

    def hook(info: RequestInfo) -> None:
        if b"ConditionExpression" in info.body and not held.is_set():
            held.set()
            visitors.wait_for(visitors.visited() + 1)

    return hook


class _Late:
    """An on_request hook set once the visitors exist."""

    hook: Callable[[RequestInfo], None] | None = None

    def __call__(self, info: RequestInfo) -> None:
        if self.hook:
            self.hook(info)


def _assert_sides(counts: list[int], initial: int, old: int, written: int, final: int) -> None:
    """Every visit landed before the write (answers initial+1..old) or after it (answers
    written+1..final), each exactly once: none lost, none double-counted."""
    before = sorted(c for c in counts if c < FAR)
    after = sorted(c for c in counts if c > written)
    assert len(before) + len(after) == len(counts), "a visit answered a value nobody wrote"
    assert before == list(range(initial + 1, old + 1))
    assert after == list(range(written + 1, final + 1))
    assert after, "no visit landed after the write: the race did not happen"


def test_set_racing_visits_loses_none_and_reports_the_conflict(
    proxy_for, ddb, target, visit, tmp_path
):
    put_count(ddb, target.table, 0)
    hold = _Late()
    proxy_for(on_request=hold, serialize=True)  # visits and writer both go through it
    visit()
    with Visitors(visit) as visitors:
        hold.hook = _hold_write_until_a_visit(visitors)
        visitors.wait_for(16)
        read = counter.read_count(target)
        with pytest.raises(CountConflictError, match="count moved"):
            _set(target, FAR // 2, tmp_path, expected_current=read)  # would land at 500,000
        result = _set(target, FAR, tmp_path)  # the operator forces it
        visitors.written.set()
    final = live_count(ddb, target.table)
    assert not visitors.errors
    _assert_sides([1, *visitors.counts], 0, result.old, FAR, final)
    audit = auditlog.read_audit(tmp_path / "audit.jsonl")
    assert [(a["old"], a["new"]) for a in audit] == [(result.old, FAR)]


@pytest.mark.parametrize("kind", ["item", "table"])
def test_restore_racing_visits_conflicts_then_loses_none(
    proxy_for, ddb, target, moto_url, visit, tmp_path, kind
):
    put_count(ddb, target.table, FAR)
    if kind == "item":
        path = itembackup.backup_item(target, dest_dir=tmp_path / "b", ddb=ddb).path
    else:
        path = export.export_table(target, tmp_path / "exports", ddb=ddb, progress=False).path
    put_count(ddb, target.table, 0)
    hold = _Late()
    proxy_for(on_request=hold, serialize=True)  # visits and writer both go through it
    visit()

    def restore() -> Any:
        if kind == "item":
            return itembackup.restore_item(
                target, path, dry_run=False, confirm=target.table, backup_dir=tmp_path / "b"
            )
        return tablerestore.restore_table(
            path, target, dry_run=False, confirm=target.table, progress=False
        )

    with Visitors(visit) as visitors:
        hold.hook = _hold_write_until_a_visit(visitors)
        visitors.wait_for(16)
        with pytest.raises(CountConflictError) as conflict:
            restore()  # its conditional write meets a count that moved since it read it
        visitors.pause()  # the operator re-runs it, as the conflict's hint says
        out = restore()
        visitors.resume()
        visitors.written.set()
    assert "Next step:" in str(conflict.value) and not visitors.errors
    old = out.old if kind == "item" else out.counter_before
    _assert_sides([1, *visitors.counts], 0, old, FAR, live_count(ddb, target.table))
