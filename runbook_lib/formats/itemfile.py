"""The item backup format: one counter item as a file the AWS CLI takes as it is.

A backup is two files side by side in `<backups>/<table>/`:

- `<UTC ts>-<key value>.json`: exactly the item in DynamoDB's wire format, so
  `aws dynamodb put-item --table-name T --item file://FILE` restores it unchanged;
- `<UTC ts>-<key value>.meta.json`: the sidecar (table, key, time, where, sha256 of the
  item file, count, tool version) that lets a restore prove the file is intact and meant
  for this table.

`load_item_file` also takes the guide's `aws dynamodb get-item ... > backup.json` output,
which wraps the item in `{"Item": {...}}`. Numbers stay strings or `Decimal`, never float.
Restores go through `counter.conditional_set`, the one safe write path.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from runbook_lib import __version__, paths
from runbook_lib.aws import counter
from runbook_lib.aws.errors import from_client_error
from runbook_lib.errors import (
    BackupFileError,
    CountConflictError,
    InvalidInputError,
    ItemMissingError,
)
from runbook_lib.target.model import Target

FORMAT = "counter-runbook/item-backup"
FORMAT_VERSION = 1
ITEM_SUFFIX = ".json"
META_SUFFIX = ".meta.json"
MAX_NUMBER_DIGITS = 38  # DynamoDB limit: significant digits of a number
MIN_NUMBER_EXPONENT = -130  # DynamoDB limit: smallest magnitude 1E-130
MAX_NUMBER_EXPONENT = 125  # DynamoDB limit: largest magnitude 9.99...E+125
MAX_DEPTH = 32  # DynamoDB limit: nesting levels of L and M
MAX_FILE_BYTES = 2 * 1024 * 1024  # an item is at most 400 KB; base64 and indents fit in 2 MiB
SCALAR_TYPES = ("S", "N", "B", "BOOL", "NULL")
SET_TYPES = ("SS", "NS", "BS")
TYPE_TAGS = (*SCALAR_TYPES, *SET_TYPES, "L", "M")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# DynamoDB's number syntax: no underscores, spaces, NaN or Infinity (which Decimal accepts).
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


# ---- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemBackup:
    """A backup just written: the item file, its sidecar and what they hold."""

    path: Path
    meta_path: Path
    item: dict[str, Any]  # as written (JSON wire format: B values base64 text)
    count: int | None  # None when the live count was not a valid number
    sha256: str
    taken_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "meta_path": str(self.meta_path),
            "count": self.count,
            "sha256": self.sha256,
            "taken_at": self.taken_at,
        }


@dataclass(frozen=True)
class LoadedItem:
    """A backup file that passed every check."""

    path: Path
    item: dict[str, Any]  # JSON wire format, as in the file (unwrapped)
    wrapped: bool  # the file held `{"Item": {...}}` (get-item output)
    meta: dict[str, Any] | None  # the sidecar, when there is one
    count: int | None  # the target's count attribute; None when loaded without a target

    def boto_item(self) -> dict[str, Any]:
        """The item for boto3's low-level client (B values as bytes)."""
        return {name: _decode_binary(value) for name, value in self.item.items()}


@dataclass(frozen=True)
class RestoreResult:
    restored: bool
    old: int | None  # the live count before (None: the item was missing)
    new: int  # the count in the backup file
    backup_path: str | None  # the live item's backup, taken before writing
    dry_run: bool
    message: str
    source: str = ""  # the backup file restored from

    def to_dict(self) -> dict[str, Any]:
        return {
            "restored": self.restored,
            "old": self.old,
            "new": self.new,
            "backup_path": self.backup_path,
            "dry_run": self.dry_run,
            "message": self.message,
            "source": self.source,
        }

    def __str__(self) -> str:
        return self.message


# ---- pure helpers -------------------------------------------------------------------------


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


def item_to_json(item: dict[str, Any]) -> dict[str, Any]:
    """A boto3 wire item as JSON wire format (bytes -> base64 text, as the AWS CLI writes)."""
    return {name: _encode_binary(value) for name, value in item.items()}


def dumps_item(item: dict[str, Any]) -> str:
    """The item file's text: attributes sorted, two-space indent, trailing newline."""
    return json.dumps(item_to_json(item), indent=2, sort_keys=True) + "\n"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _encode_binary(value: dict[str, Any]) -> dict[str, Any]:
    ((tag, inner),) = value.items()
    if tag == "B":
        return {"B": _b64(inner)}
    if tag == "BS":
        return {"BS": [_b64(v) for v in inner]}
    if tag == "L":
        return {"L": [_encode_binary(v) for v in inner]}
    if tag == "M":
        return {"M": {k: _encode_binary(v) for k, v in inner.items()}}
    return {tag: inner}


def _decode_binary(value: dict[str, Any]) -> dict[str, Any]:
    ((tag, inner),) = value.items()
    if tag == "B":
        return {"B": base64.b64decode(inner)}
    if tag == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if tag == "L":
        return {"L": [_decode_binary(v) for v in inner]}
    if tag == "M":
        return {"M": {k: _decode_binary(v) for k, v in inner.items()}}
    return {tag: inner}


def _b64(data: bytes | str) -> str:
    return data if isinstance(data, str) else base64.b64encode(data).decode("ascii")


# ---- validation (pure) ----------------------------------------------------------------------


def check_number(text: Any, where: str) -> Decimal:
    """An N value: a string that parses as a finite Decimal DynamoDB can store."""
    if not isinstance(text, str):
        raise _bad(where, f"a number must be written as a string, got {type(text).__name__}")
    if not _NUMBER_RE.match(text):
        raise _bad(where, f"{_preview(text)} is not a number DynamoDB accepts")
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise _bad(where, f"{_preview(text)} is not a number") from None
    digits = len(number.as_tuple().digits) if number else 1
    if digits > MAX_NUMBER_DIGITS:
        raise _bad(
            where,
            f"{text[:20]}… has {digits} significant digits; DynamoDB numbers hold at most "
            f"{MAX_NUMBER_DIGITS}",
        )
    if number and not MIN_NUMBER_EXPONENT <= number.adjusted() <= MAX_NUMBER_EXPONENT:
        raise _bad(where, f"{text[:20]} is outside DynamoDB's number range (1E-130 to 1E+126)")
    return number


def check_value(value: Any, where: str, depth: int = 1) -> None:
    """One typed attribute value, recursively: {"S": ...}, {"N": ...}, {"M": {...}}, ..."""
    if depth > MAX_DEPTH:
        raise _bad(where, f"nested deeper than DynamoDB's {MAX_DEPTH} levels")
    if not isinstance(value, dict) or len(value) != 1:
        raise _bad(
            where,
            f"must be a typed value with exactly one of {', '.join(TYPE_TAGS)} "
            f'(like {{"N": "5"}}), got {_preview(value)}',
        )
    ((tag, inner),) = value.items()
    if tag not in TYPE_TAGS:
        raise _bad(where, f"unknown type {tag!r}; valid types: {', '.join(TYPE_TAGS)}")
    here = f"{where}.{tag}"
    if tag == "S" and not isinstance(inner, str):
        raise _bad(here, f"must be a string, got {_preview(inner)}")
    elif tag == "N":
        check_number(inner, here)
    elif tag == "B":
        _check_base64(inner, here)
    elif tag == "BOOL" and not isinstance(inner, bool):
        raise _bad(here, f"must be true or false, got {_preview(inner)}")
    elif tag == "NULL" and inner is not True:
        raise _bad(here, f"must be true, got {_preview(inner)}")
    elif tag in SET_TYPES:
        _check_set(tag, inner, here)
    elif tag == "L":
        if not isinstance(inner, list):
            raise _bad(here, f"must be a list, got {_preview(inner)}")
        for i, element in enumerate(inner):
            check_value(element, f"{here}[{i}]", depth + 1)
    elif tag == "M":
        if not isinstance(inner, dict):
            raise _bad(here, f"must be an object, got {_preview(inner)}")
        for name, element in inner.items():
            check_value(element, f"{here}.{name}", depth + 1)


def check_item(item: Any) -> None:
    """A whole item: a non-empty object of attribute name -> typed value."""
    if not isinstance(item, dict):
        raise BackupFileError(
            f"the item must be a JSON object of attributes, got {type(item).__name__}"
        )
    if not item:
        raise BackupFileError("the item holds no attributes ({})")
    for name, value in item.items():
        if not name:
            raise BackupFileError("an attribute has an empty name")
        check_value(value, name)


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


def check_count(item: dict[str, Any], attribute: str) -> int:
    """The item's count as a non-negative integer DynamoDB can store."""
    try:
        value = counter.parse_count(item, attribute)
        return counter.validate_count(value, attribute)
    except (counter.CountValueError, InvalidInputError) as exc:
        raise BackupFileError(f"the item's count is unusable: {exc.args[0]}") from None


def unwrap(data: Any) -> tuple[Any, bool]:
    """The item from either format: plain, or get-item's `{"Item": {...}}`."""
    if (
        isinstance(data, dict)
        and "Item" in data
        and set(data) <= {"Item", "ConsumedCapacity"}
        and isinstance(data["Item"], dict)
        and not _looks_typed(data["Item"])
    ):
        return data["Item"], True
    return data, False


def _looks_typed(value: dict[str, Any]) -> bool:
    """True for {"S": "x"}-like values: then "Item" is an attribute, not get-item's wrapper
    (a counter item has at least two attributes, so the wrapper never looks like this)."""
    return len(value) == 1 and next(iter(value)) in TYPE_TAGS


def _check_set(tag: str, inner: Any, where: str) -> None:
    if not isinstance(inner, list) or not inner:
        raise _bad(where, f"must be a non-empty list, got {_preview(inner)}")
    for i, element in enumerate(inner):
        if tag == "SS" and not isinstance(element, str):
            raise _bad(f"{where}[{i}]", f"must be a string, got {_preview(element)}")
        if tag == "NS":
            check_number(element, f"{where}[{i}]")
        if tag == "BS":
            _check_base64(element, f"{where}[{i}]")
    if len(set(map(str, inner))) != len(inner):
        raise _bad(where, "holds duplicate members; DynamoDB sets are unique")


def _check_base64(inner: Any, where: str) -> None:
    if not isinstance(inner, str):
        raise _bad(where, f"binary must be base64 text, got {_preview(inner)}")
    try:
        base64.b64decode(inner, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(where, "is not valid base64") from None


def _bad(where: str, problem: str) -> BackupFileError:
    return BackupFileError(f"attribute {where}: {problem}")


def _preview(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:40] + "…"


# ---- reading ------------------------------------------------------------------------------


def load_item_file(
    path: str | Path, *, target: Target | None = None, allow_other_table: bool = False
) -> LoadedItem:
    """Read and check a backup file; BackupFileError names the file and the failed check.

    Checks, in order: readable, not empty, valid JSON, a proper DynamoDB item (every value
    typed, numbers within DynamoDB's limits), the sidecar's sha256 and table when a sidecar
    exists, and against `target`: the key attribute and value, and a usable count.
    """
    path = Path(path)
    try:
        return _load(path, target, allow_other_table)
    except BackupFileError as exc:
        problem = str(exc.args[0]).rstrip(".")
        raise BackupFileError(f"Backup file {path}: {problem}. Nothing was written.") from None


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
    data = _parse_json(raw, "the file")
    item, wrapped = unwrap(data)
    check_item(item)
    meta = _check_sidecar(path, raw, target, allow_other_table)
    if target:
        check_target_key(item, target)
    elif meta and meta.get("key_name"):
        check_key(item, str(meta["key_name"]), meta.get("key_value"), meta.get("key_type"))
    count = check_count(item, target.count_attribute) if target else None
    return LoadedItem(path=path, item=item, wrapped=wrapped, meta=meta, count=count)


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


# ---- writing ------------------------------------------------------------------------------


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file completely or not at all: temp file in the same folder, fsync, rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; not every platform can open a folder, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _free_path(folder: Path, stamp: str, key_value: str) -> Path:
    """`<stamp>-<key>.json`, with -2, -3 ... when a backup was already taken this second."""
    base = f"{stamp}-{safe_name(key_value)}"
    path = folder / f"{base}{ITEM_SUFFIX}"
    n = 2
    while path.exists() or meta_path_for(path).exists():
        path = folder / f"{base}-{n}{ITEM_SUFFIX}"
        n += 1
    return path


def backup_item(
    target: Target,
    *,
    dest_dir: str | Path | None = None,
    ddb: Any = None,
    reason: str = "",
    item: dict[str, Any] | None = None,
) -> ItemBackup:
    """Back up the live counter item (strongly consistent read) to a file put-item takes.

    `item`: the item the caller has just read strongly consistently, saving a second read;
    the conditional write that follows still guards against any change since.
    ItemMissingError when there is no item (nothing written). A count that is not a valid
    number is backed up as it is: the backup is a faithful copy, whatever it holds.
    """
    ddb = ddb or counter.dynamodb(target)
    if item is None:
        item = counter.get_item(target, ddb=ddb)
    if item is None:
        raise ItemMissingError(
            f"Nothing to back up: the item {target.key_label} does not "
            f"exist in {target.table}. Nothing was written."
        )
    try:
        count: int | None = counter.parse_count(item, target.count_attribute)
    except counter.CountValueError:
        count = None
    data = dumps_item(item).encode("utf-8")
    now = _utc_now()
    folder = Path(dest_dir) if dest_dir else paths.backups_dir()
    folder = folder / safe_name(target.table)
    folder.mkdir(parents=True, exist_ok=True)
    path = _free_path(folder, now.strftime("%Y%m%dT%H%M%SZ"), target.key_value)
    digest = sha256_bytes(data)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "item_file": path.name,
        "table": target.table,
        "key": {target.key_name: target.key_value},
        "key_name": target.key_name,
        "key_value": target.key_value,
        "key_type": target.key_type,
        "range_key": {target.range_key_name: target.range_key_value}
        if target.range_key_name
        else None,
        "count_attribute": target.count_attribute,
        "count": count,
        "taken_at": now.isoformat(),
        "target": target.endpoint or "aws",
        "region": target.region,
        "sha256": digest,
        "reason": reason,
        "tool": "counter-runbook",
        "tool_version": __version__,
    }
    write_atomic(path, data)
    write_atomic(meta_path_for(path), (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
    load_item_file(path)  # prove the round trip before anyone relies on it
    return ItemBackup(
        path=path,
        meta_path=meta_path_for(path),
        item=item_to_json(item),
        count=count,
        sha256=digest,
        taken_at=now.isoformat(),
    )


# ---- restoring ----------------------------------------------------------------------------


def restore_item(
    target: Target,
    path: str | Path,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    allow_decrease: bool = False,
    allow_other_table: bool = False,
    backup_dir: str | Path | None = None,
    ddb: Any = None,
) -> RestoreResult:
    """Put the count from a backup file back, through the one safe write path.

    Order: check the file (a bad file writes nothing), check confirmation, read the live
    item, refuse to lower the count unless allow_decrease, then (real run only) back up the
    live item and make ONE conditional write: `conditional_set(expected_current=<live>)`,
    or, when the item is missing, a PutItem of the file's item with attribute_not_exists.
    A dry run reads only and raises what the real run would refuse.
    """
    counter.require_flag("allow_decrease", allow_decrease)
    loaded = load_item_file(path, target=target, allow_other_table=allow_other_table)
    new = loaded.count
    assert new is not None  # load_item_file with a target always checks the count
    apply = counter.require_confirmation(target, dry_run, confirm)
    ddb = ddb or counter.dynamodb(target)
    attr, where = target.count_attribute, target.table
    source = str(Path(path).resolve())
    live = counter.get_item(target, ddb=ddb)
    if live is None:
        if not apply:
            msg = (
                f"DRY RUN: the item {target.key_label} is missing in {where}; "
                f"a confirmed run would create it from {Path(path).name} with {attr} = {new}. "
                "Nothing was written."
            )
            return RestoreResult(False, None, new, None, True, msg, source)
        _put_if_missing(target, loaded, ddb)
        msg = (
            f"Restored: the item was missing in {where}; created it from {Path(path).name} "
            f"with {attr} = {new}."
        )
        return RestoreResult(True, None, new, None, False, msg, source)
    old = counter.parse_count(live, attr)
    counter.refuse_decrease(
        target, old, new, f"backup {Path(path).name}", allow_decrease=allow_decrease
    )
    others = sorted(set(loaded.item) - {*target.key_names, attr})
    note = f" Other attributes in the file ({', '.join(others)}) are left as they are live."
    note = note if others else ""
    if new == old:
        msg = f"{attr} in {where} already equals the backup's {new}; nothing to do.{note}"
        return RestoreResult(False, old, new, None, not apply, msg, source)
    if not apply:
        msg = (
            f"DRY RUN: would restore {attr} in {where} from {old} to {new} "
            f"(from {Path(path).name}), after backing up the live item. Nothing was written."
            f"{note}"
        )
        return RestoreResult(False, old, new, None, True, msg, source)
    backup = backup_item(
        target, dest_dir=backup_dir, ddb=ddb, reason=f"before restore from {source}"
    )
    counter.conditional_set(target, new, expected_current=old, ddb=ddb)
    msg = (
        f"Restored {attr} in {where} from {old} to {new} (from {Path(path).name}). "
        f"The previous item is backed up in {backup.path}.{note}"
    )
    return RestoreResult(True, old, new, str(backup.path), False, msg, source)


def _put_if_missing(target: Target, loaded: LoadedItem, ddb: Any) -> None:
    """ONE conditional PutItem: create the item from the file only if it is still missing."""
    try:
        ddb.put_item(
            TableName=target.table,
            Item=loaded.boto_item(),
            ConditionExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#k": target.key_name},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            item = exc.response.get("Item") or counter.get_item(target, ddb=ddb) or {}
            live = item.get(target.count_attribute, {}).get("N")
            raise CountConflictError(
                f"The item appeared in {target.table} while restoring (live "
                f"{target.count_attribute} = {live}). Nothing was written.",
                live_value=live,
                hint="run the restore again: it will now compare against the live count.",
            ) from exc
        raise from_client_error(exc, table=target.table, action="PutItem (restore)") from exc
    except Exception as exc:
        raise from_client_error(exc, table=target.table, action="PutItem (restore)") from exc
