"""Where the project's folders are: found, never hard-coded.

RUNBOOK_HOME wins; otherwise the nearest folder above the working directory that holds
both `notebooks/` and `terraform/` (a checkout); otherwise the working directory.
"""

from __future__ import annotations

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
