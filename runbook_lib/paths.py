"""Where the project's folders are: found, never hard-coded.

RUNBOOK_HOME wins; otherwise the nearest folder above the working directory that holds
both `notebooks/` and `terraform/` (a checkout); otherwise the working directory.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path


def project_root(start: Path | None = None) -> Path:
    env = os.environ.get("RUNBOOK_HOME")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "terraform").is_dir():
            return folder
    pkg_parent = Path(__file__).resolve().parent.parent
    if (pkg_parent / "notebooks").is_dir():
        return pkg_parent
    return here


def state_dir() -> Path:
    """Runbook's private working files (sandbox pid/env, generated Terraform config)."""
    path = Path(os.environ.get("RUNBOOK_STATE_DIR") or project_root() / ".runbook")
    path.mkdir(parents=True, exist_ok=True)
    return path


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def terraform_dir() -> Path:
    return project_root() / "terraform"


def reports_dir() -> Path:
    return Path(os.environ.get("RUNBOOK_REPORTS") or project_root() / "reports")


def backups_dir() -> Path:
    """Item and table backups, and the audit log, live here unless told otherwise."""
    return Path(os.environ.get("RUNBOOK_BACKUPS") or project_root() / "backups")


def reserve_run_dir(root: Path, name: str) -> tuple[Path, list[Path]]:
    """Create root/name, or name-2, name-3... when a run in the same second has it (a run
    takes under a second). Created now, atomically, because the kernel is told where it is
    before it starts. Returns the folder and every folder made, deepest first, so a refused
    run can take them away again."""
    made = [p for p in (root, *root.parents) if not p.exists()]
    root.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        run_dir = root / (name if n == 1 else f"{name}-{n}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        return run_dir, [run_dir, *made]
    raise AssertionError("unreachable")


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove folders this run made, if still empty (deepest first)."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()
