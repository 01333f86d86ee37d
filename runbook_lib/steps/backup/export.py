"""Export a whole table to gzip JSON Lines plus a manifest (the format: formats/exportfile.py;
reading and verifying: formats/exportread.py; the restore: tablerestore.py).

The steps: check the arguments -> read the key schema (DescribeTable) -> stream a consistent
Scan (aws/scan.py: paginated, optionally in parallel segments) to a temporary file page by
page in constant memory -> rename it into place -> write the manifest LAST, so an export
without a manifest is visibly incomplete. Read-only on the table.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runbook_lib import aws, paths
from runbook_lib.aws import counter, scan, tables
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.errors import InvalidInputError
from runbook_lib.formats import atomic, exportread
from runbook_lib.formats.exportfile import (
    DATA_SUFFIX,
    MANIFEST_SUFFIX,
    Manifest,
    WrittenData,
    free_stem,
    write_items,
)
from runbook_lib.model import Target
from runbook_lib.steps.common.progress import progress_bar

EXPORTS_SUBDIR = "table-exports"  # under paths.backups_dir()


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


def exports_dir() -> Path:
    return paths.backups_dir() / EXPORTS_SUBDIR


def list_exports(folder: str | Path | None = None) -> list[dict[str, Any]]:
    """Table exports in `folder` (default backups_dir()/table-exports), newest first."""
    return exportread.list_exports(Path(folder) if folder else exports_dir())


def as_target(table: str | Target) -> Target:
    """A Target for a destination given by name: the counter's default key and attribute,
    this session's region and endpoint."""
    if isinstance(table, Target):
        return table
    if not isinstance(table, str) or not table:
        raise InvalidInputError(f"table must be a table name, got {table!r}.")
    return Target(table=table, region=aws.session().region_name, endpoint=aws.endpoint_url())


def dynamodb_client(table: str | Target, ddb: DynamoDBClient | None) -> DynamoDBClient:
    if ddb is not None:
        return ddb
    target = table if isinstance(table, Target) else None
    return counter.dynamodb(target)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _check_arguments(segments: Any, page_size: Any) -> None:
    if isinstance(segments, bool) or not isinstance(segments, int):
        raise InvalidInputError(f"segments must be a whole number, got {segments!r}.")
    if not 1 <= segments <= scan.MAX_TOTAL_SEGMENTS:
        raise InvalidInputError(
            f"segments must be from 1 to {scan.MAX_TOTAL_SEGMENTS:,} (DynamoDB limit), "
            f"got {segments}."
        )
    if page_size is not None and (not isinstance(page_size, int) or page_size < 1):
        raise InvalidInputError(f"page_size must be a positive whole number, got {page_size!r}.")


def _stream_items(
    ddb: DynamoDBClient,
    name: str,
    data_path: Path,
    *,
    segments: int,
    page_size: int | None,
    progress: bool,
) -> WrittenData:
    """The Scan's pages, straight into the data file (complete or not there at all)."""
    with progress_bar(progress, desc=f"export {name}") as bar, atomic.atomic_file(data_path) as raw:
        pages = scan.scan_pages(ddb, name, segments=segments, page_size=page_size)
        try:
            return write_items((scan.items_json(p) for p in pages), raw, on_page=bar.update)
        finally:
            pages.close()  # stops the scanner threads at once after an error


def export_table(
    table: str | Target,
    dest_dir: str | Path | None = None,
    *,
    segments: int = 1,
    ddb: DynamoDBClient | None = None,
    progress: bool = True,
    page_size: int | None = None,
) -> ExportResult:
    """Export every item of `table` to `<dest_dir>/<table>-<UTC>.jsonl.gz` + manifest.

    A consistent-read Scan, paginated (and split into `segments` parallel segments when
    asked), streamed to disk page by page in constant memory. The manifest is written last.
    Read-only on the table. dest_dir defaults to backups_dir()/table-exports.
    """
    name = table.table if isinstance(table, Target) else table
    _check_arguments(segments, page_size)
    ddb = dynamodb_client(table, ddb)
    folder = Path(dest_dir) if dest_dir else exports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    key_schema, key_types = tables.describe_keys(ddb, name)
    started, clock = _utc_now(), time.monotonic()
    stem = free_stem(folder, f"{name}-{_stamp(started)}")
    data_path, manifest_path = folder / (stem + DATA_SUFFIX), folder / (stem + MANIFEST_SUFFIX)
    written = _stream_items(
        ddb, name, data_path, segments=segments, page_size=page_size, progress=progress
    )
    manifest = Manifest(
        table=name,
        key_schema=key_schema,
        key_types=key_types,
        item_count=written.item_count,
        sha256=written.sha256,
        bytes=written.bytes,
        content_digest=written.content_digest,
        data_file=data_path.name,
        started_at=_iso(started),
        finished_at=_iso(_utc_now()),
        segments=segments,
        region=getattr(getattr(ddb, "meta", None), "region_name", None),
    )
    atomic.write_json_atomic(manifest_path, manifest.to_dict())  # LAST: marks it complete
    return ExportResult(
        path=data_path,
        manifest_path=manifest_path,
        table=name,
        item_count=written.item_count,
        sha256=written.sha256,
        bytes=written.bytes,
        segments=segments,
        seconds=round(time.monotonic() - clock, 3),
    )
