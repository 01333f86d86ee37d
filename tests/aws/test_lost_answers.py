"""Every write of the counter item, with its answer lost after the write reached the table.

`tests/faultproxy.py` sits between the runbook and the moto server: each test lets one write
through to moto and then loses its answer (a 500, or the connection cut mid-answer), so
botocore retries the same request into its own applied write. The runbook must report the
write as done (never "nothing was written" or a conflict), the count must be right, and the
write must not be applied twice: visits counted during the retry's backoff are kept.
Setup and every check talk to moto directly, never through the proxy.

Covered in tests/aws/test_faults.py and kept there: a lost init (PutItem), a lost set and a
set retry over visits (UpdateItem), a lost item restore of an existing item (UpdateItem) and
a lost table-restore counter put (PutItem), each with a 500 after the write.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from runbook_lib.aws import counter
from runbook_lib.aws.writetoken import WRITE_TOKEN
from runbook_lib.model import Target
from runbook_lib.sandbox import recoverdemo
from runbook_lib.sandbox import server as sandbox
from runbook_lib.steps import recover, setcount
from runbook_lib.steps.backup import copyback, export, itembackup, tablerestore
from runbook_lib.steps.common import auditlog
from tests.conftest import make_table
from tests.faultproxy import AFTER, BEFORE, Fault, FaultProxy, RequestInfo

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("backups")]

# the write reached moto, then its answer was lost: a 500, or the connection cut mid-answer
LOST = [Fault("error500", AFTER), Fault("drop", AFTER)]
LOST_IDS = ["500-after", "cut-after"]
VISITS = 3  # visits counted while botocore waits to retry


@pytest.fixture
def proxy_for(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """proxy_for(**options) starts a FaultProxy in front of moto and points the runbook's
    clients (AWS_ENDPOINT_URL) at it; clients made before keep talking to moto directly."""
    started: list[FaultProxy] = []

    def make(**options: Any) -> FaultProxy:
        proxy = FaultProxy(moto_url, **options).start()
        started.append(proxy)
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


def new_target(ddb: Any, moto_url: str) -> Target:
    return Target(table=make_table(ddb), endpoint=moto_url, region=sandbox.REGION)


def put_count(ddb: Any, target: Target, value: int) -> None:
    ddb.put_item(TableName=target.table, Item={**target.key, "viewCount": {"N": str(value)}})


def live_item(ddb: Any, target: Target) -> dict[str, Any] | None:
    return ddb.get_item(TableName=target.table, Key=target.key, ConsistentRead=True).get("Item")


def live_count(ddb: Any, target: Target) -> int | None:
    item = live_item(ddb, target)
    return int(item["viewCount"]["N"]) if item else None


def visits_before_the_retry(op: str, target: Target, ddb: Any) -> Callable[[RequestInfo], None]:
    """A proxy hook: when botocore resends `op` (its retry), VISITS visits land first,
    straight on moto, as the Lambda would count them during the backoff."""

    def hook(info: RequestInfo) -> None:
        if info.op == op and info.n == 1:
            for _ in range(VISITS):
                counter.increment(target, ddb=ddb)

    return hook


def lost_once(proxy_for: Callable[..., FaultProxy], op: str, fault: Fault, **hook: Any) -> Any:
    """A proxy that loses the answer of the first `op` request after moto applied it."""
    proxy = proxy_for(**hook)
    proxy.script(op, fault)
    return proxy


# ---- init: PutItem if missing -------------------------------------------------------------


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_init_whose_answer_was_lost_is_created_once_and_keeps_the_visits(
    proxy_for, ddb, target, fault
):
    hook = visits_before_the_retry("dynamodb:PutItem", target, ddb)
    proxy = lost_once(proxy_for, "dynamodb:PutItem", fault, on_request=hook)

    result = counter.init_counter(target, initial=41)

    assert (result.created, result.value) == (True, 41)
    assert proxy.forwarded["dynamodb:PutItem"] == 2  # the write, and botocore's retry
    assert live_count(ddb, target) == 41 + VISITS
    assert live_item(ddb, target)[WRITE_TOKEN]["S"], "the init's token tells the retry apart"


def test_an_init_that_never_landed_is_not_mistaken_for_anothers_identical_one(
    proxy_for, ddb, target
):
    """GIVEN our PutItem refused before moto (a 500 BEFORE) WHEN another init of the same
    value lands during the backoff THEN our retry is NOT our write: exactly one created."""
    others: list[counter.InitResult] = []

    def another_init(info: RequestInfo) -> None:
        if info.op == "dynamodb:PutItem" and info.n == 1:
            others.append(counter.init_counter(target, initial=41, ddb=ddb))

    proxy = lost_once(
        proxy_for, "dynamodb:PutItem", Fault("error500", BEFORE), on_request=another_init
    )
    ours = counter.init_counter(target, initial=41)

    assert proxy.forwarded["dynamodb:PutItem"] == 1  # only the retry reached moto
    assert [r.created for r in others] == [True]
    assert (ours.created, ours.value) == (False, 41)
    assert live_count(ddb, target) == 41


# ---- set (03_set_count) and recover (07_recover, through set_count) -----------------------


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_set_whose_answer_was_lost_is_applied_once_audited_once(
    proxy_for, ddb, target, tmp_path, fault
):
    put_count(ddb, target, 100)
    hook = visits_before_the_retry("dynamodb:UpdateItem", target, ddb)
    proxy = lost_once(proxy_for, "dynamodb:UpdateItem", fault, on_request=hook)

    result = setcount.set_count(
        target, 250, reason="lost answer", dry_run=False, confirm=target.table,
        audit_path=tmp_path / "audit.jsonl", backup_dir=tmp_path / "b",
    )  # fmt: skip

    assert (result.applied, result.old, result.new, result.refused) == (True, 100, 250, None)
    assert proxy.forwarded["dynamodb:UpdateItem"] == 2
    assert live_count(ddb, target) == 250 + VISITS, "the retry did not wipe the visits"
    audit = auditlog.read_audit(tmp_path / "audit.jsonl")
    assert [(a["old"], a["new"]) for a in audit] == [(100, 250)]


@pytest.fixture
def planted(moto_url: str) -> Target:
    """A counter with a reset planted in CloudWatch: 5,000, then 0, then 37 (live 37)."""
    target = Target(
        table=f"r-{uuid.uuid4().hex[:10]}-VisitorCount",
        endpoint=moto_url,
        region=sandbox.REGION,
        function_name="fn",
    )
    frame = recoverdemo.reset_frame(3, end=dt.datetime.now(dt.timezone.utc))
    assert recoverdemo.plant_reset(target, frame) == 37
    return target


def test_recover_whose_write_answer_was_lost_is_applied_once_not_a_conflict(
    proxy_for, ddb, planted, tmp_path
):
    proxy = lost_once(proxy_for, "dynamodb:UpdateItem", LOST[0])

    rec = recover.run(
        planted, days=3, period=300, dry_run=False, confirm=planted.table,
        audit_path=tmp_path / "audit.jsonl", backup_dir=tmp_path / "b",
    ).fields  # fmt: skip

    assert rec["applied"] and rec["attempts"] == 1, rec["verdict"]  # done, not a conflict
    assert (rec["live"], rec["recovered"]) == (37, 5037)
    assert proxy.forwarded["dynamodb:UpdateItem"] == 2
    assert live_count(ddb, planted) == 5037
    audit = auditlog.read_audit(tmp_path / "audit.jsonl")
    assert [(a["old"], a["new"]) for a in audit] == [(37, 5037)]


# ---- item restore (04_backup_restore action=restore) --------------------------------------


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_item_restore_into_a_missing_item_whose_answer_was_lost_reports_restored(
    proxy_for, ddb, target, tmp_path, fault
):
    put_count(ddb, target, 300)
    backup = itembackup.backup_item(target, dest_dir=tmp_path / "b", ddb=ddb)
    ddb.delete_item(TableName=target.table, Key=target.key)
    hook = visits_before_the_retry("dynamodb:PutItem", target, ddb)
    proxy = lost_once(proxy_for, "dynamodb:PutItem", fault, on_request=hook)

    out = itembackup.restore_item(target, backup.path, dry_run=False, confirm=target.table)

    assert (out.restored, out.old, out.new) == (True, None, 300), out.message
    assert "created it from" in out.message
    assert proxy.forwarded["dynamodb:PutItem"] == 2
    assert live_count(ddb, target) == 300 + VISITS


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_item_restore_over_a_live_item_whose_answer_was_lost_keeps_the_visits(
    proxy_for, ddb, target, tmp_path, fault
):
    put_count(ddb, target, 300)
    backup = itembackup.backup_item(target, dest_dir=tmp_path / "b", ddb=ddb)
    put_count(ddb, target, 100)
    hook = visits_before_the_retry("dynamodb:UpdateItem", target, ddb)
    proxy = lost_once(proxy_for, "dynamodb:UpdateItem", fault, on_request=hook)

    out = itembackup.restore_item(
        target, backup.path, dry_run=False, confirm=target.table, backup_dir=tmp_path / "b"
    )

    assert (out.restored, out.old, out.new) == (True, 100, 300), out.message
    assert proxy.forwarded["dynamodb:UpdateItem"] == 2
    assert live_count(ddb, target) == 300 + VISITS


# ---- table restore: the counter item's conditional put ------------------------------------


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_table_restore_counter_put_whose_answer_was_lost_keeps_the_visits(
    proxy_for, ddb, target, moto_url, tmp_path, fault
):
    put_count(ddb, target, 777)
    res = export.export_table(target, tmp_path / "exports", ddb=ddb, progress=False)
    dest = new_target(ddb, moto_url)
    put_count(ddb, dest, 5)
    hook = visits_before_the_retry("dynamodb:PutItem", dest, ddb)
    proxy = lost_once(proxy_for, "dynamodb:PutItem", fault, on_request=hook)

    out = tablerestore.restore_table(
        res.path, dest, dry_run=False, confirm=dest.table, allow_other_table=True,
        progress=False,
    )  # fmt: skip

    assert (out.restored, out.verified, out.counter_before) == (True, True, 5)
    assert proxy.forwarded["dynamodb:PutItem"] == 2
    assert live_count(ddb, dest) == 777 + VISITS, "the retry did not wipe the visits"
    assert WRITE_TOKEN not in live_item(ddb, dest), "a table restore writes the export as is"


# ---- copy back from a restored table (native backup / PITR) -------------------------------


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_copy_back_whose_answer_was_lost_reports_written_and_keeps_the_visits(
    proxy_for, ddb, target, moto_url, fault
):
    restored = new_target(ddb, moto_url)
    put_count(ddb, restored, 500)
    put_count(ddb, target, 100)
    hook = visits_before_the_retry("dynamodb:UpdateItem", target, ddb)
    proxy = lost_once(proxy_for, "dynamodb:UpdateItem", fault, on_request=hook)

    out = copyback.copy_counter_back(restored.table, target, dry_run=False, confirm=target.table)

    assert (out.written, out.before, out.after) == (True, 100, 500)
    assert proxy.forwarded["dynamodb:UpdateItem"] == 2
    assert live_count(ddb, target) == 500 + VISITS


def test_copy_back_into_a_missing_item_whose_answer_was_lost_reports_written(
    proxy_for, ddb, target, moto_url
):
    restored = new_target(ddb, moto_url)
    put_count(ddb, restored, 500)
    proxy = lost_once(proxy_for, "dynamodb:PutItem", LOST[0])

    out = copyback.copy_counter_back(restored.table, target, dry_run=False, confirm=target.table)

    assert (out.written, out.before, out.after) == (True, None, 500)
    assert proxy.forwarded["dynamodb:PutItem"] == 2
    assert live_count(ddb, target) == 500
