"""Where the project's folders are: found, never hard-coded.

RUNBOOK_HOME wins; otherwise the nearest folder above the working directory that holds
both `notebooks/` and `terraform/` (a checkout); otherwise the working directory.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path

from runbook_lib.errors import RunbookError


class UnwritableFolderError(RunbookError):
    """A report or backup folder could not be written while the run was under way (a
    folder known to be unwritable beforehand is refused before anything runs). The
    message names the folder and the fix; whatever was written stays where it is."""


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


def stack_folder(terraform_dir: str | Path) -> Path:
    """Where a `terraform_dir` parameter points: as given (`~` expanded) when that is a
    folder or an absolute path, else under the project root, as a notebook (whose working
    folder is the project) reads it. Not checked, not resolved."""
    path = Path(terraform_dir).expanduser()
    if not path.is_absolute() and not path.is_dir():
        path = project_root() / path
    return path


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
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        remove_empty_folders(made)  # the parents made before it failed
        raise
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


def unwritable(folder: Path) -> str | None:
    """Why files cannot be written in `folder` (made if missing), or None when they can.

    Looks without writing anything, so a refused run leaves nothing behind: a part of the
    path that is a file, or the nearest existing folder not writable by this process
    (os.access, which also says so for a read-only file system, where root is stopped too).
    Paths in the answer are spelt as `folder` was (relative stays relative).
    """
    for part in (folder, *folder.parents):
        if not part.exists():
            continue
        name = "the working directory" if str(part) == "." else str(part)
        if not part.is_dir():
            if part == folder:
                return f"{folder} is a file, not a folder"
            return f"{name} is a file, so no folder can be made under it"
        if os.access(part, os.W_OK | os.X_OK):
            return None
        if part == folder:
            return f"{folder} is not writable (its permissions, or a read-only file system)"
        return f"{folder} would be made in {name}, which is not writable"
    return None  # nothing of it exists, not even its root: mkdir will say why


def shown(path: Path) -> str:
    """A path for a message: as given when relative, relative to the working directory
    when under it (a log names no machine path it does not need), else as it is."""
    if not path.is_absolute():
        return str(path)
    with contextlib.suppress(ValueError, OSError):
        return str(path.relative_to(Path.cwd())) or "."
    return str(path)
