"""Whole-table export to gzip JSON Lines, and its verification (restore: tablerestore.py).

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

The item codec, manifest reading and verification here are what tablerestore builds on.
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
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from runbook_lib import aws, paths
from runbook_lib.aws import counter
from runbook_lib.aws import scan as scanstream
from runbook_lib.aws.errors import from_client_error
from runbook_lib.errors import BackupFileError, InvalidInputError
from runbook_lib.formats import itemfile
from runbook_lib.target.model import Target

FORMAT = "counter-runbook/table-export"
FORMAT_VERSION = 1
DATA_SUFFIX = ".jsonl.gz"
MANIFEST_SUFFIX = ".manifest.json"
EXPORTS_SUBDIR = "table-exports"  # under paths.backups_dir()

MAX_TOTAL_SEGMENTS = 1_000_000  # DynamoDB limit for Scan TotalSegments
PAGES_BUFFERED_PER_SEGMENT = 2  # pages (<= 1 MB each) queued between scanners and the writer
READ_CHUNK_BYTES = 1 << 20  # 1 MiB reads when hashing a file
PROGRESS_MIN_INTERVAL_S = 0.5
DIGEST_MODULUS = 1 << 256  # item digests are summed mod 2**256: order-independent


# --------------------------------------------------------------------------- item codec (pure)


def decode_value(value: dict[str, Any]) -> dict[str, Any]:
    """A checked JSON value -> wire format for the low-level client (base64 -> bytes)."""
    ((code, inner),) = value.items()
    if code == "B":
        return {"B": base64.b64decode(inner)}
    if code == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if code == "L":
        return {"L": [decode_value(v) for v in inner]}
    if code == "M":
        return {"M": {k: decode_value(v) for k, v in inner.items()}}
    return {code: inner}


def item_from_json(obj: Any) -> dict[str, Any]:
    """JSON (B as base64) -> wire format (B as bytes), checked first with the item-backup
    rules (itemfile.check_item: every type, DynamoDB's number limits, nesting, unique
    sets), so a damaged file fails here and never half-way through a write."""
    itemfile.check_item(obj)
    return {name: decode_value(value) for name, value in obj.items()}


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


def key_text(key: dict[str, Any]) -> str:
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


# --------------------------------------------------------------------------- small helpers


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _table_name(table: str | Target) -> str:
    return table.table if isinstance(table, Target) else table


def as_target(table: str | Target) -> Target:
    """A Target for a destination given by name: the counter's default key and attribute,
    this session's region and endpoint."""
    if isinstance(table, Target):
        return table
    if not isinstance(table, str) or not table:
        raise InvalidInputError(f"table must be a table name, got {table!r}.")
    return Target(table=table, region=aws.session().region_name, endpoint=aws.endpoint_url())


def dynamodb_client(table: str | Target, ddb: Any) -> Any:
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


def progress_bar(enabled: bool, *, desc: str, total: int | None = None) -> Any:
    from tqdm.std import tqdm  # tqdm.auto needs ipywidgets; text bars work everywhere

    return tqdm(
        total=total,
        desc=desc,
        unit="item",
        disable=not (enabled and _interactive()),
        mininterval=PROGRESS_MIN_INTERVAL_S,
        file=sys.stderr,
    )


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


class HashingReader:
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


def describe_keys(ddb: Any, table: str) -> tuple[list[dict[str, str]], dict[str, str]]:
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
    ddb = dynamodb_client(table, ddb)
    folder = Path(dest_dir) if dest_dir else paths.backups_dir() / EXPORTS_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    scanstream.install(ddb)

    key_schema, key_types = describe_keys(ddb, name)
    started = _utc_now()
    clock = time.monotonic()
    stem = _free_stem(folder, f"{name}-{_stamp(started)}")
    data_path = folder / (stem + DATA_SUFFIX)
    manifest_path = folder / (stem + MANIFEST_SUFFIX)

    with progress_bar(progress, desc=f"export {name}") as bar, _atomic_file(data_path) as raw:
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
        yield from iter_lines(raw, data_path, manifest)


def iter_lines(raw: BinaryIO, data_path: Path, manifest: Manifest) -> Iterator[dict[str, Any]]:
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
    return verify_and_find(path)[0]


def verify_and_find(
    path: str | Path, find: dict[str, Any] | None = None
) -> tuple[Manifest, dict[str, Any] | None]:
    """verify_export, also returning the item whose key is `find` (None if absent), so a
    restore learns about the counter item in the same pass."""
    data_path, _ = _paths_from(path)
    manifest = read_manifest(path)
    wanted = key_text(find) if find and set(find) == set(manifest.key_names) else None
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
        reader = HashingReader(raw)
        try:
            for obj in iter_lines(reader, data_path, manifest):  # type: ignore[arg-type]
                count += 1
                digest = (digest + item_digest(obj)) % DIGEST_MODULUS
                if (
                    found is None
                    and wanted is not None
                    and key_text(key_of(obj, manifest.key_names)) == wanted
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
