"""05_migrate's change, planned as text (pure when given the files' texts): what each
strategy does to the configuration, and the `removed` equivalent its proof plans.

- `removed` (default): the resource block becomes
  `removed { from = ADDR  lifecycle { destroy = false } }` (Terraform >= 1.7);
- `state_rm`: the block goes (after `terraform state rm`); its proof plans the `removed`
  equivalent, before the state is touched;
- `ignore_changes`: `lifecycle { ignore_changes = [item] }` is added.

A block in a local child module is deleted from the module's file and its `removed` block
goes in the root module, the only place Terraform reads one from. Every edited file is
re-read by python-hcl2 before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from runbook_lib.errors import InvalidInputError, TerraformError
from runbook_lib.tf import refedit, references
from runbook_lib.tf.hclconfig import tf_files
from runbook_lib.tf.hcledit import (
    ITEM_TYPE,
    add_ignore_changes,
    parse_hcl,
    relative_path,
    remove_resource,
    removed_block,
    replace_with_removed,
    resource_blocks,
    unified_diff,
)
from runbook_lib.tf.stackconfig import protected
from runbook_lib.tf.stackmodel import Finding

STRATEGIES = ("removed", "state_rm", "ignore_changes")


@dataclass(frozen=True)
class Change:
    """What a strategy does to the files (pure data: nothing written yet)."""

    strategy: str
    resources: tuple[str, ...]  # block addresses handled
    files: dict[str, str]  # path -> new text, changed files only
    originals: dict[str, str]  # path -> text before
    diff: str
    proof_files: dict[str, str]  # what `prove` plans (state_rm: the removed equivalent)
    state_rm: tuple[str, ...] = ()  # addresses for `terraform state rm`
    notes: tuple[str, ...] = ()


def plan_change(
    findings: Sequence[Finding],
    strategy: str,
    sources: Mapping[str, str] | None = None,
    *,
    root: str | Path | None = None,
) -> Change:
    """The new text of every file the strategy touches, and the unified diff (pure when
    `sources` {path: text} is given; otherwise the files named by the findings are read).

    One edit per resource block (count/for_each instances share theirs). A block in a local
    child module is deleted from the module's file and its `removed` block goes in the root
    module, the only place Terraform reads one from; a state-only leftover gets a `removed`
    block in the root module too.
    """
    _check_strategy(strategy)
    resources = _acting_resources(findings, strategy)
    folder = Path(root) if root else None
    edit = _Edit(dict(sources or {}), strategy, _root_file(findings, root, sources or {}))
    if strategy != "ignore_changes":  # the block goes: so must what reads it
        _remove_references(edit, list(resources.values()), folder)
    for resource, f in sorted(resources.items()):
        edit.apply(resource, f, relative_path(f.file, folder) if folder and f.file else f.file)
    _verify_edit(edit.new, strategy, resources)
    _verify_edit(edit.proof, "removed" if strategy == "state_rm" else strategy, resources)
    if strategy != "ignore_changes":
        _verify_no_references(edit, list(resources.values()), folder)
    state_rm = tuple(sorted(resources)) if strategy == "state_rm" else ()
    originals = edit.originals
    return Change(
        strategy=strategy,
        resources=tuple(sorted(resources)),
        files=edit.new,
        originals={p: originals[p] for p in edit.new},
        diff=unified_diff(originals, edit.new, _diff_root(folder, edit.new)),
        proof_files={p: t for p, t in edit.proof.items() if t != originals.get(p)},
        state_rm=state_rm,
        notes=tuple(edit.notes),
    )


def _check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise InvalidInputError(
            f"Unknown strategy {strategy!r}. Valid: {', '.join(STRATEGIES)}.",
            hint="pass -p strategy removed (the default), state_rm or ignore_changes.",
        )


def _acting_resources(findings: Sequence[Finding], strategy: str) -> dict[str, Finding]:
    """The resource blocks the strategy changes; a module that cannot be edited stops it."""
    resources: dict[str, Finding] = {}
    for f in findings:
        if not f.module_local:
            raise InvalidInputError(
                f"{f.address} is declared in {f.module}, whose source {f.module_source!r} is "
                "not a local folder, so 05_migrate cannot edit it; `terraform state rm` alone "
                "would not help: the module still declares the item, and the next apply "
                "would create it again over the live count.",
                hint=f"copy the module into the stack (e.g. ./modules/{f.module.split('.')[-1]}), "
                "point its source there, `terraform init`, then run 05_migrate again.",
            )
        if strategy == "ignore_changes" and f.protected:
            continue
        if strategy == "ignore_changes" and not f.in_config:
            raise InvalidInputError(
                f"{f.resource} is in the state but its block is gone from the configuration: "
                "there is no block to add a lifecycle rule to, and the next apply DELETES "
                "the item.",
                hint="run with strategy removed (or state_rm).",
            )
        resources.setdefault(f.resource, f)
    return resources


class _Edit:
    """The files a strategy writes (`new`) and the configuration its proof plans
    (`proof`: for state_rm, the `removed` equivalent), built one resource at a time."""

    def __init__(self, texts: dict[str, str], strategy: str, root_file: str | None) -> None:
        self.texts, self.strategy, self.root_file = texts, strategy, root_file
        self.originals: dict[str, str] = {}
        self.new: dict[str, str] = {}
        self.proof: dict[str, str] = {}
        self.notes: list[str] = []

    def key(self, path: str) -> str:
        """The name this edit already knows the file by (one file, one entry)."""
        if path in self.texts:
            return path
        resolved = Path(path).resolve()
        return next((k for k in self.texts if Path(k).resolve() == resolved), path)

    def text(self, path: str, mine: dict[str, str]) -> str:
        path = self.key(path)
        if path not in self.texts:
            self.texts[path] = Path(path).read_text()
        self.originals.setdefault(path, self.texts[path])
        return mine.get(path, self.texts[path])

    def apply(self, resource: str, f: Finding, where: str | None) -> None:
        name, kind = f.name, self.strategy
        file = self.key(f.file) if f.file else ""
        where = where if where is not None else "the file"  # a state-only finding has none
        if f.module and f.in_config and kind == "ignore_changes":  # protected where it is
            self.new[file] = add_ignore_changes(self.text(file, self.new), name, where)
            self.proof[file] = self.new[file]
        elif not f.in_config or f.module:
            if f.in_config:  # a block in a local child module: it goes from the module
                how = "a `removed` block in the root module" if kind == "removed" else None
                how = how or "terraform state rm"
                self.new[file] = remove_resource(self.text(file, self.new), name, where, how)
                self.proof[file] = remove_resource(self.text(file, self.proof), name, where, how)
            else:
                self.notes.append(
                    f"{resource}: state only (its block was deleted); the apply would delete it"
                )
            self._removed_in_root(resource, keep=kind == "removed")
        elif kind == "removed":
            self.new[file] = replace_with_removed(self.text(file, self.new), name, where)
            self.proof[file] = self.new[file]
        elif kind == "state_rm":
            self.new[file] = remove_resource(self.text(file, self.new), name, where)
            self.proof[file] = replace_with_removed(self.text(file, self.proof), name, where)
        else:
            self.new[file] = add_ignore_changes(self.text(file, self.new), name, where)
            self.proof[file] = self.new[file]

    def _removed_in_root(self, resource: str, *, keep: bool) -> None:
        path = self.key(self.root_file) if self.root_file else None
        if path is None:
            raise InvalidInputError(
                f"No *.tf file in the root module to add `removed` for {resource} to."
            )
        block = "\n\n" + removed_block(resource) + "\n"
        self.proof[path] = self.text(path, self.proof).rstrip("\n") + block
        if keep:
            self.new[path] = self.text(path, self.new).rstrip("\n") + block


def _remove_references(edit: _Edit, findings: list[Finding], root: Path | None) -> None:
    """Outputs, locals and depends_on entries that read the items go first (both in the
    files written and in the proof); a reference that cannot go stops here, exit 3."""

    def read(path: str) -> str:
        return edit.text(path, {})

    plan = references.find(findings, root, read, list(edit.texts))
    references.refuse(plan, root)
    for path, text in refedit.apply(plan, read).items():
        edit.new[edit.key(path)] = edit.proof[edit.key(path)] = text
    edit.notes += references.notes(plan, root)


def _verify_no_references(edit: _Edit, findings: list[Finding], root: Path | None) -> None:
    """python-hcl2 re-reads the edited configuration: nothing may read the items any more."""
    for files in (edit.new, edit.proof):
        plan = references.find(findings, root, partial(edit.text, mine=files), list(edit.texts))
        if plan.uses:
            left = "; ".join(references.notes(plan, root))
            raise TerraformError(f"The edit left references to the item ({left}); nothing written.")


def _diff_root(root: Path | None, files: Mapping[str, str]) -> Path:
    """The folder the diff's paths are relative to: the root module's, or the common
    ancestor with a module file outside it (`modules/db/main.tf`, `envs/dev/main.tf`)."""
    paths = [str(Path(p).resolve()) for p in files] + ([str(root.resolve())] if root else [])
    common = Path(os.path.commonpath(paths or ["."]))
    return common if root is not None or common.is_dir() or len(files) > 1 else common.parent


def _root_file(
    findings: Sequence[Finding], root: str | Path | None, sources: Mapping[str, str]
) -> str | None:
    """Where `removed` blocks for module items and state-only leftovers go: beside a root
    finding's block, else main.tf, else the first *.tf file of the root module."""
    files = [f.file for f in findings if f.file and not f.module]
    if files:
        return files[0]
    if root is None:
        return None
    folder = Path(root)
    known = sorted(
        {*(p for p in sources if Path(p).parent == folder), *(str(p) for p in tf_files(folder))}
    )
    main = str(folder / "main.tf")
    if main in known:
        return main
    return next((p for p in known if p.endswith(".tf")), None)


def _verify_edit(files: Mapping[str, str], strategy: str, resources: Mapping[str, Finding]) -> None:
    """python-hcl2 re-reads every edited file: it parses, and says what the strategy meant."""
    docs = {str(Path(path).resolve()): parse_hcl(text, path) for path, text in files.items()}
    removed = {
        str(b.get("from", "")).strip("${}") for doc in docs.values() for b in doc.get("removed", [])
    }
    for resource, f in resources.items():
        doc = docs.get(str(Path(f.file).resolve())) if f.file else None
        items = resource_blocks(doc, ITEM_TYPE) if doc is not None else {}
        if strategy == "ignore_changes":
            if f.name not in items or not protected(items[f.name]):
                raise TerraformError(
                    f"Editing {f.file} did not protect {resource}; nothing written."
                )
            continue
        if f.in_config and (doc is None or f.name in items):
            raise TerraformError(f"Editing {f.file} left {resource} in place; nothing written.")
        if strategy == "removed" and resource not in removed:
            raise TerraformError(
                f"The edit wrote no removed block for {resource}; nothing written."
            )
