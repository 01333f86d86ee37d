"""The backups folder's item files: writing a new backup (item file + sidecar, each
atomically, read back before anyone relies on it) and listing those present
(the format itself: itemfile.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from runbook_lib import __version__
from runbook_lib.formats import atomic, dynamojson
from runbook_lib.formats.itemfile import (
    FORMAT,
    FORMAT_VERSION,
    ITEM_SUFFIX,
    META_SUFFIX,
    ItemBackup,
    dumps_item,
    item_path_for,
    load_item_file,
    meta_path_for,
    safe_name,
    sha256_bytes,
)
from runbook_lib.model import Target


def _free_path(folder: Path, stamp: str, key_value: str) -> Path:
    """`<stamp>-<key>.json`, with -2, -3 ... when a backup was already taken this second."""
    base = f"{stamp}-{safe_name(key_value)}"
    path = folder / f"{base}{ITEM_SUFFIX}"
    n = 2
    while path.exists() or meta_path_for(path).exists():
        path = folder / f"{base}-{n}{ITEM_SUFFIX}"
        n += 1
    return path


def sidecar(
    target: Target,
    item_file: str,
    *,
    count: int | None,
    digest: str,
    taken_at: str,
    reason: str,
    count_type: str | None = None,
) -> dict[str, Any]:
    """What the sidecar records about an item file (pure)."""
    range_key = {target.range_key_name: target.range_key_value} if target.range_key_name else None
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "item_file": item_file,
        "table": target.table,
        "key": {target.key_name: target.key_value},
        "key_name": target.key_name,
        "key_value": target.key_value,
        "key_type": target.key_type,
        "range_key": range_key,
        "count_attribute": target.count_attribute,
        "count": count,
        "count_type": count_type,  # N, or S: a string count (the item file holds it as such)
        "taken_at": taken_at,
        "target": target.endpoint or "aws",
        "region": target.region,
        "sha256": digest,
        "reason": reason,
        "tool": "counter-runbook",
        "tool_version": __version__,
    }


def write_backup(
    folder: Path,
    target: Target,
    item: dict[str, Any],
    *,
    count: int | None,
    reason: str,
    taken_at: dt.datetime,
    count_type: str | None = None,
) -> ItemBackup:
    """Write `item` (wire format) and its sidecar into `folder`, each atomically, then read
    them back to prove the round trip before anyone relies on them."""
    folder.mkdir(parents=True, exist_ok=True)
    data = dumps_item(item).encode("utf-8")
    path = _free_path(folder, taken_at.strftime("%Y%m%dT%H%M%SZ"), target.key_value)
    digest = sha256_bytes(data)
    meta = sidecar(
        target,
        path.name,
        count=count,
        digest=digest,
        taken_at=taken_at.isoformat(),
        reason=reason,
        count_type=count_type,
    )
    atomic.write_atomic(path, data)
    atomic.write_atomic(meta_path_for(path), (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
    load_item_file(path)
    return ItemBackup(
        path=path,
        meta_path=meta_path_for(path),
        item=dynamojson.item_to_json(item),
        count=count,
        sha256=digest,
        taken_at=taken_at.isoformat(),
        count_type=count_type,
    )


def list_item_backups(root: Path, table: str | None = None) -> list[dict[str, Any]]:
    """Item backup files (<root>/<table>/*.json), newest first, with what their sidecars say."""
    if not root.is_dir():
        return []
    rows = []
    for meta_path in sorted(root.glob(f"*/*{META_SUFFIX}"), reverse=True):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        if table and meta.get("table") not in (None, table):
            continue
        item = _item_file_of(meta_path, meta)
        rows.append(
            {
                "path": str(item),
                "table": meta.get("table"),
                "count": meta.get("count"),
                "count_type": meta.get("count_type"),
                "taken_at": meta.get("taken_at"),
                "reason": meta.get("reason", ""),
                "file_present": item.is_file(),
            }
        )
    return rows


def _item_file_of(meta_path: Path, meta: dict[str, Any]) -> Path:
    """The item file a sidecar names; from the sidecar's own name when it names none (an
    unreadable sidecar is still listed, so the operator sees the backup exists)."""
    name = meta.get("item_file")
    if isinstance(name, str) and name and Path(name).name == name:
        return meta_path.with_name(name)
    return item_path_for(meta_path)
