"""Whole-table export to gzip JSON Lines, its verification, and restore into an existing table.

File format (FORMAT_VERSION 1), two files side by side:

- `<table>-<UTC stamp>.jsonl.gz`: one item per line in DynamoDB's wire format, exactly what
  `aws dynamodb scan` prints per item (`{"stat": {"S": "Quantity"}, "viewCount": {"N": "7"}}`;
  binary values base64 as in the CLI). Numbers stay strings end to end: nothing goes
  through float, so 38-digit N values round-trip exactly.
- `<same stem>.manifest.json`: table, key schema, item count, sha256 and size of the .gz bytes,
  an order-independent digest of the items, start/finish times. Written LAST: an export
  without a manifest is visibly incomplete and is refused by `verify_export`.

Both files are written to a temporary name in the same folder, fsynced, then renamed
(os.replace), so a crash never leaves a half-written file under the final name.

Restore never creates, deletes or reconfigures a table (Terraform owns it): it writes items
into an existing table whose key schema matches, verifies the file before the first write,
checks afterwards that every put was acknowledged and that the file did not change, and
reads back a sample (or, with read_back="all", every key). The counter item, when present
in the export and in the destination, goes through one conditional write with the same rule
as an item restore: never lower the live count unless allow_decrease=True, live item backed
up first.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gzip
import hashlib
import json
import os
import queue
import random
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

from botocore.exceptions import ClientError

from . import aws, counter, itemfile, paths, scanstream
from .errors import (
    BackupFileError,
    CountConflictError,
    InvalidInputError,
    RestoreVerificationError,
    RunbookError,
    TableSchemaError,
    ThrottledError,
    from_client_error,
)
from .target import Target

FORMAT = "counter-runbook/table-export"
FORMAT_VERSION = 1
DATA_SUFFIX = ".jsonl.gz"
MANIFEST_SUFFIX = ".manifest.json"
EXPORTS_SUBDIR = "table-exports"  # under paths.backups_dir()

MAX_BATCH_WRITE = 25  # DynamoDB limit: put requests per BatchWriteItem
MAX_BATCH_GET = 100  # DynamoDB limit: keys per BatchGetItem
MAX_TOTAL_SEGMENTS = 1_000_000  # DynamoDB limit for Scan TotalSegments
MAX_BATCH_ATTEMPTS = 8  # BatchWrite/BatchGet rounds for unprocessed items before giving up
BACKOFF_BASE_S = 0.05  # first retry waits up to 50 ms ...
BACKOFF_CAP_S = 5.0  # ... doubling, full jitter, never more than 5 s per wait
PAGES_BUFFERED_PER_SEGMENT = 2  # pages (<= 1 MB each) queued between scanners and the writer
READ_CHUNK_BYTES = 1 << 20  # 1 MiB reads when hashing a file
PROGRESS_MIN_INTERVAL_S = 0.5
RESTORE_WRITERS = 4  # BatchWriteItem calls in flight at once during a restore
READ_BACK_MODES = ("sample", "all")
READ_BACK_SAMPLE = 100  # items read back after a restore by default: one BatchGetItem
DIGEST_MODULUS = 1 << 256  # item digests are summed mod 2**256: order-independent


# Tests replace this to skip real waits between retries.
_sleep: Callable[[float], None] = time.sleep


# --------------------------------------------------------------------------- item codec (pure)


def _decode(value: dict[str, Any]) -> dict[str, Any]:
    """A checked JSON value -> wire format for the low-level client (base64 -> bytes)."""
    ((code, inner),) = value.items()
    if code == "B":
        return {"B": base64.b64decode(inner)}
    if code == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if code == "L":
        return {"L": [_decode(v) for v in inner]}
    if code == "M":
        return {"M": {k: _decode(v) for k, v in inner.items()}}
    return {code: inner}


def item_from_json(obj: Any) -> dict[str, Any]:
    """JSON (B as base64) -> wire format (B as bytes), checked first with the item-backup
    rules (itemfile.check_item: every type, DynamoDB's number limits, nesting, unique
    sets), so a damaged file fails here and never half-way through a write."""
    itemfile.check_item(obj)
    return {name: _decode(value) for name, value in obj.items()}


def _canonical_value(value: dict[str, Any]) -> Any:
    ((code, inner),) = value.items()
    if code in ("SS", "NS", "BS"):  # DynamoDB sets have no order
        return {code: sorted(inner)}
    if code == "L":
        return {"L": [_canonical_value(v) for v in inner]}
    if code == "M":
        return {"M": {k: _canonical_value(v) for k, v in inner.items()}}
    return value


def item_digest(item_json: dict[str, Any]) -> int:
    """sha256 of the item's canonical JSON (sets sorted, keys sorted), as an int."""
    canon = {k: _canonical_value(v) for k, v in item_json.items()}
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")


def digest_hex(total: int) -> str:
    return f"{total % DIGEST_MODULUS:064x}"


def encode_line(item: dict[str, Any]) -> tuple[bytes, int]:
    """One wire-format item -> (its JSON line as UTF-8, its digest)."""
    return encode_json_line(itemfile.item_to_json(item))


def encode_json_line(as_json: dict[str, Any]) -> tuple[bytes, int]:
    """One item in DynamoDB JSON (B as base64) -> (its JSON line as UTF-8, its digest)."""
    line = json.dumps(as_json, ensure_ascii=False, separators=(",", ":")) + "\n"
    return line.encode("utf-8"), item_digest(as_json)


def key_of(item_json: dict[str, Any], key_names: Iterable[str]) -> dict[str, Any]:
    return {name: item_json[name] for name in key_names}


def _key_text(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Manifest:
    """What an export says about itself; `path`/`manifest_path` are where it was read."""

    table: str
    key_schema: list[dict[str, str]]  # [{"AttributeName": "stat", "KeyType": "HASH"}]
    key_types: dict[str, str]  # {"stat": "S"}
    item_count: int
    sha256: str
    bytes: int
    content_digest: str
    data_file: str
    started_at: str
    finished_at: str
    segments: int
    consistent_read: bool = True
    region: str | None = None
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    path: Path | None = field(default=None, compare=False)
    manifest_path: Path | None = field(default=None, compare=False)

    @property
    def key_names(self) -> list[str]:
        return [k["AttributeName"] for k in self.key_schema]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        data.pop("manifest_path")
        return data


@dataclass(frozen=True)
class ExportResult:
    path: Path
    manifest_path: Path
    table: str
    item_count: int
    sha256: str
    bytes: int
    segments: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


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


# --------------------------------------------------------------------------- small helpers


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _table_name(table: str | Target) -> str:
    return table.table if isinstance(table, Target) else table


def _as_target(table: str | Target) -> Target:
    """A Target for a destination given by name: the counter's default key and attribute,
    this session's region and endpoint."""
    if isinstance(table, Target):
        return table
    if not isinstance(table, str) or not table:
        raise InvalidInputError(f"table must be a table name, got {table!r}.")
    return Target(table=table, region=aws.session().region_name, endpoint=aws.endpoint_url())


def _client(table: str | Target, ddb: Any) -> Any:
    if ddb is not None:
        return ddb
    target = table if isinstance(table, Target) else None
    return counter.dynamodb(target)


def _interactive() -> bool:
    """A human is watching: a terminal, or a Jupyter kernel (JupyterLab, papermill)."""
    with contextlib.suppress(Exception):
        if sys.stderr.isatty():
            return True
    with contextlib.suppress(ImportError):
        from IPython import get_ipython

        shell = get_ipython()
        return shell is not None and getattr(shell, "kernel", None) is not None
    return False


def _progress(enabled: bool, *, desc: str, total: int | None = None) -> Any:
    from tqdm.std import tqdm  # tqdm.auto needs ipywidgets; text bars work everywhere

    return tqdm(
        total=total,
        desc=desc,
        unit="item",
        disable=not (enabled and _interactive()),
        mininterval=PROGRESS_MIN_INTERVAL_S,
        file=sys.stderr,
    )


def _backoff(attempt: int) -> float:
    """Full-jitter exponential backoff: uniform(0, min(cap, base * 2**attempt))."""
    return random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2**attempt)))


class _HashingWriter:
    """A binary sink that hashes and counts what passes through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


class _HashingReader:
    """A binary source that hashes and counts what is read from it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(READ_CHUNK_BYTES):
            pass


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _atomic_file(final: Path) -> Iterator[BinaryIO]:
    """Write to a hidden temp file in the same folder; fsync + os.replace on success,
    unlink on failure. The final name only ever holds a complete file."""
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as raw:
            yield raw
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_json_atomic(final: Path, data: dict[str, Any]) -> None:
    with _atomic_file(final) as raw:
        raw.write((json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def manifest_path_for(data_path: Path) -> Path:
    name = data_path.name
    stem = name[: -len(DATA_SUFFIX)] if name.endswith(DATA_SUFFIX) else data_path.stem
    return data_path.with_name(stem + MANIFEST_SUFFIX)


def _free_stem(folder: Path, stem: str) -> str:
    """stem, or stem-2, stem-3... when an export of the same second already exists."""
    candidate, n = stem, 1
    while (folder / (candidate + DATA_SUFFIX)).exists() or (
        folder / (candidate + MANIFEST_SUFFIX)
    ).exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


# --------------------------------------------------------------------------- export


def _describe_keys(ddb: Any, table: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    try:
        desc = ddb.describe_table(TableName=table)["Table"]
    except Exception as exc:
        raise from_client_error(exc, table=table, action="DescribeTable") from exc
    schema = [
        {"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in desc["KeySchema"]
    ]
    names = {k["AttributeName"] for k in schema}
    types = {
        a["AttributeName"]: a["AttributeType"]
        for a in desc.get("AttributeDefinitions", [])
        if a["AttributeName"] in names
    }
    return schema, types


def scan_request(
    table: str, *, segment: int | None = None, total: int | None = None, limit: int | None = None
) -> dict[str, Any]:
    """Scan parameters (pure): always ConsistentRead, so the export sees every acknowledged
    write made before it started."""
    req: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if total is not None and total > 1:
        req.update(Segment=segment, TotalSegments=total)
    if limit:
        req["Limit"] = limit
    return req


Page = bytes | list[dict[str, Any]]  # the server's JSON (scanstream), or parsed Items


def _scan_segment(ddb: Any, request: dict[str, Any]) -> Iterator[Page]:
    """Pages of one scan (segment), following LastEvaluatedKey."""
    req = dict(request)
    while True:
        try:
            with scanstream.raw_pages():
                resp = ddb.scan(**req)
        except Exception as exc:
            raise from_client_error(exc, table=req["TableName"], action="Scan") from exc
        last = resp.get("LastEvaluatedKey")
        page = scanstream.page_of(resp)
        del resp  # hold one page, not the page and its response
        yield page
        del page
        if not last:
            return
        req["ExclusiveStartKey"] = last


_DONE = object()


def scan_pages(
    ddb: Any, table: str, *, segments: int = 1, page_size: int | None = None
) -> Iterator[Page]:
    """Every page of the table, each segment scanned by a thread of its own.

    One segment too: its thread asks for the next page while this one's items are written,
    so the writing hides behind the server's time instead of adding to it. Pages flow
    through a bounded queue, so at most PAGES_BUFFERED_PER_SEGMENT pages per segment are in
    memory at once whatever the table's size. Closing the iterator early (an error in the
    writer) stops the scanners.
    """
    pages: queue.Queue[Any] = queue.Queue(maxsize=segments * PAGES_BUFFERED_PER_SEGMENT)
    stop = threading.Event()

    def put(obj: Any) -> bool:
        while not stop.is_set():
            try:
                pages.put(obj, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def worker(segment: int) -> None:
        try:
            req = scan_request(table, segment=segment, total=segments, limit=page_size)
            for page in _scan_segment(ddb, req):
                if not put(page):
                    return
            put(_DONE)
        except BaseException as exc:
            put(exc)

    threads = [
        threading.Thread(target=worker, args=(s,), name=f"scan-{table}-{s}", daemon=True)
        for s in range(segments)
    ]
    for t in threads:
        t.start()
    try:
        done = 0
        while done < segments:
            obj = pages.get()
            if obj is _DONE:
                done += 1
            elif isinstance(obj, BaseException):
                raise obj
            else:
                yield obj
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)


def write_items(
    pages: Iterable[Page],
    sink: BinaryIO,
    *,
    on_page: Callable[[int], None] | None = None,
) -> tuple[int, int, str, int]:
    """Stream pages (raw Scan bodies or lists of wire-format items) to `sink` as gzip JSON
    Lines.

    Holds one page at a time, never the table, and builds one item at a time from a raw
    page. Returns (item_count, content digest as an int, sha256 hex of the gzip bytes, gzip
    size in bytes).
    """
    hashing = _HashingWriter(sink)
    count, digest = 0, 0
    with gzip.GzipFile(filename="", mode="wb", fileobj=hashing, mtime=0) as gz:
        for page in pages:
            in_page = 0
            for as_json in scanstream.items_json(page):
                line, item_hash = encode_json_line(as_json)
                gz.write(line)
                digest = (digest + item_hash) % DIGEST_MODULUS
                in_page += 1
            del page  # before the next page is fetched
            count += in_page
            if on_page:
                on_page(in_page)
    return count, digest, hashing.sha.hexdigest(), hashing.size


def export_table(
    table: str | Target,
    dest_dir: str | Path | None = None,
    *,
    segments: int = 1,
    ddb: Any = None,
    progress: bool = True,
    page_size: int | None = None,
) -> ExportResult:
    """Export every item of `table` to `<dest_dir>/<table>-<UTC>.jsonl.gz` + manifest.

    A consistent-read Scan, paginated (and split into `segments` parallel segments when
    asked), streamed to disk page by page in constant memory. The manifest is written last.
    Read-only on the table. dest_dir defaults to backups_dir()/tables.
    """
    name = _table_name(table)
    if isinstance(segments, bool) or not isinstance(segments, int):
        raise InvalidInputError(f"segments must be a whole number, got {segments!r}.")
    if not 1 <= segments <= MAX_TOTAL_SEGMENTS:
        raise InvalidInputError(
            f"segments must be from 1 to {MAX_TOTAL_SEGMENTS:,} (DynamoDB limit), got {segments}."
        )
    if page_size is not None and (not isinstance(page_size, int) or page_size < 1):
        raise InvalidInputError(f"page_size must be a positive whole number, got {page_size!r}.")
    ddb = _client(table, ddb)
    folder = Path(dest_dir) if dest_dir else paths.backups_dir() / EXPORTS_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    scanstream.install(ddb)

    key_schema, key_types = _describe_keys(ddb, name)
    started = _utc_now()
    clock = time.monotonic()
    stem = _free_stem(folder, f"{name}-{_stamp(started)}")
    data_path = folder / (stem + DATA_SUFFIX)
    manifest_path = folder / (stem + MANIFEST_SUFFIX)

    with _progress(progress, desc=f"export {name}") as bar, _atomic_file(data_path) as raw:
        pages = scan_pages(ddb, name, segments=segments, page_size=page_size)
        try:
            count, digest, sha, size = write_items(pages, raw, on_page=bar.update)
        finally:
            close = getattr(pages, "close", None)
            if close:
                close()
    manifest = Manifest(
        table=name,
        key_schema=key_schema,
        key_types=key_types,
        item_count=count,
        sha256=sha,
        bytes=size,
        content_digest=digest_hex(digest),
        data_file=data_path.name,
        started_at=_iso(started),
        finished_at=_iso(_utc_now()),
        segments=segments,
        region=getattr(getattr(ddb, "meta", None), "region_name", None),
    )
    _write_json_atomic(manifest_path, manifest.to_dict())  # LAST: marks the export complete
    return ExportResult(
        path=data_path,
        manifest_path=manifest_path,
        table=name,
        item_count=count,
        sha256=sha,
        bytes=size,
        segments=segments,
        seconds=round(time.monotonic() - clock, 3),
    )


# --------------------------------------------------------------------------- verify


def _paths_from(path: str | Path) -> tuple[Path, Path]:
    """(data file, manifest) from either of the two paths."""
    path = Path(path)
    if path.name.endswith(MANIFEST_SUFFIX):
        stem = path.name[: -len(MANIFEST_SUFFIX)]
        return path.with_name(stem + DATA_SUFFIX), path
    if not path.name.endswith(DATA_SUFFIX):
        raise BackupFileError(
            f"{path} is not a table export: expected a {DATA_SUFFIX} file or its "
            f"{MANIFEST_SUFFIX}. Item backups (.json) restore with kind=item."
        )
    return path, manifest_path_for(path)


_MANIFEST_FIELDS = {
    "format": str,
    "format_version": int,
    "table": str,
    "key_schema": list,
    "key_types": dict,
    "item_count": int,
    "sha256": str,
    "bytes": int,
    "content_digest": str,
    "data_file": str,
    "started_at": str,
    "finished_at": str,
    "segments": int,
}


def read_manifest(path: str | Path) -> Manifest:
    """The manifest of an export (no check of the data file: see verify_export)."""
    data_path, manifest_path = _paths_from(path)
    if not manifest_path.exists():
        raise BackupFileError(
            f"No manifest {manifest_path.name} next to {data_path.name}: the export did not "
            "finish (the manifest is written last) or the manifest was moved. Refusing to use it."
        )
    try:
        raw = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BackupFileError(f"Manifest {manifest_path} is not valid JSON: {exc}.") from exc
    if not isinstance(raw, dict):
        raise BackupFileError(f"Manifest {manifest_path} is not a JSON object.")
    if raw.get("format") != FORMAT:
        raise BackupFileError(
            f"Manifest {manifest_path.name} has format {raw.get('format')!r}, expected {FORMAT!r}."
        )
    if raw.get("format_version") != FORMAT_VERSION:
        raise BackupFileError(
            f"Manifest {manifest_path.name} is format version {raw.get('format_version')!r}; "
            f"this runbook reads version {FORMAT_VERSION}."
        )
    for name, kind in _MANIFEST_FIELDS.items():
        value = raw.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BackupFileError(
                f"Manifest {manifest_path.name}: field {name!r} is missing or not "
                f"a {kind.__name__}."
            )
    if raw["data_file"] != data_path.name:
        raise BackupFileError(
            f"Manifest {manifest_path.name} describes {raw['data_file']!r}, not {data_path.name!r}."
        )
    known = {f for f in Manifest.__dataclass_fields__ if f not in ("path", "manifest_path")}
    fields = {k: v for k, v in raw.items() if k in known}
    return Manifest(**fields, path=data_path, manifest_path=manifest_path)


def iter_export(path: str | Path, manifest: Manifest | None = None) -> Iterator[dict[str, Any]]:
    """Items of an export as JSON (B as base64), one line at a time, validated.

    Raises BackupFileError naming the line for a broken gzip stream or a bad line; does not
    check hashes (verify_export does, and restore calls it first).
    """
    data_path, _ = _paths_from(path)
    manifest = manifest or read_manifest(path)
    with open(data_path, "rb") as raw:
        yield from _iter_lines(raw, data_path, manifest)


def _iter_lines(raw: BinaryIO, data_path: Path, manifest: Manifest) -> Iterator[dict[str, Any]]:
    lineno = 0
    try:
        with gzip.GzipFile(filename="", mode="rb", fileobj=raw) as gz:
            for lineno, line in enumerate(gz, start=1):
                yield _parse_line(line, lineno, data_path, manifest)
    except EOFError as exc:
        raise BackupFileError(
            f"{data_path.name} is truncated: the gzip stream ends early after line {lineno}."
        ) from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise BackupFileError(
            f"{data_path.name} is not an intact gzip file (after line {lineno}): {exc}."
        ) from exc


def _parse_line(line: bytes, lineno: int, data_path: Path, manifest: Manifest) -> dict[str, Any]:
    where = f"{data_path.name} line {lineno}"
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BackupFileError(f"{where} is not valid JSON: {exc}.") from exc
    try:
        itemfile.check_item(obj)
    except BackupFileError as exc:
        raise BackupFileError(f"{where}: {exc.args[0]}.") from exc
    for key, kind in manifest.key_types.items():
        if key not in obj or kind not in obj[key]:
            raise BackupFileError(f"{where}: key attribute {key!r} of type {kind} is missing.")
    return obj


def verify_export(path: str | Path) -> Manifest:
    """Check an export end to end before anyone trusts it.

    The manifest exists and is well formed; the .gz file exists, is not empty, has the
    recorded size; the gzip stream is intact; every line is a valid typed item holding its
    key; the sha256 of the bytes, the item count and the items' digest match the manifest.
    Any failure is a BackupFileError saying exactly which check failed.
    """
    return _verify(path)[0]


def _verify(
    path: str | Path, find: dict[str, Any] | None = None
) -> tuple[Manifest, dict[str, Any] | None]:
    """verify_export, also returning the item whose key is `find` (None if absent), so a
    restore learns about the counter item in the same pass."""
    data_path, _ = _paths_from(path)
    manifest = read_manifest(path)
    wanted = _key_text(find) if find and set(find) == set(manifest.key_names) else None
    found: dict[str, Any] | None = None
    if not data_path.exists():
        raise BackupFileError(f"Data file {data_path} is missing (its manifest is present).")
    size = data_path.stat().st_size
    if size == 0:
        raise BackupFileError(
            f"{data_path.name} is empty (0 bytes); the manifest says {manifest.bytes}."
        )
    count, digest, problem = 0, 0, None
    with open(data_path, "rb") as raw:
        reader = _HashingReader(raw)
        try:
            for obj in _iter_lines(reader, data_path, manifest):  # type: ignore[arg-type]
                count += 1
                digest = (digest + item_digest(obj)) % DIGEST_MODULUS
                if (
                    found is None
                    and wanted is not None
                    and _key_text(key_of(obj, manifest.key_names)) == wanted
                ):
                    found = obj
        except BackupFileError as exc:
            problem = exc
        reader.drain()  # hash every byte, also after a bad line or the gzip trailer
    actual = reader.sha.hexdigest()
    if actual != manifest.sha256 or size != manifest.bytes:
        first = f" First problem found: {problem.args[0]}" if problem else ""
        raise BackupFileError(
            f"{data_path.name} does not match its manifest: sha256 {actual[:16]}… "
            f"({size} bytes) vs recorded {manifest.sha256[:16]}… ({manifest.bytes} bytes). "
            f"The file was changed or damaged after the export.{first}"
        )
    if problem:
        raise problem
    if count != manifest.item_count:
        raise BackupFileError(
            f"{data_path.name} holds {count} items but its manifest says {manifest.item_count}."
        )
    if digest_hex(digest) != manifest.content_digest:
        raise BackupFileError(
            f"{data_path.name}: the items' digest does not match the manifest's content_digest."
        )
    return manifest, found


# --------------------------------------------------------------------------- restore


def _check_schema(ddb: Any, table: str, manifest: Manifest) -> None:
    schema, types = _describe_keys(ddb, table)

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
    if exported is None or manifest.key_names != [target.key_name]:
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
        wire = [{name: _decode(value) for name, value in o.items()} for o in chunk]
        return len(chunk), _batch_write(ddb, table, wire)

    with (
        open(data_path, "rb") as raw,
        ThreadPoolExecutor(max_workers=writers, thread_name_prefix=f"restore-{table}") as pool,
    ):
        reader = _HashingReader(raw)
        try:
            items = (
                o
                for o in _iter_lines(reader, data_path, manifest)  # type: ignore[arg-type]
                if skip_key is None or _key_text(key_of(o, manifest.key_names)) != skip_key
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
    expected = {_key_text(key_of(o, manifest.key_names)): o for o in sample}
    got_all: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(expected.values()), MAX_BATCH_GET):
        keys = [item_from_json(key_of(o, manifest.key_names)) for o in chunk]
        for item in _batch_get(ddb, table, keys):
            got = itemfile.item_to_json(item)
            got_all[_key_text(key_of(got, manifest.key_names))] = got
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
        expected = {_key_text(key_of(o, manifest.key_names)): o for o in chunk}
        keys = [item_from_json(key_of(o, manifest.key_names)) for o in chunk]
        for item in _batch_get(ddb, table, keys):
            got = itemfile.item_to_json(item)
            key = _key_text(key_of(got, manifest.key_names))
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
    target = _as_target(table)
    # FIRST: nothing is read from or written to AWS before the file is checked
    manifest, exported_counter = _verify(path, find=target.key)
    data_path = manifest.path or Path(path)
    ddb = _client(target, ddb)
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

    counter_key = _key_text(target.key) if counter_item is not None else None
    with _progress(progress, desc=f"restore {target.table}", total=manifest.item_count) as bar:
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


# --------------------------------------------------------------------------- listing


def list_exports(folder: str | Path | None = None) -> list[dict[str, Any]]:
    """Table exports in `folder` (default backups_dir()/table-exports), newest first, each with its
    manifest's facts, or `complete: False` when the manifest is missing or unreadable."""
    folder = Path(folder) if folder else paths.backups_dir() / EXPORTS_SUBDIR
    if not folder.is_dir():
        return []
    rows = []
    for data in sorted(folder.glob(f"*{DATA_SUFFIX}"), reverse=True):
        row: dict[str, Any] = {"path": str(data), "bytes": data.stat().st_size}
        try:
            m = read_manifest(data)
        except BackupFileError as exc:
            row.update(complete=False, problem=str(exc).split(" Next step:")[0])
        else:
            row.update(
                complete=True,
                table=m.table,
                item_count=m.item_count,
                finished_at=m.finished_at,
                sha256=m.sha256,
            )
        rows.append(row)
    return rows
