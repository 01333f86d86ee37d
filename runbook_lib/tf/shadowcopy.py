"""The layout of a shadow copy: the user's root folder and every local module folder its
configuration reaches, at the same relative positions.

A stack run from `environments/dev/` that calls `source = "../../modules/dynamodb"` needs
`../../modules/dynamodb` beside its copy, or `terraform init` fails with "Unreadable module
directory". The copy anchors at the common ancestor of the root and every module folder
reached (modules calling modules included), and holds only those folders: never the whole
tree above them. Terraform then runs in the copy of the root, below the shadow's top.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from runbook_lib.errors import TerraformError
from runbook_lib.tf.hcledit import parse_hcl
from runbook_lib.tf.stackconfig import is_local_source

Skip = Callable[[str], bool]


def reached_modules(root: Path) -> tuple[Path, ...]:
    """Every local module folder (resolved) the configuration in `root` reaches, the
    modules' own calls followed; a folder that is missing or does not parse is Terraform's
    to report, and a module calling itself is read once."""
    root = root.resolve()
    seen: set[Path] = {root}
    todo = [root]
    while todo:
        folder = todo.pop()
        for source in _local_sources(folder):
            child = (folder / source).resolve()
            if child.is_dir() and child not in seen:
                seen.add(child)
                todo.append(child)
    return tuple(sorted(seen - {root}))


def _local_sources(folder: Path) -> Iterable[str]:
    for path in sorted(folder.glob("*.tf")):
        try:
            doc = parse_hcl(path.read_text(), str(path))
        except (TerraformError, OSError):
            continue
        for block in doc.get("module", []):
            for body in block.values():
                if is_local_source(body.get("source")):
                    yield str(body["source"])


@dataclass(frozen=True)
class Layout:
    """The user's `root` and the module folders it reaches (`modules`, resolved), mirrored
    under a shadow's top folder at their positions relative to `base`."""

    root: Path
    modules: tuple[Path, ...] = ()

    @property
    def base(self) -> Path:
        """The common ancestor of the root and every module folder (the root itself when
        all modules lie inside it)."""
        return Path(os.path.commonpath([self.root, *self.modules]))

    @property
    def root_rel(self) -> Path:
        """Where the root's copy is below the shadow's top ("." when it is the top)."""
        return self.root.relative_to(self.base)

    @property
    def trees(self) -> list[Path]:
        """The folders to copy, each whole: the root and every module folder, less those
        inside another one (pure)."""
        out: list[Path] = []
        for folder in sorted({self.root, *self.modules}, key=lambda p: (len(p.parts), p)):
            if not any(folder == t or t in folder.parents for t in out):
                out.append(folder)
        return sorted(out)

    @property
    def config_dirs(self) -> tuple[Path, ...]:
        """The folders Terraform reads as modules: the root first."""
        return (self.root, *self.modules)

    def shadow_path(self, top: Path, path: Path) -> Path:
        """Where the user's `path` (a copied folder or a file in one) is in the shadow whose
        top is `top`; a path outside every copied folder is refused."""
        path = path.resolve()
        if not any(path == t or t in path.parents for t in self.trees):
            raise TerraformError(
                f"{path} is in neither {self.root} nor a module folder it calls: the "
                "runbook's private copy of the stack has no place for it."
            )
        return top / path.relative_to(self.base)


def plan_layout(root: Path) -> Layout:
    """The layout of the stack in `root` as its files say now."""
    return Layout(root.resolve(), reached_modules(root))


def top_of(workdir: Path, layout: Layout) -> Path:
    """The shadow's top folder, given where the copy of the root is."""
    top = workdir
    for _ in layout.root_rel.parts:
        top = top.parent
    return top


def clear(folder: Path, keep: Iterable[Path]) -> None:
    """Everything under `folder` removed but the `keep` paths (and the folders that lead to
    them): the copy is made afresh, Terraform's `.terraform` and a kept state stay."""
    kept = set(keep)
    for entry in folder.iterdir():
        if entry in kept:
            continue
        if entry.is_dir() and not entry.is_symlink():
            if any(entry in k.parents for k in kept):
                clear(entry, kept)
            else:
                shutil.rmtree(entry)
        else:
            entry.unlink()


def copy_tree(source: Path, dest: Path, skipped: Skip) -> None:
    """`source`'s files and folders into `dest`, those `skipped` names left out at every
    level. A link in `source` itself is followed (a shared `providers.tf` linked in from
    elsewhere must be there); deeper ones are copied as links."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        if skipped(entry.name):
            continue
        if entry.is_dir():
            shutil.copytree(
                entry,
                dest / entry.name,
                symlinks=True,
                dirs_exist_ok=True,
                ignore=lambda _dir, names: [n for n in names if skipped(n)],
            )
        elif entry.is_file():
            shutil.copyfile(entry, dest / entry.name)
