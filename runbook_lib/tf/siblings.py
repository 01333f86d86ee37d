"""Other stacks that call a module a migration edits.

A stack run from `environments/dev` may share `../../modules/dynamodb` with
`environments/prod`. Deleting the item's block from that module file, with a `removed`
block only in the root that was run, makes every other caller's next `terraform apply`
DELETE its own counter item ("not in configuration"). So before any edit of a module file,
the folders around the stack are searched for other callers of that module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from runbook_lib.errors import StackMismatchError, TerraformError
from runbook_lib.tf.hcledit import parse_hcl, relative_path
from runbook_lib.tf.shadowcopy import plan_layout
from runbook_lib.tf.stackconfig import is_local_source
from runbook_lib.tf.stackmodel import Finding

_SKIP = {".terraform", ".git", ".runbook", "node_modules", "__pycache__"}


@dataclass(frozen=True)
class Caller:
    """A `module` block, outside the stack that was run, whose source is an edited module."""

    file: Path
    line: int | None
    name: str
    module: Path  # the called module folder (resolved)


def other_callers(root: Path, modules: Iterable[Path]) -> list[Caller]:
    """Module calls of `modules` (folders) from folders that are neither `root` nor a module
    it reaches, anywhere under the common folder of the stack and its modules (pure reads)."""
    layout = plan_layout(root)
    wanted = {Path(m).resolve() for m in modules}
    ours = {layout.root, *layout.modules}
    found: list[Caller] = []
    for path in _tf_files(layout.base):
        if path.parent.resolve() in ours:
            continue
        found += _calls(path, wanted)
    return found


def _tf_files(base: Path) -> Iterable[Path]:
    for path in sorted(base.rglob("*.tf")):
        if not _SKIP.intersection(path.relative_to(base).parts):
            yield path


def _calls(path: Path, wanted: set[Path]) -> list[Caller]:
    try:
        doc = parse_hcl(path.read_text(), str(path))
    except (TerraformError, OSError, UnicodeDecodeError):
        return []  # a file Terraform would not read either
    out = []
    for block in doc.get("module", []):
        for name, body in block.items():
            source = body.get("source")
            if not is_local_source(source):
                continue
            target = (path.parent / str(source)).resolve()
            if target in wanted:
                out.append(Caller(path, body.get("__start_line__"), name, target))
    return out


def shared_module_callers(root: Path, acting: Sequence[Finding]) -> list[Caller]:
    """The other stacks' calls of a module file this migration would edit."""
    edited = {Path(f.file).parent for f in acting if f.module and f.in_config and f.file}
    return other_callers(root, edited)


def where_called(callers: Sequence[Caller], root: Path) -> str:
    return "; ".join(
        f"{relative_path(str(c.file), root)}:{c.line} (module {c.name!r})" for c in callers
    )


def refuse_shared_modules(root: Path, acting: Sequence[Finding]) -> None:
    """A module file this migration would take an item out of, called by another stack too
    (environments/prod beside environments/dev): that stack's next apply would DELETE its
    counter item. Stop before anything is written; `ignore_changes` protects every caller."""
    callers = shared_module_callers(root, acting)
    if not callers:
        return
    raise StackMismatchError(
        f"The module this migration edits is called by another stack too: "
        f"{where_called(callers, root)}. Taking "
        "the item's block out of the shared module file would make that stack's next "
        "`terraform apply` DELETE its own counter item. Nothing was written.",
        hint=f"protect every stack that calls it at once: runbook run 05_migrate -p "
        f"terraform_dir {root} -p strategy ignore_changes (dry run first), or give each "
        "stack its own copy of the module, then migrate each.",
    )
