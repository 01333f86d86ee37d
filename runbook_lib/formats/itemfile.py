"""The item backup format: one counter item as a file the AWS CLI takes as it is.

A backup is two files side by side in `<backups>/<table>/`:

- `<UTC ts>-<key value>.json`: exactly the item in DynamoDB's JSON format, so
  `aws dynamodb put-item --table-name T --item file://FILE` restores it unchanged;
- `<UTC ts>-<key value>.meta.json`: the sidecar (table, key, time, where, sha256 of the
  item file, count, tool version) that lets a restore prove the file is intact and meant
  for this table.

`load_item_file` also takes the guide's `aws dynamodb get-item ... > backup.json` output,
which wraps the item in `{"Item": {...}}`. Numbers stay strings or `Decimal`, never float.
Reading and checking the files here; writing and listing them in itemstore.py; taking and
restoring a backup is steps/itembackup.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from runbook_lib.errors import BackupFileError
from runbook_lib.formats import dynamojson
from runbook_lib.model import Target

FORMAT = "counter-runbook/item-backup"
FORMAT_VERSION = 1
ITEM_SUFFIX = ".json"
META_SUFFIX = ".meta.json"
MAX_FILE_BYTES = 2 * 1024 * 1024  # an item is at most 400 KB; base64 and indents fit in 2 MiB
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ItemBackup:
    """A backup just written: the item file, its sidecar and what they hold."""

    path: Path
    meta_path: Path
    item: dict[str, Any]  # as written (JSON format: B values base64 text)
    count: int | None  # None when the live count was not a valid number
    sha256: str
    taken_at: str
    count_type: str | None = None  # how the item stores its count: N, or S (a string count)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "meta_path": str(self.meta_path),
            "count": self.count,
            "count_type": self.count_type,
            "sha256": self.sha256,
            "taken_at": self.taken_at,
        }


@dataclass(frozen=True)
class LoadedItem:
    """A backup file that passed every check."""

    path: Path
    item: dict[str, Any]  # JSON format, as in the file (unwrapped)
    wrapped: bool  # the file held `{"Item": {...}}` (get-item output)
    meta: dict[str, Any] | None  # the sidecar, when there is one
    count: int | None = None  # the count, once checked against a target (itembackup)

    def boto_item(self) -> dict[str, Any]:
        """The item for boto3's low-level client (B values as bytes)."""
        return dynamojson.decode_item(self.item)


# ---- names and text -------------------------------------------------------------------------


def safe_name(text: str) -> str:
    """A file-name-safe rendering of a table or key value."""
    return _UNSAFE_NAME.sub("_", text).strip("_") or "item"


def meta_path_for(path: str | Path) -> Path:
    """The sidecar of an item file: X.json -> X.meta.json."""
    path = Path(path)
    stem = path.name[: -len(ITEM_SUFFIX)] if path.name.endswith(ITEM_SUFFIX) else path.name
    return path.with_name(stem + META_SUFFIX)


def item_path_for(meta_path: str | Path) -> Path:
    """The item file of a sidecar: X.meta.json -> X.json."""
    meta_path = Path(meta_path)
    name = meta_path.name
    stem = name[: -len(META_SUFFIX)] if name.endswith(META_SUFFIX) else Path(name).stem
    return meta_path.with_name(stem + ITEM_SUFFIX)


def dumps_item(item: dict[str, Any]) -> str:
    """The item file's text: attributes sorted, two-space indent, trailing newline."""
    return json.dumps(dynamojson.item_to_json(item), indent=2, sort_keys=True) + "\n"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- checks ---------------------------------------------------------------------------------


def check_key(
    item: dict[str, Any], key_name: str, key_value: str | None, key_type: str | None = None
) -> None:
    """The item carries the counter's key, of the table's type (and the expected value,
    when given). `key_type` None accepts any scalar key type."""
    if key_name not in item:
        raise BackupFileError(
            f"the key attribute {key_name!r} is missing; the item has {sorted(item)}"
        )
    value = item[key_name]
    kind = next(iter(value), "?")
    allowed = (key_type,) if key_type else ("S", "N", "B")
    if kind not in allowed:
        raise BackupFileError(
            f"the key attribute {key_name} must be of type {' or '.join(allowed)} "
            f"(the table's), got type {kind}"
        )
    shown = value.get(kind)
    if isinstance(shown, bytes):
        shown = base64.b64encode(shown).decode()
    if key_value is not None and str(shown) != str(key_value):
        if _same_number(kind, shown, key_value):
            return
        raise BackupFileError(
            f"the file is for item {key_name}={shown!r}, not the target's {key_name}={key_value!r}"
        )


def _same_number(kind: str, a: Any, b: Any) -> bool:
    try:
        return kind == "N" and Decimal(str(a)) == Decimal(str(b))
    except (ArithmeticError, ValueError):
        return False


def check_target_key(item: dict[str, Any], target: Target) -> None:
    check_key(item, target.key_name, target.key_value, target.key_type)
    if target.range_key_name:
        check_key(item, target.range_key_name, target.range_key_value, target.range_key_type)


def unwrap(data: Any) -> tuple[Any, bool]:
    """The item from either format: plain, or get-item's `{"Item": {...}}`. A typed value
    under "Item" is an attribute named Item, not the wrapper (a counter item has at least
    two attributes, so the wrapper never looks like one typed value)."""
    if (
        isinstance(data, dict)
        and "Item" in data
        and set(data) <= {"Item", "ConsumedCapacity"}
        and isinstance(data["Item"], dict)
        and not dynamojson.looks_typed(data["Item"])
    ):
        return data["Item"], True
    return data, False


# ---- reading --------------------------------------------------------------------------------


def refused(path: Path, problem: str) -> BackupFileError:
    """The error for a file that failed a check: names the file, says nothing was written."""
    return BackupFileError(f"Backup file {path}: {problem.rstrip('.')}. Nothing was written.")


def load_item_file(
    path: str | Path, *, target: Target | None = None, allow_other_table: bool = False
) -> LoadedItem:
    """Read and check a backup file; BackupFileError names the file and the failed check.

    Checks, in order: readable, not empty, valid JSON, a proper DynamoDB item (every value
    typed, numbers within DynamoDB's limits), the sidecar's sha256 and table when a sidecar
    exists, and against `target`: the key attribute and value.
    """
    path = Path(path)
    try:
        return _load(path, target, allow_other_table)
    except BackupFileError as exc:
        raise refused(path, str(exc.args[0])) from None


def _load(path: Path, target: Target | None, allow_other_table: bool) -> LoadedItem:
    if path.name.endswith(META_SUFFIX):
        raise BackupFileError(
            f"this is a sidecar (metadata); pass the item file {path.name[: -len(META_SUFFIX)]}"
            f"{ITEM_SUFFIX} instead"
        )
    raw = _read_bytes(path)
    if not raw.strip():
        raise BackupFileError(
            "the file is empty (a `get-item` of a missing item writes an empty file)"
        )
    item, wrapped = unwrap(_parse_json(raw, "the file"))
    dynamojson.check_item(item)
    meta = _check_sidecar(path, raw, target, allow_other_table)
    if target:
        check_target_key(item, target)
    elif meta and meta.get("key_name"):
        check_key(item, str(meta["key_name"]), meta.get("key_value"), meta.get("key_type"))
    return LoadedItem(path=path, item=item, wrapped=wrapped, meta=meta)


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise BackupFileError(
                f"the file is {size} bytes; an item backup is at most {MAX_FILE_BYTES}"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise BackupFileError("no such file") from None
    except IsADirectoryError:
        raise BackupFileError("this is a folder, not a backup file") from None
    except OSError as exc:
        raise BackupFileError(f"cannot read it: {exc.strerror or exc}") from None


def _parse_json(raw: bytes, what: str) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BackupFileError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except json.JSONDecodeError as exc:
        hint = " (truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise BackupFileError(
            f"{what} is not valid JSON{hint}: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _check_sidecar(
    path: Path, raw: bytes, target: Target | None, allow_other_table: bool
) -> dict[str, Any] | None:
    meta_path = meta_path_for(path)
    if not meta_path.exists():
        return None
    meta = _parse_json(_read_bytes(meta_path), f"the sidecar {meta_path.name}")
    if not isinstance(meta, dict):
        raise BackupFileError(f"the sidecar {meta_path.name} is not a JSON object")
    expected = meta.get("sha256")
    actual = sha256_bytes(raw)
    if expected != actual:
        raise BackupFileError(
            f"sha256 mismatch: the sidecar {meta_path.name} records {expected}, the file "
            f"hashes to {actual}; the file changed or is damaged since it was written"
        )
    if target and not allow_other_table and meta.get("table") != target.table:
        raise BackupFileError(
            f"the file was taken from table {meta.get('table')!r}, not the target "
            f"{target.table!r} (pass allow_other_table=True to restore across tables)"
        )
    return meta
