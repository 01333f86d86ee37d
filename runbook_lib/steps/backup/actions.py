"""04_backup_restore's actions, as tables of typed functions: `ACTIONS` (backup, restore,
list), and under them `BACKUPS` and `RESTORES` by kind. Each takes the target and the run's
`Request` and answers a JSON-able dict with at least `action`, plus `backup_path` for
backups and `restored` for restores: result.json's fields, as the notebook records them.

They are thin over `itembackup` (the counter item as a file), `export` and `tablerestore`
(the whole table as gzip JSON Lines) and the native steps (DynamoDB backups and PITR).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Request:
    """One run's parameters; each default is what an action takes when it is not given.
    The switches (`dry_run`, `allow_decrease`, `allow_other_table`) are checked where they
    are used (`require_flag`): a string "False" is refused, never read as True."""

    kind: str = ""
    backup_path: str = ""
    backup_arn: str = ""
    new_table_name: str = ""
    restore_time: str = ""
    dry_run: bool = True
    confirm: str | None = None
    allow_decrease: bool = False
    allow_other_table: bool = False
    reason: str = ""
    segments: int | None = None
    backup_name: str | None = None
    progress: bool = True
    read_back: str = "sample"


Fields = dict[str, Any]


def choice(name: str, value: Any, valid: tuple[str, ...]) -> str:
    """`value` when it is one of `valid`, else InvalidInputError naming the valid ones."""
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


# --------------------------------------------------------------------------- backup


def _backup_item(target: Target, req: Request) -> Fields:
    got = itembackup.backup_item(target, reason=req.reason)
    return {"backup_path": str(got.path), "count": got.count, "sha256": got.sha256}


def _backup_table(target: Target, req: Request) -> Fields:
    res = export.export_table(target, segments=req.segments or 1, progress=req.progress)
    return {
        "backup_path": str(res.path),
        "manifest_path": str(res.manifest_path),
        "item_count": res.item_count,
        "sha256": res.sha256,
        "seconds": res.seconds,
    }


def _backup_native(target: Target, req: Request) -> Fields:
    info = nativebackup.create_backup(target, name=req.backup_name or None)
    return {"backup_path": info.arn, "backup_arn": info.arn, "backup_name": info.name}


def _backup_pitr(target: Target, req: Request) -> Fields:
    # continuous backups: a table setting, so dry run + confirm apply
    change = nativebackup.enable_pitr(target, dry_run=req.dry_run, confirm=req.confirm)
    return {**change.to_dict(), "backup_path": f"pitr:{target.table}"}


BACKUPS: dict[str, Callable[[Target, Request], Fields]] = {
    "item": _backup_item,
    "table": _backup_table,
    "native": _backup_native,
    "pitr": _backup_pitr,
}


def backup(target: Target, req: Request) -> Fields:
    """A backup of `req.kind` (item when empty): what it made, and where."""
    kind = choice("backup kind", req.kind or "item", tuple(BACKUPS))
    out: Fields = {"action": "backup", "kind": kind, "table": target.table}
    return {**out, **BACKUPS[kind](target, req)}


# --------------------------------------------------------------------------- restore


def _restore_item(target: Target, req: Request, write: Fields) -> Fields:
    res = itembackup.restore_item(target, _path(req.backup_path), **write)
    return {**res.to_dict(), "live_backup_path": res.backup_path}


def _restore_table(target: Target, req: Request, write: Fields) -> Fields:
    res = tablerestore.restore_table(
        _path(req.backup_path),
        target,
        **write,
        allow_other_table=require_flag("allow_other_table", req.allow_other_table),
        read_back=req.read_back,
        progress=req.progress,
    )
    return res.to_dict()


def _restore_native(target: Target, req: Request, write: Fields) -> Fields:
    res = nativerestore.restore_backup_to_new_table(
        req.backup_arn,
        req.new_table_name,
        dry_run=write["dry_run"],
        confirm=write["confirm"],
        live_table=target.table,
    )
    return _with_next_step(target, res)


def _restore_pitr(target: Target, req: Request, write: Fields) -> Fields:
    res = nativerestore.restore_pitr_to_new_table(
        target,
        req.new_table_name,
        restore_time=req.restore_time or None,
        dry_run=write["dry_run"],
        confirm=write["confirm"],
    )
    return _with_next_step(target, res)


def _copy_back(target: Target, req: Request, write: Fields) -> Fields:
    res = copyback.copy_counter_back(req.new_table_name, target, **write, reason=req.reason)
    done = res.to_dict()
    return {**done, "restored": res.written, "live_backup_path": done["backup_path"]}


def _with_next_step(target: Target, res: Any) -> Fields:
    """A native or PITR restore lands in a NEW table: say how to copy the count back."""
    out = res.to_dict()
    if res.restored:
        out["next_step"] = (
            f"compare, then copy the count back: action=restore kind=copy_back "
            f"new_table_name={res.new_table} confirm={target.table}; delete "
            f"{res.new_table} when done (it is not managed by Terraform)."
        )
    return out


RESTORES: dict[str, Callable[[Target, Request, Fields], Fields]] = {
    "item": _restore_item,
    "table": _restore_table,
    "native": _restore_native,
    "pitr": _restore_pitr,
    "copy_back": _copy_back,
}


def infer_restore_kind(
    kind: str = "", backup_path: str = "", backup_arn: str = "", restore_time: str = ""
) -> str:
    """The restore kind: as given, else from what was given (ARN -> native, .jsonl.gz or
    .manifest.json -> table, another path -> item, restore_time -> pitr)."""
    if kind:
        return choice("restore kind", kind, tuple(RESTORES))
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


def restore(target: Target, req: Request) -> Fields:
    """A restore of the kind given or inferred; a dry run unless confirmed."""
    kind = infer_restore_kind(req.kind, req.backup_path, req.backup_arn, req.restore_time)
    write = {
        "dry_run": req.dry_run,
        "confirm": req.confirm or None,
        "allow_decrease": require_flag("allow_decrease", req.allow_decrease),
    }
    out: Fields = {"action": "restore", "kind": kind, "table": target.table}
    return {**out, **RESTORES[kind](target, req, write)}


# --------------------------------------------------------------------------- list


def listing(target: Target, req: Request) -> Fields:
    """Every item backup, table export and native backup of the table, and PITR's state."""
    if req.kind:
        raise InvalidInputError("kind applies to backup and restore, not to list; leave it empty.")
    out: Fields = {
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


ACTIONS: dict[str, Callable[[Target, Request], Fields]] = {
    "backup": backup,
    "restore": restore,
    "list": listing,
}


def act(target: Target, action: str, req: Request) -> Fields:
    """The named action's fields; an unknown action is refused before anything is read."""
    return ACTIONS[choice("action", action, tuple(ACTIONS))](target, req)
