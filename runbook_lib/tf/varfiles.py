"""The `var_files` parameter: the `.tfvars` files a stack's author passes with `-var-file`.

One reading of it for the stack reader, the shadow workspace and every Terraform command,
so the runbook's view of the stack and Terraform's own agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from runbook_lib.errors import InvalidInputError

VarFiles = tuple[Path, ...]


def parse_var_files(value: str | Sequence[str] | None, folder: Path | None) -> VarFiles:
    """`"a.tfvars,b.tfvars"` (or a list) as absolute paths, in the order given (Terraform's
    precedence: later files win). A relative name is looked up in the stack's folder first,
    then in the current directory; a file that is not there is refused, naming it."""
    if value in (None, ""):
        return ()
    names = value.split(",") if isinstance(value, str) else list(value or [])
    out: list[Path] = []
    for raw in (str(n).strip() for n in names):
        if not raw:
            continue
        path = _locate(Path(raw).expanduser(), folder)
        if path is None:
            where = f" (looked in {folder.name}/ and the current folder)" if folder else ""
            raise InvalidInputError(
                f"var_files: {raw!r} is not a file{where}.",
                hint="pass the .tfvars files you give terraform with -var-file, comma-separated "
                "(-p var_files dev.tfvars,secrets.tfvars), relative to terraform_dir.",
            )
        out.append(path)
    return tuple(out)


def _locate(path: Path, folder: Path | None) -> Path | None:
    candidates = [path] if path.is_absolute() else [*([folder / path] if folder else []), path]
    return next((c.resolve() for c in candidates if c.is_file()), None)


def var_file_args(files: VarFiles) -> list[str]:
    """`-var-file=PATH` arguments for plan, apply, import, refresh and console."""
    return [f"-var-file={p}" for p in files]
