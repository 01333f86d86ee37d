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
from pathlib import Path

from runbook_lib.errors import InvalidInputError, TerraformError
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
    edit = _Edit(dict(sources or {}), strategy, _root_file(findings, root, sources or {}))
    for resource, f in sorted(resources.items()):
        edit.apply(resource, f, relative_path(f.file, Path(root)) if root and f.file else f.file)
    _verify_edit(edit.new, strategy, resources)
    _verify_edit(edit.proof, "removed" if strategy == "state_rm" else strategy, resources)
    state_rm = tuple(sorted(resources)) if strategy == "state_rm" else ()
    originals = edit.originals
    root_path = Path(root) if root else Path(os.path.commonpath(list(originals) or ["."]))
    return Change(
        strategy=strategy,
        resources=tuple(sorted(resources)),
        files=edit.new,
        originals={p: originals[p] for p in edit.new},
        diff=unified_diff(
            originals, edit.new, root_path if root_path.is_dir() else root_path.parent
        ),
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

    def text(self, path: str, mine: dict[str, str]) -> str:
        if path not in self.texts:
            self.texts[path] = Path(path).read_text()
        self.originals.setdefault(path, self.texts[path])
        return mine.get(path, self.texts[path])

    def apply(self, resource: str, f: Finding, where: str | None) -> None:
        name, kind = f.name, self.strategy
        if not f.in_config or f.module:
            if f.in_config:  # a block in a local child module: it goes from the module
                how = "a `removed` block in the root module" if kind == "removed" else None
                how = how or "terraform state rm"
                self.new[f.file] = remove_resource(self.text(f.file, self.new), name, where, how)
                self.proof[f.file] = remove_resource(
                    self.text(f.file, self.proof), name, where, how
                )
            else:
                self.notes.append(
                    f"{resource}: state only (its block was deleted); the apply would delete it"
                )
            self._removed_in_root(resource, keep=kind == "removed")
        elif kind == "removed":
            self.new[f.file] = replace_with_removed(self.text(f.file, self.new), name, where)
            self.proof[f.file] = self.new[f.file]
        elif kind == "state_rm":
            self.new[f.file] = remove_resource(self.text(f.file, self.new), name, where)
            self.proof[f.file] = replace_with_removed(self.text(f.file, self.proof), name, where)
        else:
            self.new[f.file] = add_ignore_changes(self.text(f.file, self.new), name, where)
            self.proof[f.file] = self.new[f.file]

    def _removed_in_root(self, resource: str, *, keep: bool) -> None:
        path = self.root_file
        if path is None:
            raise InvalidInputError(
                f"No *.tf file in the root module to add `removed` for {resource} to."
            )
        block = "\n\n" + removed_block(resource) + "\n"
        self.proof[path] = self.text(path, self.proof).rstrip("\n") + block
        if keep:
            self.new[path] = self.text(path, self.new).rstrip("\n") + block


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
    docs = {path: parse_hcl(text, path) for path, text in files.items()}
    removed = {
        str(b.get("from", "")).strip("${}") for doc in docs.values() for b in doc.get("removed", [])
    }
    for resource, f in resources.items():
        doc = docs.get(f.file or "")
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
