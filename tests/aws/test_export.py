"""Whole-table export, verification and restore against a real moto server over HTTP."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from runbook_lib.aws import batch, counter
from runbook_lib.errors import (
    BackupFileError,
    ConfirmationError,
    InvalidInputError,
    RestoreVerificationError,
    TableMissingError,
    TableSchemaError,
    ThrottledError,
)
from runbook_lib.formats import exportread
from runbook_lib.model import Target
from runbook_lib.steps.backup import export, tablerestore
from tests.conftest import make_table

TYPED = {
    "n38": {"N": "12345678901234567890123456789012345678"},
    "frac": {"N": "-0.000000000000000000000000000000000001"},
    "s": {"S": "héllo ✓"},
    "b": {"B": b"\x00\xff\x10binary"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "99999999999999999999999999999999999999"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "l": {"L": [{"N": "1"}, {"S": "x"}, {"M": {"deep": {"BOOL": False}}}]},
    "m": {"M": {"a": {"NULL": True}, "b": {"L": []}}},
    "null": {"NULL": True},
    "yes": {"BOOL": True},
}


def fill(ddb, table: str, n: int, *, prefix: str = "k", extra: dict | None = None) -> None:
    """n items k00000.. with a number each, written 25 at a time."""
    for start in range(0, n, 25):
        puts = [
            {
                "PutRequest": {
                    "Item": {"stat": {"S": f"{prefix}{i:05d}"}, "v": {"N": str(i)}, **(extra or {})}
                }
            }
            for i in range(start, min(n, start + 25))
        ]
        ddb.batch_write_item(RequestItems={table: puts})


def scan_all(ddb, table: str) -> dict[str, dict]:
    items, kwargs = {}, {"TableName": table, "ConsistentRead": True}
    while True:
        resp = ddb.scan(**kwargs)
        items.update({i["stat"]["S"]: i for i in resp["Items"]})
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def lines(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture
def exported(ddb, table, tmp_path) -> export.ExportResult:
    """A table of 40 plain items plus one holding every DynamoDB type, exported."""
    fill(ddb, table, 40)
    ddb.put_item(TableName=table, Item={"stat": {"S": "typed"}, **TYPED})
    return export.export_table(table, tmp_path / "exports", ddb=ddb, page_size=7)


# ------------------------------------------------------------------ export


def test_export_paginates_and_writes_manifest_last(exported, table):
    manifest = json.loads(exported.manifest_path.read_text())
    assert exported.item_count == manifest["item_count"] == 41
    assert manifest["key_schema"] == [{"AttributeName": "stat", "KeyType": "HASH"}]
    assert manifest["key_types"] == {"stat": "S"}
    assert manifest["table"] == table and manifest["segments"] == 1
    assert manifest["sha256"] == hashlib.sha256(exported.path.read_bytes()).hexdigest()
    assert manifest["started_at"].endswith("Z") and manifest["finished_at"].endswith("Z")
    assert exported.manifest_path.stat().st_mtime_ns >= exported.path.stat().st_mtime_ns
    typed = next(r for r in lines(exported.path) if r["stat"]["S"] == "typed")
    assert typed["n38"] == {"N": "12345678901234567890123456789012345678"}
    assert typed["b"] == {"B": "AP8QYmluYXJ5"}, "binary is base64, as the AWS CLI writes it"
    assert not list(exported.path.parent.glob("*.partial")), "no temp files left behind"
    assert exportread.verify_export(exported.path).item_count == 41
    assert exportread.verify_export(exported.manifest_path).item_count == 41


def test_parallel_segments_export_every_item_once(ddb, table, tmp_path):
    fill(ddb, table, 150)
    res = export.export_table(table, tmp_path, segments=4, page_size=9, ddb=ddb)
    keys = [r["stat"]["S"] for r in lines(res.path)]
    assert res.item_count == len(keys) == len(set(keys)) == 150
    assert json.loads(res.manifest_path.read_text())["segments"] == 4


def test_segment_failure_leaves_no_file(ddb, table, tmp_path, monkeypatch):
    fill(ddb, table, 30)
    calls = {"n": 0}
    real_scan = ddb.scan

    def flaky_scan(**kwargs):
        calls["n"] += 1
        if kwargs.get("Segment") == 2:
            raise RuntimeError("segment 2 broke")
        return real_scan(**kwargs)

    monkeypatch.setattr(ddb, "scan", flaky_scan)
    with pytest.raises(RuntimeError, match="segment 2 broke"):
        export.export_table(table, tmp_path, segments=3, page_size=2, ddb=ddb)
    assert list(tmp_path.iterdir()) == [], "neither a data file, a manifest nor a temp file"


def test_export_of_missing_table_says_what_to_do(ddb, tmp_path):
    with pytest.raises(TableMissingError, match="no-such-table"):
        export.export_table("no-such-table", tmp_path, ddb=ddb)


@pytest.mark.parametrize("segments", [0, -1, True, "4", 1_000_001])
def test_bad_segments_are_refused(segments, tmp_path):
    with pytest.raises(InvalidInputError, match="segments"):
        export.export_table("any-table", tmp_path, segments=segments)


def test_empty_table_exports_zero_items(ddb, table, tmp_path):
    res = export.export_table(table, tmp_path, ddb=ddb)
    assert res.item_count == 0
    assert exportread.verify_export(res.path).item_count == 0


def test_same_second_exports_do_not_overwrite(ddb, table, tmp_path):
    first = export.export_table(table, tmp_path, ddb=ddb)
    second = export.export_table(table, tmp_path, ddb=ddb)
    assert first.path != second.path and first.path.exists() and second.path.exists()


# ------------------------------------------------------------------ restore round trip


def test_round_trip_into_a_fresh_table_is_exact(exported, ddb, table):
    source = scan_all(ddb, table)
    dest = make_table(ddb)
    dry = tablerestore.restore_table(exported.path, dest, allow_other_table=True, ddb=ddb)
    assert (dry.dry_run, dry.restored, dry.items_written) == (True, False, 0)
    assert scan_all(ddb, dest) == {}, "a dry run writes nothing"

    res = tablerestore.restore_table(
        exported.path, dest, allow_other_table=True, dry_run=False, confirm=dest, ddb=ddb
    )
    assert (res.restored, res.verified, res.items_written) == (True, True, 41)
    assert res.batches == 2  # 41 items minus none guarded: 25 + 16
    assert scan_all(ddb, dest) == source


def test_restore_needs_the_destination_name_as_confirm(exported, ddb):
    dest = make_table(ddb)
    with pytest.raises(ConfirmationError, match="confirm must equal the table name"):
        tablerestore.restore_table(
            exported.path, dest, allow_other_table=True, dry_run=False, confirm="wrong", ddb=ddb
        )
    assert scan_all(ddb, dest) == {}


def test_restore_into_missing_table_creates_nothing(exported, ddb):
    with pytest.raises(TableMissingError):
        tablerestore.restore_table(exported.path, "not-there", dry_run=False, confirm="not-there")
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName="not-there")


def test_wrong_key_schema_writes_nothing(exported, ddb):
    dest = make_table(ddb, key="id")
    ddb.put_item(TableName=dest, Item={"id": {"S": "keep"}})
    with pytest.raises(TableSchemaError, match=r"key schema \[id HASH S\].*\[stat HASH S\]"):
        tablerestore.restore_table(
            exported.path, dest, allow_other_table=True, dry_run=False, confirm=dest, ddb=ddb
        )
    assert ddb.scan(TableName=dest)["Count"] == 1


# ------------------------------------------------------------------ damaged files


def _rewrite_manifest(exported, **changes) -> None:
    data = json.loads(exported.manifest_path.read_text())
    data.update(changes)
    exported.manifest_path.write_text(json.dumps(data))


def _truncate(exported):
    raw = exported.path.read_bytes()
    exported.path.write_bytes(raw[: len(raw) // 2])


def _flip_byte(exported):
    raw = bytearray(exported.path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    exported.path.write_bytes(bytes(raw))


def _empty(exported):
    exported.path.write_bytes(b"")


def _drop_manifest(exported):
    exported.manifest_path.unlink()


def _wrong_count(exported):
    _rewrite_manifest(exported, item_count=40)


def _bad_line_resigned(exported):
    """A line that is JSON but not an item; manifest re-signed so only the line check fails."""
    rows = [json.dumps(r) for r in lines(exported.path)]
    rows[3] = json.dumps({"stat": {"S": "x"}, "v": {"N": "twelve"}})
    raw = gzip.compress(("\n".join(rows) + "\n").encode())
    exported.path.write_bytes(raw)
    _rewrite_manifest(exported, sha256=hashlib.sha256(raw).hexdigest(), bytes=len(raw))


def _not_json_resigned(exported):
    raw = gzip.compress(b'{"stat": {"S": "a"}}\n{"stat": \n')
    exported.path.write_bytes(raw)
    _rewrite_manifest(exported, sha256=hashlib.sha256(raw).hexdigest(), bytes=len(raw))


def _other_format(exported):
    _rewrite_manifest(exported, format="dynamodump")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_truncate, "damaged after the export. First problem found: .* truncated: the gzip"),
        (_flip_byte, "does not match its manifest: sha256 .* damaged after the export"),
        (_empty, "is empty"),
        (_drop_manifest, "No manifest .* the export did not finish"),
        (_wrong_count, "holds 41 items but its manifest says 40"),
        (_bad_line_resigned, r"line 4: attribute v\.N: .*twelve"),
        (_not_json_resigned, "line 2 is not valid JSON"),
        (_other_format, "has format 'dynamodump'"),
    ],
)
def test_damaged_export_is_refused_and_nothing_is_written(exported, ddb, damage, message):
    dest = make_table(ddb)
    ddb.put_item(TableName=dest, Item={"stat": {"S": "keep"}, "v": {"N": "1"}})
    damage(exported)
    with pytest.raises(BackupFileError, match=message):
        exportread.verify_export(exported.path)
    with pytest.raises(BackupFileError, match=message):
        tablerestore.restore_table(
            exported.path, dest, allow_other_table=True, dry_run=False, confirm=dest, ddb=ddb
        )
    assert scan_all(ddb, dest) == {"keep": {"stat": {"S": "keep"}, "v": {"N": "1"}}}


def test_sha_mismatch_with_intact_gzip_is_caught(exported):
    rows = lines(exported.path)
    raw = gzip.compress(("\n".join(json.dumps(r) for r in rows) + "\n").encode(), mtime=1)
    exported.path.write_bytes(raw)  # same items, different bytes: not the exported file
    with pytest.raises(BackupFileError, match="does not match its manifest: sha256"):
        exportread.verify_export(exported.path)


def test_listing_flags_an_export_without_manifest(exported):
    exported.manifest_path.unlink()
    rows = export.list_exports(exported.path.parent)
    assert rows[0]["complete"] is False and "No manifest" in rows[0]["problem"]


# ------------------------------------------------------------------ the live counter item


def _counter_export(ddb, tmp_path, count: int) -> tuple[Target, Path]:
    table = make_table(ddb)
    target = Target(table=table)
    counter.init_counter(target, initial=count, ddb=ddb)
    fill(ddb, table, 30)
    return target, export.export_table(table, tmp_path / "exp", ddb=ddb).path


def test_restore_refuses_to_lower_the_live_count(ddb, tmp_path, backups):
    target, path = _counter_export(ddb, tmp_path, 5)
    counter.increment(target, 10, ddb=ddb)  # live 15 > exported 5
    ddb.delete_item(TableName=target.table, Key={"stat": {"S": "k00003"}})
    for dry_run in (True, False):
        with pytest.raises(InvalidInputError, match=r"Refusing to lower viewCount .* 15 .* to 5"):
            tablerestore.restore_table(path, target, dry_run=dry_run, confirm=target.table, ddb=ddb)
    assert counter.read_count(target, ddb=ddb) == 15
    assert "k00003" not in scan_all(ddb, target.table), "refused before any write"
    assert not backups.exists()


def test_restore_lowers_with_allow_decrease_after_backing_up(ddb, tmp_path, backups):
    target, path = _counter_export(ddb, tmp_path, 5)
    counter.increment(target, 10, ddb=ddb)
    res = tablerestore.restore_table(
        path, target, dry_run=False, confirm=target.table, allow_decrease=True, ddb=ddb
    )
    assert (res.counter_before, res.counter_after) == (15, 5)
    assert counter.read_count(target, ddb=ddb) == 5
    backup = json.loads(res.live_backup_path.read_text())
    assert backup["viewCount"] == {"N": "15"}, "the live item was backed up before the write"


def test_restore_raises_a_reset_counter_back(ddb, tmp_path, backups):
    target, path = _counter_export(ddb, tmp_path, 500)
    counter.conditional_set(target, 0, allow_decrease=True, ddb=ddb)  # the guide's reset
    ddb.delete_item(TableName=target.table, Key={"stat": {"S": "k00007"}})
    res = tablerestore.restore_table(
        path, target.table, dry_run=False, confirm=target.table, ddb=ddb
    )
    assert res.verified and res.items_written == 31
    assert (res.counter_before, res.counter_after) == (0, 500)
    assert counter.read_count(target, ddb=ddb) == 500
    assert "k00007" in scan_all(ddb, target.table)
    assert res.live_backup_path and res.live_backup_path.exists()


# ------------------------------------------------------------------ faults


def _inject_unprocessed(ddb, rounds: int | None, drop: int = 5) -> dict:
    """Fault injection on this client only: the first `rounds` BatchWriteItem calls (None:
    every call) leave their last `drop` puts unwritten and report them as UnprocessedItems,
    as DynamoDB does under throttling. Restore writes from several threads, and botocore
    runs both hooks of a call in its calling thread: what a call held back is kept per
    thread."""
    state = {"calls": 0}
    lock, mine = threading.Lock(), threading.local()

    def hold_back(params, **_):
        with lock:
            state["calls"] += 1
            faulty = rounds is None or state["calls"] <= rounds
        mine.held = None
        if faulty:
            table, puts = next(iter(params["RequestItems"].items()))
            keep, held = puts[:-drop] or puts[:0], puts[-drop:]
            if not keep:  # a request must hold at least one put: write nothing, send one
                keep, held = puts[:1], puts
            params["RequestItems"] = {table: keep}
            mine.held = {table: held}

    def report(parsed, **_):
        if getattr(mine, "held", None):
            parsed["UnprocessedItems"] = mine.held

    ddb.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", hold_back)
    ddb.meta.events.register("after-call.dynamodb.BatchWriteItem", report)
    return state


def test_unprocessed_items_are_retried_until_written(exported, ddb, table, monkeypatch):
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)
    dest = make_table(ddb)
    state = _inject_unprocessed(ddb, rounds=3)
    res = tablerestore.restore_table(
        exported.path, dest, allow_other_table=True, dry_run=False, confirm=dest, ddb=ddb
    )
    assert res.verified and res.retries == 3
    assert state["calls"] == res.batches + 3
    assert scan_all(ddb, dest) == scan_all(ddb, table)
    assert len(waits) == 3 and all(0 <= w <= batch.BACKOFF_CAP_S for w in waits)


def test_unprocessed_items_give_up_after_bounded_attempts(exported, ddb, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda s: None)
    dest = make_table(ddb)
    state = _inject_unprocessed(ddb, rounds=None)
    with pytest.raises(ThrottledError, match=r"unprocessed after 8 attempts.*PARTIAL"):
        tablerestore.restore_table(  # one writer: the bound is per batch, counted exactly
            exported.path,
            dest,
            allow_other_table=True,
            dry_run=False,
            confirm=dest,
            ddb=ddb,
            writers=1,
        )
    assert state["calls"] == batch.MAX_BATCH_ATTEMPTS


@pytest.mark.parametrize("read_back", tablerestore.READ_BACK_MODES)
def test_read_back_mismatch_is_reported(exported, ddb, read_back):
    dest = make_table(ddb)

    def tamper(parsed, **_):
        for item in parsed.get("Responses", {}).get(dest, []):
            if item["stat"]["S"] == "k00002":
                item["v"] = {"N": "999"}

    ddb.meta.events.register("after-call.dynamodb.BatchGetItem", tamper)
    with pytest.raises(RestoreVerificationError, match="k00002"):
        tablerestore.restore_table(
            exported.path,
            dest,
            allow_other_table=True,
            dry_run=False,
            confirm=dest,
            ddb=ddb,
            read_back=read_back,
        )


def test_a_sample_read_back_reads_one_batch_and_all_reads_every_key(ddb, table, tmp_path):
    fill(ddb, table, 260)
    path = export.export_table(table, tmp_path, ddb=ddb, progress=False).path
    calls = []
    ddb.meta.events.register(
        "provide-client-params.dynamodb.BatchGetItem",
        lambda params, **_: calls.append(len(next(iter(params["RequestItems"].values()))["Keys"])),
    )
    kw = {"allow_other_table": True, "dry_run": False, "ddb": ddb, "progress": False}
    dest = make_table(ddb)
    sample = tablerestore.restore_table(path, dest, confirm=dest, **kw)
    assert (sample.read_back, sample.items_read_back, calls) == ("sample", 100, [100])
    assert sample.verified and sample.items_written == 260
    assert scan_all(ddb, dest) == scan_all(ddb, table)
    calls.clear()
    dest = make_table(ddb)
    full = tablerestore.restore_table(path, dest, confirm=dest, read_back="all", **kw)
    assert (full.read_back, full.items_read_back, calls) == ("all", 260, [100, 100, 60])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        *[
            ({"read_back": v}, "read_back must be one of sample, all")
            for v in ("some", "", None, 1)
        ],
        *[
            ({"writers": v}, "writers must be a whole number from 1 to 32")
            for v in (0, 33, True, 2.5)
        ],
    ],
)
def test_bad_restore_options_are_refused_before_anything(exported, ddb, bad, message):
    dest = make_table(ddb)
    with pytest.raises(InvalidInputError, match=message):
        tablerestore.restore_table(
            exported.path, dest, allow_other_table=True, dry_run=False, confirm=dest, ddb=ddb, **bad
        )
    assert scan_all(ddb, dest) == {}


# ------------------------------------------------------------------ constant memory


@pytest.mark.slow
def test_full_export_memory_stays_flat(ddb, table, tmp_path):
    fill(ddb, table, 5000, extra={"pad": {"S": "x" * 200}})
    tracemalloc.start()
    try:
        res = export.export_table(table, tmp_path, ddb=ddb, page_size=250, progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.item_count == 5000
    assert peak < 3_000_000, f"peak {peak} bytes for 5000 items: the export holds the table"


def test_raw_pages_hold_the_same_items_as_parsed_pages(ddb, table):
    """The export reads Scan bodies with ijson (scanstream); every type must come out as
    botocore's own parse + item_to_json would give it, and other calls stay untouched."""
    from runbook_lib.aws import scan as scanstream
    from runbook_lib.formats import dynamojson

    fill(ddb, table, 30)
    ddb.put_item(TableName=table, Item={"stat": {"S": "typed"}, **TYPED})
    request = {"TableName": table, "ConsistentRead": True, "Limit": 12}
    scanstream.install(ddb)
    raw, parsed = [], []
    while True:
        with scanstream.raw_pages():
            resp = ddb.scan(**request)
        page = scanstream.page_of(resp)
        assert isinstance(page, bytes) and "Items" not in resp
        raw.extend(scanstream.items_json(page))
        plain = ddb.scan(**request)  # outside raw_pages: botocore's usual answer
        assert "Items" in plain and scanstream.RAW_BODY not in plain
        parsed.extend(dynamojson.item_to_json(i) for i in plain["Items"])
        assert resp.get("LastEvaluatedKey") == plain.get("LastEvaluatedKey")
        if "LastEvaluatedKey" not in resp:
            break
        request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    assert len(raw) == 31
    assert raw == parsed


@pytest.mark.slow
def test_a_full_one_megabyte_page_is_not_held_as_objects(ddb, table, tmp_path):
    """DynamoDB's own page size (no Limit): the bare boto3 loop holds each parsed page, tens
    of bytes of objects per byte of JSON; the export holds the page's bytes and one item."""
    fill(ddb, table, 8000)

    def peak_of(work):
        tracemalloc.start()
        try:
            work()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    bare = peak_of(lambda: scan_all(ddb, table))
    ours = peak_of(lambda: export.export_table(table, tmp_path, ddb=ddb, progress=False))
    assert bare > 4_000_000, f"the bare loop peaked at {bare} bytes: too small to compare"
    assert ours < bare / 4, f"export peak {ours} bytes against the bare loop's {bare}"
