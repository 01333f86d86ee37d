"""The one entry point notebook 04 calls: back up, restore, or list what can be restored.

A thin dispatcher over `itembackup` (the counter item as a file), `export` and
`tablerestore` (the whole table as gzip JSON Lines) and the native steps (DynamoDB backups
and PITR). Every answer is a JSON-able dict
with at least `action`, plus `backup_path` for backups and `restored` for restores, so the
notebook records it as it is.

Backups only read the table, so they need no confirmation (except turning PITR on, a
table setting: kind=pitr is a dry run unless confirmed). Every restore is a dry run unless
dry_run=False and confirm equals the table written to: the live table for item, table and
copy_back restores, the NEW table for native and pitr restores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError, RunbookError
from runbook_lib.formats import exportfile, itemstore
from runbook_lib.model import Target
from runbook_lib.steps.backup import (
    copyback,
    export,
    itembackup,
    nativebackup,
    nativerestore,
    tablerestore,
)
from runbook_lib.steps.common.confirm import require_flag

ACTIONS = ("backup", "restore", "list")
BACKUP_KINDS = ("item", "table", "native", "pitr")
RESTORE_KINDS = ("item", "table", "native", "pitr", "copy_back")


def _choice(name: str, value: Any, valid: tuple[str, ...]) -> str:
    if value not in valid:
        raise InvalidInputError(f"Unknown {name} {value!r}. Valid: {', '.join(valid)}.")
    return value


def _path(value: Any) -> Path:
    if not value:
        raise InvalidInputError(
            "backup_path is required for this restore.",
            hint="run with action=list and copy a path from the listing.",
        )
    return Path(value).expanduser()


def infer_restore_kind(
    kind: str = "", backup_path: str = "", backup_arn: str = "", restore_time: str = ""
) -> str:
    """The restore kind: as given, else from what was given (ARN -> native, .jsonl.gz or
    .manifest.json -> table, another path -> item, restore_time -> pitr)."""
    if kind:
        return _choice("restore kind", kind, RESTORE_KINDS)
    if backup_arn:
        return "native"
    if backup_path:
        return "table" if exportfile.is_export_path(backup_path) else "item"
    if restore_time:
        return "pitr"
    raise InvalidInputError(
        "Nothing to restore from: give backup_path (item file or table export), backup_arn "
        "(native backup), or kind=pitr / kind=copy_back with new_table_name.",
        hint="run with action=list to see what exists.",
    )


# --------------------------------------------------------------------------- backup


def _backup(target: Target, kind: str, p: dict[str, Any]) -> dict[str, Any]:
    kind = _choice("backup kind", kind or "item", BACKUP_KINDS)
    out: dict[str, Any] = {"action": "backup", "kind": kind, "table": target.table}
    if kind == "item":
        got = itembackup.backup_item(target, reason=p.get("reason", ""))
        return {**out, "backup_path": str(got.path), "count": got.count, "sha256": got.sha256}
    if kind == "table":
        res = export.export_table(
            target, segments=p.get("segments") or 1, progress=p.get("progress", True)
        )
        return {
            **out,
            "backup_path": str(res.path),
            "manifest_path": str(res.manifest_path),
            "item_count": res.item_count,
            "sha256": res.sha256,
            "seconds": res.seconds,
        }
    if kind == "pitr":  # continuous backups: a table setting, so dry run + confirm apply
        change = nativebackup.enable_pitr(
            target, dry_run=p.get("dry_run", True), confirm=p.get("confirm")
        )
        return {**out, **change.to_dict(), "backup_path": f"pitr:{target.table}"}
    info = nativebackup.create_backup(target, name=p.get("backup_name") or None)
    return {**out, "backup_path": info.arn, "backup_arn": info.arn, "backup_name": info.name}


# --------------------------------------------------------------------------- restore


def _restore(target: Target, kind: str, p: dict[str, Any]) -> dict[str, Any]:
    kind = infer_restore_kind(
        kind, p.get("backup_path", ""), p.get("backup_arn", ""), p.get("restore_time", "")
    )
    write = {
        "dry_run": p.get("dry_run", True),
        "confirm": p.get("confirm") or None,
        "allow_decrease": require_flag("allow_decrease", p.get("allow_decrease", False)),
    }
    out: dict[str, Any] = {"action": "restore", "kind": kind, "table": target.table}
    return {**out, **_RESTORES[kind](target, p, write)}


def _restore_item(target: Target, p: dict[str, Any], write: dict[str, Any]) -> dict[str, Any]:
    res = itembackup.restore_item(target, _path(p.get("backup_path")), **write)
    return {**res.to_dict(), "live_backup_path": res.backup_path}


def _restore_table(target: Target, p: dict[str, Any], write: dict[str, Any]) -> dict[str, Any]:
    res = tablerestore.restore_table(
        _path(p.get("backup_path")),
        target,
        **write,
        allow_other_table=require_flag("allow_other_table", p.get("allow_other_table", False)),
        read_back=p.get("read_back", "sample"),
        progress=p.get("progress", True),
    )
    return res.to_dict()


def _copy_back(target: Target, p: dict[str, Any], write: dict[str, Any]) -> dict[str, Any]:
    res = copyback.copy_counter_back(
        p.get("new_table_name", ""), target, **write, reason=p.get("reason", "")
    )
    done = res.to_dict()
    return {**done, "restored": res.written, "live_backup_path": done["backup_path"]}


def _restore_native(target: Target, p: dict[str, Any], write: dict[str, Any]) -> dict[str, Any]:
    res = nativerestore.restore_backup_to_new_table(
        p.get("backup_arn", ""),
        p.get("new_table_name", ""),
        dry_run=write["dry_run"],
        confirm=write["confirm"],
        live_table=target.table,
    )
    return _with_next_step(target, res)


def _restore_pitr(target: Target, p: dict[str, Any], write: dict[str, Any]) -> dict[str, Any]:
    res = nativerestore.restore_pitr_to_new_table(
        target,
        p.get("new_table_name", ""),
        restore_time=p.get("restore_time") or None,
        dry_run=write["dry_run"],
        confirm=write["confirm"],
    )
    return _with_next_step(target, res)


def _with_next_step(target: Target, res: Any) -> dict[str, Any]:
    """A native or PITR restore lands in a NEW table: say how to copy the count back."""
    out = res.to_dict()
    if res.restored:
        out["next_step"] = (
            f"compare, then copy the count back: action=restore kind=copy_back "
            f"new_table_name={res.new_table} confirm={target.table}; delete "
            f"{res.new_table} when done (it is not managed by Terraform)."
        )
    return out


_RESTORES = {
    "item": _restore_item,
    "table": _restore_table,
    "copy_back": _copy_back,
    "native": _restore_native,
    "pitr": _restore_pitr,
}


# --------------------------------------------------------------------------- list


def _list(target: Target, p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": "list",
        "table": target.table,
        "item_backups": itemstore.list_item_backups(paths.backups_dir(), target.table),
        "table_exports": [
            e for e in export.list_exports() if e.get("table") in (None, target.table)
        ],
    }
    try:  # local files stay listable when AWS is unreachable or the role lacks ListBackups
        out["native_backups"] = [b.to_dict() for b in nativebackup.list_backups(target)]
        pitr = nativebackup.pitr_status(target)
        out["pitr"] = pitr.to_dict()
    except RunbookError as exc:
        out["native_backups"] = []
        out["aws_error"] = str(exc)
    return out


def run_action(action: str, target: Target, **params: Any) -> dict[str, Any]:
    """Dispatch one notebook run.

    action: backup | restore | list. Parameters (all optional unless the action needs them):
    kind, backup_path, backup_arn, new_table_name, restore_time, dry_run, confirm,
    allow_decrease, reason, segments, backup_name, progress, read_back (table restores).
    """
    action = _choice("action", action, ACTIONS)
    kind = params.pop("kind", "") or ""
    if action == "backup":
        return _backup(target, kind, params)
    if action == "restore":
        return _restore(target, kind, params)
    if kind:
        raise InvalidInputError("kind applies to backup and restore, not to list; leave it empty.")
    return _list(target, params)


def needs_attention(result: dict[str, Any]) -> bool:
    """True when a listing finds no backup of any kind (nothing to restore from), or AWS
    could not be asked."""
    if result.get("action") != "list":
        return False
    has_any = any(result.get(k) for k in ("item_backups", "table_exports", "native_backups"))
    return not has_any or "aws_error" in result


LIST_COLUMNS = ["kind", "when", "what", "count/items", "note"]


def to_frame(result: dict[str, Any]) -> Any:
    """A DataFrame to show in the notebook: one row per backup for a listing, the result's
    fields as rows otherwise."""
    import pandas as pd

    if result.get("action") == "list":
        return pd.DataFrame(_listing_rows(result), columns=LIST_COLUMNS)
    shown = {k: v for k, v in result.items() if v not in (None, "")}
    frame = pd.DataFrame({"value": [str(v) for v in shown.values()]}, index=list(shown))
    frame.index.name = "field"
    return frame


def _listing_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(kind, when, what, count/items, note) for every item backup, export, native backup."""
    rows: list[tuple[Any, ...]] = [
        ("item", r["taken_at"], r["path"], r["count"], r["reason"])
        for r in result.get("item_backups", [])
    ]
    for r in result.get("table_exports", []):
        note = "" if r.get("complete") else f"INCOMPLETE: {r.get('problem')}"
        rows.append(("table", r.get("finished_at"), r["path"], r.get("item_count"), note))
    for r in result.get("native_backups", []):
        note = f"{r['name']} ({r['status']}, {r['age_hours']} h old)"
        rows.append(("native", r["created"], r["arn"], None, note))
    return rows


def view(result: dict[str, Any]) -> Any:
    """to_frame(result) styled for the notebook: paths and ARNs shown in full (a plain
    DataFrame cuts cells at 50 characters, and operators copy these into the next run)."""
    frame = to_frame(result)
    if result.get("action") == "list" and frame.empty:  # said in words, not an empty table
        return Said(f"No backup of {result.get('table')}: no item backup, export or native backup.")
    # a native backup has no count: None would turn the column to floats (4667.0)
    styler = frame.style.format(precision=0, na_rep="-")
    return styler.hide(axis="index") if result.get("action") == "list" else styler


class Said(str):
    """A sentence the notebook shows as text (a plain str would show in quotes)."""

    def __repr__(self) -> str:
        return str(self)
