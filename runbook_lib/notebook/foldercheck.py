"""Where a run writes files, checked before a kernel starts: the report folder, and the
backups folder of a confirmed write.

A folder that cannot be written (a file in its place, a path under a file, no permission,
a read-only file system) would otherwise end in a traceback after the run, or in the
middle of a write. Known up front, it is bad usage: one line naming the path as given and
the fix, exit 2, nothing written. Imports stay light (no boto3): this runs on every
`runbook run`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError

# Notebooks whose confirmed run (dry_run False) backs the item up before it writes.
CONFIRMED_BACKUPS = ("03_set_count", "04_backup_restore", "05_migrate", "07_recover")
_FALSE = {"false", "0", "no", "n", "off"}  # paramcheck's words for False


def report_root(out: str | Path | None, remote: bool) -> tuple[Path, str]:
    """(the local folder the report folder goes in, what set it: --out, RUNBOOK_REPORTS or
    the project's default). An s3:// run writes its report locally first."""
    if out is not None and not remote:
        return Path(out), "--out"
    if os.environ.get("RUNBOOK_REPORTS"):
        return paths.reports_dir(), "RUNBOOK_REPORTS"
    return paths.reports_dir(), "default"


def reports_refused(root: Path, source: str, reason: str) -> InvalidInputError:
    """The one line for a report folder that cannot be written."""
    fixes = {
        "--out": "pass --out a folder you can write to (it is made if missing), or "
        "s3://bucket/prefix.",
        "RUNBOOK_REPORTS": "point RUNBOOK_REPORTS at a folder you can write to, or pass --out DIR.",
        "default": "make the project's reports/ folder writable, or pass --out DIR (or set "
        "RUNBOOK_REPORTS).",
    }
    named = _named(root, source, "RUNBOOK_REPORTS")
    return InvalidInputError(
        f"Cannot write the report to {named}: {reason}. Nothing ran.", hint=fixes[source]
    )


def check_reports(root: Path, source: str) -> None:
    """Refuse (exit 2) a report folder that cannot be written, before anything runs."""
    reason = paths.unwritable(Path(_spelt(root, source, "RUNBOOK_REPORTS")))
    if reason:
        raise reports_refused(root, source, reason)


def check_backups(notebook: str, params: dict[str, Any]) -> None:
    """A confirmed write backs the item up first (04's backups write files too): refuse
    (exit 2) a backups folder that cannot be written before anything runs, rather than
    fail in the middle of the run."""
    if not _writes_backups(notebook, params):
        return
    root = paths.backups_dir()
    source = "RUNBOOK_BACKUPS" if os.environ.get("RUNBOOK_BACKUPS") else "default"
    reason = paths.unwritable(Path(_spelt(root, source, "RUNBOOK_BACKUPS")))
    if not reason:
        return
    fix = (
        "point RUNBOOK_BACKUPS at a folder you can write to (storage that outlives this "
        "machine), or run without -p dry_run False to see what it would do."
        if source == "RUNBOOK_BACKUPS"
        else "make the project's backups/ folder writable, or set RUNBOOK_BACKUPS to a "
        "folder you can write to."
    )
    raise InvalidInputError(
        f"Cannot write the item backup {notebook} takes before it writes, to "
        f"{_named(root, source, 'RUNBOOK_BACKUPS')}: {reason}. Nothing ran.",
        hint=fix,
    )


def _writes_backups(notebook: str, params: dict[str, Any]) -> bool:
    if notebook not in CONFIRMED_BACKUPS:
        return False
    dry_run = params.get("dry_run", True)
    confirmed = dry_run is False or str(dry_run).strip().lower() in _FALSE
    # 04's item and table backups are files whatever dry_run says (native, pitr: in AWS)
    backup_04 = notebook == "04_backup_restore" and str(params.get("action", "")) == "backup"
    return confirmed or (backup_04 and str(params.get("kind", "")) in ("", "item", "table"))


def _spelt(root: Path, source: str, variable: str) -> str:
    """The folder as the user spelt it: the option's or the variable's value, or the
    default relative to the working directory where it can be."""
    if source == variable:
        return os.environ.get(variable, str(root))
    return str(root) if source == "--out" else paths.shown(root)


def _named(root: Path, source: str, variable: str) -> str:
    spelt = _spelt(root, source, variable)
    return f"{spelt} ({variable})" if source == variable else spelt
