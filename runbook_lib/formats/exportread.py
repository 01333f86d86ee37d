"""Reading a table export (exportfile.py's format): its manifest, its items, and the check
that it is intact before anyone trusts it (verify_export). Pure file reading, no AWS."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from runbook_lib.errors import BackupFileError
from runbook_lib.formats import dynamojson
from runbook_lib.formats.exportfile import (
    DATA_SUFFIX,
    DIGEST_MODULUS,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_SUFFIX,
    HashingReader,
    Manifest,
    digest_hex,
    manifest_path_for,
)

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


def paths_from(path: str | Path) -> tuple[Path, Path]:
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


# ---- manifest -------------------------------------------------------------------------------


def read_manifest(path: str | Path) -> Manifest:
    """The manifest of an export (no check of the data file: see verify_export)."""
    data_path, manifest_path = paths_from(path)
    raw = _manifest_json(data_path, manifest_path)
    _check_manifest(raw, data_path, manifest_path.name)
    known = {f for f in Manifest.__dataclass_fields__ if f not in ("path", "manifest_path")}
    fields = {k: v for k, v in raw.items() if k in known}
    return Manifest(**fields, path=data_path, manifest_path=manifest_path)


def _manifest_json(data_path: Path, manifest_path: Path) -> dict[str, Any]:
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
    return raw


def _check_manifest(raw: dict[str, Any], data_path: Path, name: str) -> None:
    if raw.get("format") != FORMAT:
        raise BackupFileError(
            f"Manifest {name} has format {raw.get('format')!r}, expected {FORMAT!r}."
        )
    if raw.get("format_version") != FORMAT_VERSION:
        raise BackupFileError(
            f"Manifest {name} is format version {raw.get('format_version')!r}; "
            f"this runbook reads version {FORMAT_VERSION}."
        )
    for field_name, kind in _MANIFEST_FIELDS.items():
        value = raw.get(field_name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BackupFileError(
                f"Manifest {name}: field {field_name!r} is missing or not a {kind.__name__}."
            )
    if raw["data_file"] != data_path.name:
        raise BackupFileError(
            f"Manifest {name} describes {raw['data_file']!r}, not {data_path.name!r}."
        )


# ---- items ----------------------------------------------------------------------------------


def iter_export(path: str | Path, manifest: Manifest | None = None) -> Iterator[dict[str, Any]]:
    """Items of an export as JSON (B as base64), one line at a time, validated.

    Raises BackupFileError naming the line for a broken gzip stream or a bad line; does not
    check hashes (verify_export does, and restore calls it first).
    """
    data_path, _ = paths_from(path)
    manifest = manifest or read_manifest(path)
    with open(data_path, "rb") as raw:
        yield from iter_lines(raw, data_path, manifest)


def iter_lines(
    raw: BinaryIO | HashingReader, data_path: Path, manifest: Manifest
) -> Iterator[dict[str, Any]]:
    lineno = 0
    try:
        # typeshed asks GzipFile's fileobj for seek(), which a forward read never calls: a
        # HashingReader (read only, hashing what passes) has none
        with gzip.GzipFile(filename="", mode="rb", fileobj=raw) as gz:  # type: ignore[arg-type]
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
        dynamojson.check_item(obj)
    except BackupFileError as exc:
        raise BackupFileError(f"{where}: {exc.args[0]}.") from exc
    for key, kind in manifest.key_types.items():
        if key not in obj or kind not in obj[key]:
            raise BackupFileError(f"{where}: key attribute {key!r} of type {kind} is missing.")
    return obj


# ---- verification ---------------------------------------------------------------------------


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
    data_path, _ = paths_from(path)
    manifest = read_manifest(path)
    size = _data_size(data_path, manifest)
    wanted = dynamojson.key_text(find) if find and set(find) == set(manifest.key_names) else None
    scan = _Scan(manifest, wanted)
    with open(data_path, "rb") as raw:
        reader = HashingReader(raw)
        try:
            for obj in iter_lines(reader, data_path, manifest):
                scan.add(obj)
        except BackupFileError as exc:
            scan.problem = exc
        reader.drain()  # hash every byte, also after a bad line or the gzip trailer
    _compare(data_path, manifest, scan, reader.sha.hexdigest(), size)
    return manifest, scan.found


def _data_size(data_path: Path, manifest: Manifest) -> int:
    if not data_path.exists():
        raise BackupFileError(f"Data file {data_path} is missing (its manifest is present).")
    size = data_path.stat().st_size
    if size == 0:
        raise BackupFileError(
            f"{data_path.name} is empty (0 bytes); the manifest says {manifest.bytes}."
        )
    return size


class _Scan:
    """What one pass over the lines found: count, digest, the wanted item, the first problem."""

    def __init__(self, manifest: Manifest, wanted: str | None) -> None:
        self.key_names = manifest.key_names
        self.wanted = wanted
        self.count, self.digest = 0, 0
        self.found: dict[str, Any] | None = None
        self.problem: BackupFileError | None = None

    def add(self, obj: dict[str, Any]) -> None:
        self.count += 1
        self.digest = (self.digest + dynamojson.item_digest(obj)) % DIGEST_MODULUS
        if self.found is None and self.wanted is not None and self._is_wanted(obj):
            self.found = obj

    def _is_wanted(self, obj: dict[str, Any]) -> bool:
        return dynamojson.key_text(dynamojson.key_of(obj, self.key_names)) == self.wanted


def _compare(data_path: Path, manifest: Manifest, scan: _Scan, actual: str, size: int) -> None:
    """The checks in the order an operator needs them: bytes first (a changed file), then the
    first bad line, then count and content."""
    if actual != manifest.sha256 or size != manifest.bytes:
        first = f" First problem found: {scan.problem.args[0]}" if scan.problem else ""
        raise BackupFileError(
            f"{data_path.name} does not match its manifest: sha256 {actual[:16]}… "
            f"({size} bytes) vs recorded {manifest.sha256[:16]}… ({manifest.bytes} bytes). "
            f"The file was changed or damaged after the export.{first}"
        )
    if scan.problem:
        raise scan.problem
    if scan.count != manifest.item_count:
        raise BackupFileError(
            f"{data_path.name} holds {scan.count} items but its manifest says "
            f"{manifest.item_count}."
        )
    if digest_hex(scan.digest) != manifest.content_digest:
        raise BackupFileError(
            f"{data_path.name}: the items' digest does not match the manifest's content_digest."
        )


# ---- listing ----------------------------------------------------------------------------------


def list_exports(folder: Path) -> list[dict[str, Any]]:
    """Table exports in `folder`, newest first, each with its manifest's facts, or
    `complete: False` when the manifest is missing or unreadable."""
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
