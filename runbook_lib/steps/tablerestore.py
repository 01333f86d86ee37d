"""Restore a whole-table export (export.py's format) into an existing table.

Restore never creates, deletes or reconfigures a table (Terraform owns it). It writes items
into an existing table whose key schema matches, after verify_and_find checked the file
against its manifest (a damaged file writes nothing). The counter item, when present in the
export and in the destination, goes through one conditional write with the same rule as an
item restore: never lower the live count unless allow_decrease=True, live item backed up
first. Afterwards every put must have been acknowledged, the file must still hash to its
manifest, and a sample (or, with read_back="all", every key) is read back.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from runbook_lib.aws import counter
from runbook_lib.aws.errors import from_client_error
from runbook_lib.errors import (
    BackupFileError,
    CountConflictError,
    InvalidInputError,
    RestoreVerificationError,
    RunbookError,
    TableSchemaError,
    ThrottledError,
)
from runbook_lib.formats import itemfile
from runbook_lib.steps.export import (
    DIGEST_MODULUS,
    HashingReader,
    Manifest,
    as_target,
    decode_value,
    describe_keys,
    digest_hex,
    dynamodb_client,
    item_digest,
    item_from_json,
    iter_export,
    iter_lines,
    key_of,
    key_text,
    progress_bar,
    verify_and_find,
)
from runbook_lib.target.model import Target

MAX_BATCH_WRITE = 25  # DynamoDB limit: put requests per BatchWriteItem
MAX_BATCH_GET = 100  # DynamoDB limit: keys per BatchGetItem
MAX_BATCH_ATTEMPTS = 8  # BatchWrite/BatchGet rounds for unprocessed items before giving up
BACKOFF_BASE_S = 0.05  # first retry waits up to 50 ms ...
BACKOFF_CAP_S = 5.0  # ... doubling, full jitter, never more than 5 s per wait
RESTORE_WRITERS = 4  # BatchWriteItem calls in flight at once during a restore
READ_BACK_MODES = ("sample", "all")
READ_BACK_SAMPLE = 100  # items read back after a restore by default: one BatchGetItem

# Tests replace this to skip real waits between retries.
_sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class TableRestoreResult:
    path: Path
    table: str
    dry_run: bool
    restored: bool
    item_count: int  # items in the export
    items_written: int
    verified: bool
    read_back: str = "sample"  # READ_BACK_MODES: what the verification read back
    items_read_back: int = 0
    counter_before: int | None = None  # live count before (None: no counter item involved)
    counter_after: int | None = None  # count in the export
    live_backup_path: Path | None = None
    batches: int = 0
    retries: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


def _backoff(attempt: int) -> float:
    """Full-jitter exponential backoff: uniform(0, min(cap, base * 2**attempt))."""
    return random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2**attempt)))


def _check_schema(ddb: Any, table: str, manifest: Manifest) -> None:
    schema, types = describe_keys(ddb, table)

    def show(s: list[dict[str, str]], t: dict[str, str]) -> str:
        return ", ".join(
            f"{k['AttributeName']} {k['KeyType']} {t.get(k['AttributeName'], '?')}" for k in s
        )

    if schema != manifest.key_schema or types != manifest.key_types:
        raise TableSchemaError(
            f"Table {table} has key schema [{show(schema, types)}] but the export of "
            f"{manifest.table} has [{show(manifest.key_schema, manifest.key_types)}]. "
            "Nothing was written.",
            hint="restore into a table with the same key schema; this runbook never recreates "
            "a table (Terraform owns it).",
        )


def _counter_plan(
    target: Target,
    manifest: Manifest,
    exported: dict[str, Any] | None,
    path: Path,
    ddb: Any,
    allow_decrease: bool,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, int | None, int | None]:
    """(export's counter item, live item, live count, exported count) when the export holds
    the counter item; refuses a decrease unless allowed."""
    if exported is None or manifest.key_names != target.key_names:
        return None, None, None, None
    live_item = counter.get_item(target, ddb=ddb)
    new = _count_or_none(exported, target.count_attribute)
    old = _count_or_none(live_item, target.count_attribute) if live_item else None
    if old is not None and new is not None:
        counter.refuse_decrease(
            target, old, new, f"export {path.name}", allow_decrease=allow_decrease
        )
    return exported, live_item, old, new


def _count_or_none(item: dict[str, Any] | None, attribute: str) -> int | None:
    try:
        return counter.parse_count(item, attribute)
    except RunbookError:
        return None


def _put_counter_item(
    target: Target, item_json: dict[str, Any], live_item: dict[str, Any] | None, ddb: Any
) -> None:
    """ONE conditional PutItem: only if the counter still holds what we read (or is still
    missing), so a visit counted meanwhile is never silently overwritten."""
    key, count = target.key_name, target.count_attribute
    values: dict[str, Any] = {}
    if live_item is None:
        condition, names = "attribute_not_exists(#k)", {"#k": key}
    elif count in live_item:
        condition, names = "#c = :old", {"#c": count}
        values[":old"] = live_item[count]
    else:
        condition = "attribute_exists(#k) AND attribute_not_exists(#c)"
        names = {"#k": key, "#c": count}
    req: dict[str, Any] = {
        "TableName": target.table,
        "Item": item_from_json(item_json),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
    }
    if values:
        req["ExpressionAttributeValues"] = values
    req["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    try:
        ddb.put_item(**req)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            retried = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0
            if retried and exc.response.get("Item") == req["Item"]:
                return  # our own put, applied, its answer lost: botocore's retry met it
            raise CountConflictError(
                f"The counter in {target.table} changed during the restore; the counter item "
                "was not written (the other items were).",
                hint="re-run the restore: it reads the live count again.",
            ) from exc
        raise from_client_error(exc, table=target.table, action="PutItem (restore)") from exc


def _batch_write(ddb: Any, table: str, items: list[dict[str, Any]]) -> int:
    """BatchWriteItem of <= 25 puts, retrying UnprocessedItems with backoff + jitter.
    Returns the number of retry rounds."""
    pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items]}
    for attempt in range(MAX_BATCH_ATTEMPTS):
        try:
            resp = ddb.batch_write_item(RequestItems=pending)
        except Exception as exc:
            raise from_client_error(exc, table=table, action="BatchWriteItem") from exc
        pending = resp.get("UnprocessedItems") or {}
        if not pending:
            return attempt
        _sleep(_backoff(attempt))
    left = sum(len(v) for v in pending.values())
    raise ThrottledError(
        f"BatchWriteItem into {table}: {left} item(s) still unprocessed after "
        f"{MAX_BATCH_ATTEMPTS} attempts with backoff. The restore is PARTIAL.",
        hint="wait a minute and re-run the same restore: puts are idempotent.",
    )


def _batch_get(ddb: Any, table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """BatchGetItem (consistent) of <= 100 keys, retrying UnprocessedKeys."""
    found: list[dict[str, Any]] = []
    pending: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
    for attempt in range(MAX_BATCH_ATTEMPTS):
        try:
            resp = ddb.batch_get_item(RequestItems=pending)
        except Exception as exc:
            raise from_client_error(exc, table=table, action="BatchGetItem") from exc
        found.extend(resp.get("Responses", {}).get(table, []))
        pending = resp.get("UnprocessedKeys") or {}
        if not pending:
            return found
        _sleep(_backoff(attempt))
    raise ThrottledError(
        f"BatchGetItem on {table}: keys still unprocessed after {MAX_BATCH_ATTEMPTS} attempts; "
        "the restore was written but could not be verified."
    )


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class _Written:
    items: int = 0
    batches: int = 0
    retries: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)


def _write_export(
    ddb: Any,
    table: str,
    data_path: Path,
    manifest: Manifest,
    *,
    skip_key: str | None,
    writers: int,
    sample_size: int,
    on_batch: Callable[[int], None],
) -> _Written:
    """Every item of the export but `skip_key`, 25 per BatchWriteItem, `writers` calls in
    flight (a single round trip leaves both ends idle half the time). Keeps a reservoir
    sample of the written items for the read-back, and re-hashes the bytes it reads: the
    file must still be the one verify_export checked."""
    done = _Written()
    pick = random.Random(manifest.sha256)  # the same file samples the same keys
    seen = 0
    in_flight: set[Any] = set()

    def settle(until: int) -> None:
        """Collect finished calls until at most `until` are in flight; the first failure is
        raised (and stops the restore)."""
        while len(in_flight) > until:
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                in_flight.discard(future)
                count, retries = future.result()
                done.items += count
                done.batches += 1
                done.retries += retries
                on_batch(count)

    def put_batch(chunk: list[dict[str, Any]]) -> tuple[int, int]:
        wire = [{name: decode_value(value) for name, value in o.items()} for o in chunk]
        return len(chunk), _batch_write(ddb, table, wire)

    with (
        open(data_path, "rb") as raw,
        ThreadPoolExecutor(max_workers=writers, thread_name_prefix=f"restore-{table}") as pool,
    ):
        reader = HashingReader(raw)
        try:
            items = (
                o
                for o in iter_lines(reader, data_path, manifest)  # type: ignore[arg-type]
                if skip_key is None or key_text(key_of(o, manifest.key_names)) != skip_key
            )
            for chunk in _chunks(items, MAX_BATCH_WRITE):
                for o in chunk:
                    seen += 1
                    if len(done.sample) < sample_size:
                        done.sample.append(o)
                    elif sample_size and (slot := pick.randrange(seen)) < sample_size:
                        done.sample[slot] = o
                settle(until=writers - 1)  # never a queued batch: a failure stops at once
                in_flight.add(pool.submit(put_batch, chunk))
            reader.drain()
            settle(until=0)
        except BaseException:
            for future in in_flight:
                future.cancel()  # queued batches are not sent after a failure
            raise
        finally:
            wait(in_flight)  # on an error too, nothing is left writing when this returns
    if reader.sha.hexdigest() != manifest.sha256:
        raise RestoreVerificationError(
            f"{data_path.name} changed while it was being restored (its sha256 no longer "
            "matches the manifest); the table may hold a mix of both versions.",
            hint="restore again from an export that is not being modified.",
        )
    return done


def _verify_sample(
    ddb: Any,
    table: str,
    manifest: Manifest,
    sample: list[dict[str, Any]],
    *,
    counter_key: str | None,
    count_attribute: str,
) -> int:
    """Read back the sampled items (consistent BatchGetItem): each must be exactly as in the
    export; the counter item may have grown meanwhile. Returns the number checked."""
    expected = {key_text(key_of(o, manifest.key_names)): o for o in sample}
    got_all: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(expected.values()), MAX_BATCH_GET):
        keys = [item_from_json(key_of(o, manifest.key_names)) for o in chunk]
        for item in _batch_get(ddb, table, keys):
            got = itemfile.item_to_json(item)
            got_all[key_text(key_of(got, manifest.key_names))] = got
    wrong = []
    for key, want in expected.items():
        got = got_all.get(key)
        if got is not None and key == counter_key and _only_count_grew(want, got, count_attribute):
            continue
        if got is None or item_digest(got) != item_digest(want):
            wrong.append(key)
    if wrong:
        raise RestoreVerificationError(
            f"Read back {len(expected)} restored items from {table}: {len(wrong)} missing or "
            f"different, including {', '.join(wrong[:3])}.",
            hint="re-run the restore with read_back='all' to check every item; puts are "
            "idempotent.",
        )
    return len(expected)


def _verify_written(
    ddb: Any,
    table: str,
    path: Path,
    manifest: Manifest,
    *,
    counter_key: str | None,
    count_attribute: str,
) -> int:
    """Read back every key of the export (consistent BatchGetItem, 100 at a time) and compare
    count and digest with the manifest. The counter item may have moved UP meanwhile
    (visits keep coming): that one counts as matching when only its count grew."""
    count, digest, mismatched = 0, 0, []
    for chunk in _chunks(iter_export(path, manifest), MAX_BATCH_GET):
        expected = {key_text(key_of(o, manifest.key_names)): o for o in chunk}
        keys = [item_from_json(key_of(o, manifest.key_names)) for o in chunk]
        for item in _batch_get(ddb, table, keys):
            got = itemfile.item_to_json(item)
            key = key_text(key_of(got, manifest.key_names))
            want = expected.get(key)
            if want is None:
                continue
            if key == counter_key and _only_count_grew(want, got, count_attribute):
                got = want
            count += 1
            got_hash = item_digest(got)
            digest = (digest + got_hash) % DIGEST_MODULUS
            if got_hash != item_digest(want) and len(mismatched) < 3:
                mismatched.append(key)
    if count != manifest.item_count or digest_hex(digest) != manifest.content_digest:
        detail = f"; differing keys include {', '.join(mismatched)}" if mismatched else ""
        raise RestoreVerificationError(
            f"Read back {count} of {manifest.item_count} exported items from {table} and their "
            f"digest does not match the export{detail}."
        )
    return count


def _only_count_grew(want: dict[str, Any], got: dict[str, Any], attribute: str) -> bool:
    rest_w = {k: v for k, v in want.items() if k != attribute}
    rest_g = {k: v for k, v in got.items() if k != attribute}
    try:
        return rest_w == rest_g and Decimal(got[attribute]["N"]) >= Decimal(want[attribute]["N"])
    except (KeyError, TypeError, InvalidOperation):
        return False


def restore_table(
    path: str | Path,
    table: str | Target,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    allow_decrease: bool = False,
    allow_other_table: bool = False,
    read_back: str = "sample",
    ddb: Any = None,
    progress: bool = True,
    reason: str = "",
    writers: int = RESTORE_WRITERS,
) -> TableRestoreResult:
    """Write every item of a verified export into an EXISTING table with the same key schema.

    Order: verify the file (sha256, count and digest against the manifest, every item
    checked; a damaged file writes nothing) -> check the destination's key schema -> if the
    export holds the counter item: refuse to lower the live count unless allow_decrease ->
    dry run stops here -> confirm must equal the destination table name -> back up the live
    counter item (itemfile.backup_item) -> BatchWriteItem in 25s, `writers` calls in flight,
    UnprocessedItems retried (the counter item by one conditional PutItem) -> every put
    acknowledged, the file's bytes unchanged since the check -> read back: `read_back` =
    "sample" (the counter item and READ_BACK_SAMPLE others, one BatchGetItem) or "all"
    (every key, count and digest against the manifest: as many reads as writes).

    `table` is a table name or the runbook's Target (its key/attribute identify the counter
    item; a plain name uses the default stat=Quantity / viewCount). Never creates, deletes or
    reconfigures a table.
    """
    counter.require_flag("allow_decrease", allow_decrease)
    if read_back not in READ_BACK_MODES:
        raise InvalidInputError(
            f"read_back must be one of {', '.join(READ_BACK_MODES)}, got {read_back!r}."
        )
    if isinstance(writers, bool) or not isinstance(writers, int) or not 1 <= writers <= 32:
        raise InvalidInputError(f"writers must be a whole number from 1 to 32, got {writers!r}.")
    clock = time.monotonic()
    target = as_target(table)
    # FIRST: nothing is read from or written to AWS before the file is checked
    manifest, exported_counter = verify_and_find(path, find=target.key)
    data_path = manifest.path or Path(path)
    ddb = dynamodb_client(target, ddb)
    _check_schema(ddb, target.table, manifest)
    counter.require_flag("allow_other_table", allow_other_table)
    if manifest.table != target.table and not allow_other_table:
        # the same rule as an item restore: another table's data only on purpose
        raise BackupFileError(
            f"This is an export of table {manifest.table!r}, not {target.table!r}. "
            "Nothing was written.",
            hint=f"pick an export taken from table {target.table}, or pass "
            "allow_other_table=True to copy this one in on purpose.",
        )
    counter_item, live_item, before, after = _counter_plan(
        target, manifest, exported_counter, data_path, ddb, allow_decrease
    )

    def result(**kw: Any) -> TableRestoreResult:
        base = {
            "path": data_path,
            "table": target.table,
            "dry_run": dry_run,
            "restored": False,
            "item_count": manifest.item_count,
            "items_written": 0,
            "verified": False,
            "read_back": read_back,
            "counter_before": before,
            "counter_after": after if counter_item is not None else None,
        }
        base.update(kw)
        return TableRestoreResult(**base, seconds=round(time.monotonic() - clock, 3))

    if not counter.require_confirmation(target, dry_run, confirm):
        return result()

    backup_path = None
    if live_item is not None:
        why = reason or f"before restoring table export {data_path.name}"
        backup_path = itemfile.backup_item(target, ddb=ddb, reason=why).path

    counter_key = key_text(target.key) if counter_item is not None else None
    with progress_bar(progress, desc=f"restore {target.table}", total=manifest.item_count) as bar:
        done = _write_export(
            ddb,
            target.table,
            data_path,
            manifest,
            skip_key=counter_key,
            writers=writers,
            sample_size=READ_BACK_SAMPLE if read_back == "sample" else 0,
            on_batch=bar.update,
        )
        if counter_item is not None:
            _put_counter_item(target, counter_item, live_item, ddb)
            done.items += 1
            done.sample.append(counter_item)
            bar.update(1)
    if done.items != manifest.item_count:
        raise RestoreVerificationError(
            f"Wrote {done.items} items into {target.table} but the export holds "
            f"{manifest.item_count}.",
            hint="re-run the restore: puts are idempotent.",
        )
    same_counter = {"counter_key": counter_key, "count_attribute": target.count_attribute}
    if read_back == "all":
        checked = _verify_written(ddb, target.table, data_path, manifest, **same_counter)
    else:
        checked = _verify_sample(ddb, target.table, manifest, done.sample, **same_counter)
    return result(
        restored=True,
        items_written=done.items,
        verified=True,
        items_read_back=checked,
        live_backup_path=backup_path,
        batches=done.batches,
        retries=done.retries,
    )
