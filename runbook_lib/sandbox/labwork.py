"""The lab's working folder: fresh copies of the notebooks that a user may edit and save.

`notebooks/` holds templates whose saved defaults are the safe ones (`runbook run` refuses a
template saved otherwise). JupyterLab saves what is typed into a parameters cell (autosave),
so the lab never serves `notebooks/`: it serves `.runbook/lab/work/`, laid out like the
checkout (`notebooks/`, `README.md`) so the notebooks' relative links still work. Each
`make lab` starts from fresh copies; the copies a session changed are kept under
`.runbook/lab/earlier/<UTC time>/`, since an incident's notes may be in them.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runbook_lib import paths

NOTE = (
    "> **Working copy** in `.runbook/lab/work/` (not in git): edit, run and save it freely. "
    "The template in `notebooks/` is never changed; the next `make lab` starts from a fresh "
    "copy and keeps this one under `.runbook/lab/earlier/`.\n\n"
)
KEEP_EARLIER = 10  # sessions of changed copies kept; older ones go


def lab_dir() -> Path:
    return paths.state_dir() / "lab"


def work_dir() -> Path:
    return lab_dir() / "work"


def working_copy(template: Path) -> dict[str, Any]:
    """The template with the working-copy note opening its first markdown cell."""
    nb = json.loads(template.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            cell["source"] = (NOTE + text).splitlines(keepends=True)
            break
    return nb


def _text(nb: dict[str, Any]) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def _templates() -> list[Path]:
    return sorted(paths.notebooks_dir().glob("*.ipynb"))


def _changed(work: Path) -> list[str]:
    """The copies in work that differ from a fresh copy (edited, run or saved)."""
    changed = []
    fresh = {t.name: _text(working_copy(t)) for t in _templates()}
    for path in sorted((work / "notebooks").glob("*.ipynb")):
        if fresh.get(path.name) != path.read_text(encoding="utf-8"):
            changed.append(path.name)
    return changed


def prepare(log: Callable[[str], None] = print) -> Path:
    """Lay out fresh copies in work_dir(); keep a changed earlier session's. Returns it."""
    work = work_dir()
    changed = _changed(work) if work.is_dir() else []
    if changed:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        kept = lab_dir() / "earlier" / stamp
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(work), str(kept))
        log(f"Last session's changed copies ({', '.join(changed)}): .runbook/lab/earlier/{stamp}/")
        _forget_oldest(kept.parent)
    elif work.is_dir():
        shutil.rmtree(work)
    (work / "notebooks").mkdir(parents=True)
    for template in _templates():
        (work / "notebooks" / template.name).write_text(
            _text(working_copy(template)), encoding="utf-8"
        )
    readme = paths.project_root() / "README.md"
    if readme.is_file():  # the onboarding links ../README.md
        shutil.copy2(readme, work / "README.md")
    return work


def _forget_oldest(folder: Path) -> None:
    sessions = sorted(p for p in folder.iterdir() if p.is_dir())
    for old in sessions[:-KEEP_EARLIER]:
        shutil.rmtree(old, ignore_errors=True)
