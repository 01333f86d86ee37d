"""What a set leaves for people: the commands to copy (apply, undo) and the audit log.

`setcount` makes the write; this module spells out the exact `runbook`/`aws` lines a dry run,
a refusal or an applied set prints, and keeps the append-only audit log (`audit.jsonl`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import uuid
from pathlib import Path
from typing import Any

from runbook_lib import __version__, paths
from runbook_lib.model import Target

AUDIT_FILE = "audit.jsonl"
RESTORE_NOTEBOOK = "04_backup_restore"
SET_NOTEBOOK = "03_set_count"
GUIDE_KEY = ("stat", "Quantity", "viewCount")  # key name, key value, count attribute

NO_REASON = "(no reason given)"


def set_command(
    target: Target,
    new_value: int,
    *,
    expected_current: int | None = None,
    allow_decrease: bool = False,
    reason: str = "",
    count_type: str = "",
) -> str:
    """The exact `runbook run 03_set_count` line of a confirmed set: what a refusal or a
    dry run hands the user to copy. The key is spelled out unless it is the guide's;
    `count_type` ("S" for a string count) is passed on when given."""
    argv = ["runbook", "run", SET_NOTEBOOK, "-p", "table_name", target.table]
    named = (target.key_name, target.key_value, target.count_attribute)
    if named != GUIDE_KEY:
        argv += ["-p", "key_name", target.key_name, "-p", "key_value", str(target.key_value)]
        argv += ["-p", "count_attribute", target.count_attribute]
    if getattr(target, "range_key_name", None):
        argv += ["-p", "range_key_value", str(target.range_key_value)]
    argv += ["-p", "new_value", str(new_value)]
    if expected_current is not None:
        argv += ["-p", "expected_current", str(expected_current)]
    if allow_decrease:
        argv += ["-p", "allow_decrease", "True"]
    if count_type:
        argv += ["-p", "count_type", count_type]
    argv += ["-p", "dry_run", "False", "-p", "confirm", target.table]
    reason = reason if reason and reason != NO_REASON else "<why>"
    return shlex.join([*argv, "-p", "reason", reason])


def undo_commands(target: Target, backup_path: str | Path, *, lowers: bool) -> tuple[str, str]:
    """(AWS CLI line, runbook line) that put the backed-up item back.

    The CLI line is the guide's put-item: unconditional, the whole item. The runbook line
    restores through the conditional path; `lowers` adds allow_decrease for undoing an
    increase.
    """
    path = str(Path(backup_path).resolve())
    cli = [
        "aws",
        "dynamodb",
        "put-item",
        "--table-name",
        target.table,
        "--item",
        f"file://{path}",
        "--region",
        target.region,
    ]
    if target.endpoint:
        cli += ["--endpoint-url", target.endpoint]
    runbook = ["runbook", "run", RESTORE_NOTEBOOK, "-p", "action", "restore"]
    runbook += ["-p", "backup_path", path, "-p", "table_name", target.table]
    if lowers:
        runbook += ["-p", "allow_decrease", "True"]
    runbook += ["-p", "dry_run", "False", "-p", "confirm", target.table]
    return shlex.join(cli), shlex.join(runbook)


def audit_record(
    target: Target,
    *,
    actor: str,
    old: int | None,
    new: int,
    expected_current: int | None,
    reason: str,
    backup_path: str,
    undo_command: str,
    when: dt.datetime,
    count_type: str = "N",
) -> dict[str, Any]:
    return {
        # an id to name the record by: 02/06/07 cite it when they report a reset's repair
        "id": uuid.uuid4().hex[:12],
        "time": when.isoformat(),
        "action": "set_count",
        "actor": actor,
        "table": target.table,
        "key": {target.key_name: target.key_value},
        "count_attribute": target.count_attribute,
        "count_type": count_type,  # as written: S for a string count
        "old": old,
        "new": new,
        "expected_current": expected_current,
        "reason": reason,
        "backup_path": backup_path,
        "undo_command": undo_command,
        "dry_run": False,
        "target": target.endpoint or "aws",
        "region": target.region,
        "tool_version": __version__,
    }


def append_audit(path: str | Path, record: dict[str, Any]) -> Path:
    """Append one JSON line durably: O_APPEND, one write, fsync."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_audit(path: str | Path | None = None, *, skip_bad: bool = False) -> list[dict[str, Any]]:
    """Every record in the audit log (oldest first); [] when there is none yet.

    `skip_bad`: leave out lines that are not a JSON object (a line added by hand, a write cut
    short) instead of raising; for readers that only look for evidence (the reset detector),
    where one bad line must not hide the others or fail a status check."""
    path = Path(path) if path else paths.backups_dir() / AUDIT_FILE
    if not path.exists():
        return []
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if not skip_bad:
        return [json.loads(line) for line in lines]
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
