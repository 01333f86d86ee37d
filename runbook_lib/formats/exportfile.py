"""The table export format (FORMAT_VERSION 1): gzip JSON Lines plus a manifest.

Two files side by side:

- `<table>-<UTC stamp>.jsonl.gz`: one item per line in DynamoDB JSON, exactly what
  `aws dynamodb scan` prints per item (`{"stat": {"S": "Quantity"}, "viewCount": {"N": "7"}}`;
  binary values base64 as in the CLI). Numbers stay strings end to end: nothing goes
  through float, so 38-digit N values round-trip exactly.
- `<same stem>.manifest.json`: table, key schema, item count, sha256 and size of the .gz bytes,
  an order-independent digest of the items, start/finish times. Written LAST: an export
  without a manifest is visibly incomplete and is refused (exportread.verify_export).

Writing here (the lines, the manifest, file names); reading and verifying in exportread.py.
Pure apart from the files it is handed: the Scan that feeds it lives in aws/scan.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from runbook_lib.formats import dynamojson

FORMAT = "counter-runbook/table-export"
FORMAT_VERSION = 1
DATA_SUFFIX = ".jsonl.gz"
MANIFEST_SUFFIX = ".manifest.json"
READ_CHUNK_BYTES = 1 << 20  # 1 MiB reads when hashing a file
DIGEST_MODULUS = 1 << 256  # item digests are summed mod 2**256: order-independent


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
class WrittenData:
    """What `write_items` wrote: the facts the manifest records."""

    item_count: int
    content_digest: str
    sha256: str
    bytes: int


# ---- lines ----------------------------------------------------------------------------------


def digest_hex(total: int) -> str:
    return f"{total % DIGEST_MODULUS:064x}"


def encode_json_line(as_json: dict[str, Any]) -> tuple[bytes, int]:
    """One item in DynamoDB JSON (B as base64) -> (its JSON line as UTF-8, its digest)."""
    line = json.dumps(as_json, ensure_ascii=False, separators=(",", ":")) + "\n"
    return line.encode("utf-8"), dynamojson.item_digest(as_json)


class HashingWriter:
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


def write_items(
    pages: Iterable[Iterable[dict[str, Any]]],
    sink: BinaryIO,
    *,
    on_page: Callable[[int], None] | None = None,
) -> WrittenData:
    """Stream pages of DynamoDB-JSON items to `sink` as gzip JSON Lines.

    Holds one page at a time, never the table (a page may be a generator over the server's
    bytes, building one item at a time). `on_page(n)` after each page, for progress.
    """
    hashing = HashingWriter(sink)
    count, digest = 0, 0
    with gzip.GzipFile(filename="", mode="wb", fileobj=hashing, mtime=0) as gz:
        for page in pages:
            in_page = 0
            for as_json in page:
                line, item_hash = encode_json_line(as_json)
                gz.write(line)
                digest = (digest + item_hash) % DIGEST_MODULUS
                in_page += 1
            del page  # before the next page is fetched
            count += in_page
            if on_page:
                on_page(in_page)
    return WrittenData(count, digest_hex(digest), hashing.sha.hexdigest(), hashing.size)


# ---- file names ------------------------------------------------------------------------------


def manifest_path_for(data_path: Path) -> Path:
    name = data_path.name
    stem = name[: -len(DATA_SUFFIX)] if name.endswith(DATA_SUFFIX) else data_path.stem
    return data_path.with_name(stem + MANIFEST_SUFFIX)


def free_stem(folder: Path, stem: str) -> str:
    """stem, or stem-2, stem-3... when an export of the same second already exists."""
    candidate, n = stem, 1
    while (folder / (candidate + DATA_SUFFIX)).exists() or (
        folder / (candidate + MANIFEST_SUFFIX)
    ).exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def is_export_path(path: str | Path) -> bool:
    """True for an export's data file or manifest (by name)."""
    return str(path).endswith((DATA_SUFFIX, MANIFEST_SUFFIX))
