"""04_backup_restore: back up, restore, or list what can be restored. `run` is the notebook's
entry (the step's Result); the actions themselves are the typed functions of `actions`,
over `itembackup` (the counter item as a file), `export` and `tablerestore` (the whole table
as gzip JSON Lines) and the native steps (DynamoDB backups and PITR). Every answer's fields
are a JSON-able dict with at least `action`, plus `backup_path` for backups and `restored`
for restores, recorded as they are.

Backups only read the table, so they need no confirmation (except turning PITR on, a
table setting: kind=pitr is a dry run unless confirmed). Every restore is a dry run unless
dry_run=False and confirm equals the table written to: the live table for item, table and
copy_back restores, the NEW table for native and pitr restores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_lib.model import Target
from runbook_lib.steps.backup import actions
from runbook_lib.steps.backup.actions import infer_restore_kind
from runbook_lib.steps.common.result import Result

__all__ = ["infer_restore_kind", "inventory", "run", "run_action", "to_frame", "view"]


def run(target: Target, *, action: str = "list", **params: Any) -> Result:
    """04_backup_restore's one entry: the action's fields (`actions.act`) as the step's
    Result. `params` are the fields of `actions.Request` (kind, backup_path, backup_arn,
    new_table_name, restore_time, dry_run, confirm, allow_decrease, allow_other_table, reason,
    segments, backup_name, progress, read_back); an unknown one raises TypeError. A problem
    (exit 3) only for a listing that finds nothing to restore from, or could not ask AWS."""
    request = actions.Request(**{**params, "kind": params.get("kind") or ""})
    fields = actions.act(target, action, request)
    verdict, message = _verdict(fields)
    return Result("backup", verdict, _needs_attention(fields), message, fields, detail=fields)


def inventory(target: Target) -> Result:
    """Everything that exists to restore the target's table from (`run` with action=list)."""
    return run(target, action="list")


def run_action(action: str, target: Target, **params: Any) -> dict[str, Any]:
    """`run`'s fields alone, as a dict (00_onboarding's cells read them by key)."""
    return dict(run(target, action=action, **params).fields)


def _needs_attention(fields: Mapping[str, Any]) -> bool:
    """True when a listing finds no backup of any kind (nothing to restore from), or AWS
    could not be asked."""
    if fields.get("action") != "list":
        return False
    has_any = any(fields.get(k) for k in ("item_backups", "table_exports", "native_backups"))
    return not has_any or "aws_error" in fields


def _verdict(fields: Mapping[str, Any]) -> tuple[str, str]:
    """The headline and the text the notebook shows for an action's fields."""
    table, kind = fields.get("table"), fields.get("kind")
    if fields["action"] == "list":
        return _listing_verdict(fields)
    if fields["action"] == "backup":
        if kind != "pitr":
            return "BACKED UP", f"Backed up {table} ({kind}): {fields['backup_path']}"
        if fields["enabled_before"]:
            return "PITR ON", f"Point-in-time recovery is already on for {table}; no change."
        if fields["changed"]:
            return "PITR ON", f"Turned point-in-time recovery on for {table}."
        return "DRY RUN", (
            f"DRY RUN: point-in-time recovery is off for {table}; a confirmed run turns it "
            f"on (-p dry_run False -p confirm {table}). Nothing was changed."
        )
    dest = fields.get("new_table") or table  # a native or pitr restore writes a NEW table
    if fields.get("restored"):
        verdict, text = "RESTORED", f"Restored ({kind}) into {dest}."
    elif fields.get("dry_run"):
        verdict = "DRY RUN"
        text = (
            f"DRY RUN: a {kind} restore into {dest}; nothing was written. To write, re-run "
            f"with -p dry_run False -p confirm {dest}."
        )
    else:
        verdict, text = "NOT RESTORED", f"Nothing was restored ({kind} into {dest})."
    text = fields["message"] if isinstance(fields.get("message"), str) else text
    return verdict, text + (f"\nNext: {fields['next_step']}" if fields.get("next_step") else "")


def _listing_verdict(fields: Mapping[str, Any]) -> tuple[str, str]:
    table = fields.get("table")
    counts = {k: len(fields.get(k) or []) for k in ("item_backups", "table_exports")}
    found = f"{counts['item_backups']} item backup(s), {counts['table_exports']} table export(s)"
    if "aws_error" in fields:
        return "NOT FULLY LISTED", (
            f"{table}: {found}; native backups and PITR could not be read: {fields['aws_error']}"
        )
    if not _needs_attention(fields):
        pitr = "on" if (fields.get("pitr") or {}).get("enabled") else "off"
        native = len(fields.get("native_backups") or [])
        return "LISTED", f"{table}: {found}, {native} native backup(s); PITR {pitr}."
    return "NO BACKUP", f"No backup of {table}: no item backup, export or native backup."


def _fields(result: Result | Mapping[str, Any]) -> Mapping[str, Any]:
    return result.fields if isinstance(result, Result) else result


LIST_COLUMNS = ["kind", "when", "what", "count/items", "note"]


def to_frame(result: Result | Mapping[str, Any]) -> Any:
    """A DataFrame to show in the notebook: one row per backup for a listing, the result's
    fields as rows otherwise."""
    import pandas as pd

    result = _fields(result)
    if result.get("action") == "list":
        return pd.DataFrame(_listing_rows(result), columns=LIST_COLUMNS)
    shown = {k: v for k, v in result.items() if v not in (None, "")}
    frame = pd.DataFrame({"value": [str(v) for v in shown.values()]}, index=list(shown))
    frame.index.name = "field"
    return frame


def _listing_rows(result: Mapping[str, Any]) -> list[tuple[Any, ...]]:
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


def view(result: Result | Mapping[str, Any]) -> Any:
    """to_frame(result) styled for the notebook: paths and ARNs shown in full (a plain
    DataFrame cuts cells at 50 characters, and operators copy these into the next run)."""
    result = _fields(result)
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
