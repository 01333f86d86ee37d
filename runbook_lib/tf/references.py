"""Every reference to a table item 05_migrate takes out of the configuration, found before
anything is edited: deleting the block alone makes the plan fail with "Reference to
undeclared resource".

The module that declares the item is searched (python-hcl2's expressions: `${...}`
strings), then, through each module output that carries the item, its caller, up to the
root. The rules:

- an output that exposes the item goes with the block, and so does a local; their users
  go too where they only pass the value on (an output or a local of the caller);
- a `depends_on` entry naming the item is dropped (the attribute with it when it is the
  last entry);
- anything else (another resource's argument, a module input, a local a resource uses)
  cannot be removed safely: StackMismatchError names each file and line, nothing written.

`find` plans (pure given `read`); `refedit.apply` makes the text edits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib.errors import StackMismatchError
from runbook_lib.tf.hclconfig import tf_files
from runbook_lib.tf.hcledit import ITEM_TYPE, parse_hcl, relative_path
from runbook_lib.tf.stackconfig import MAX_MODULE_DEPTH, is_local_source
from runbook_lib.tf.stackmodel import Finding

Read = Callable[[str], str]
_NAMED = ("module", "output", "variable", "provider", "check")  # kind "name" { ... }
_TYPED = ("resource", "data")  # kind "type" "name" { ... }
_DEPENDS = ("resource", "data", "module", "output")  # blocks with a depends_on list


@dataclass(frozen=True)
class Symbol:
    """How a module spells a value that reads the item, and the item it reads."""

    spelling: str  # aws_dynamodb_table_item.seed, local.n, module.db.count
    item: str
    pattern: str  # regex source

    def found_in(self, text: str) -> bool:
        return re.search(self.pattern, text) is not None


def _symbol(spelling: str, item: str, index: bool = False) -> Symbol:
    *head, last = spelling.split(".")
    escaped = r"\.".join(map(re.escape, head))
    key = r"(?:\[[^\]]*\])?" if index else ""
    return Symbol(spelling, item, rf"(?<![\w.-]){escaped}{key}\.{re.escape(last)}(?![\w-])")


@dataclass(frozen=True)
class Use:
    """One reference: where it is, the block it is in, and what it reads."""

    file: str
    line: int  # the reference's own line (1-based)
    kind: str  # "output" or "local" (the block goes), "depends_on" (the entry goes), "blocked"
    name: str  # output or local name; the block's address for depends_on and blocked
    block: tuple[str, int, int]  # (block kind, first line, last line) as python-hcl2 says
    symbol: Symbol
    drops: tuple[str, ...] = ()  # depends_on: the patterns whose entries go


@dataclass
class ReferencePlan:
    uses: list[Use] = field(default_factory=list)

    @property
    def removals(self) -> list[Use]:
        return [u for u in self.uses if u.kind != "blocked"]

    @property
    def blocked(self) -> list[Use]:
        return [u for u in self.uses if u.kind == "blocked"]


def module_folders(root: Path, read: Read) -> dict[str, Path]:
    """{module path: folder} of the root ("") and every local module it reaches."""
    found = {"": root}

    def walk(folder: Path, path: str) -> None:
        for file in files_of(folder, read):
            for block in parse_hcl(read(file), file).get("module", []):
                for name, body in block.items():
                    child = f"{path}.module.{name}" if path else f"module.{name}"
                    source = (body or {}).get("source")
                    if is_local_source(source) and child.count("module.") <= MAX_MODULE_DEPTH:
                        found[child] = (folder / str(source)).resolve()
                        walk(found[child], child)

    walk(root, "")
    return found


def files_of(folder: Path, read: Read, known: Iterable[str] = ()) -> list[str]:
    """The module's *.tf files: on disk, plus texts the caller holds for that folder."""
    listed = {str(p) for p in tf_files(folder)} if folder.is_dir() else set()
    return sorted(listed | {p for p in known if Path(p).parent == folder})


def find(
    findings: Iterable[Finding], root: Path | None, read: Read, known: Iterable[str] = ()
) -> ReferencePlan:
    """Every reference to the findings' blocks, in their modules and their callers."""
    symbols: dict[str, list[Symbol]] = {}
    acting: dict[str, set[str]] = {}
    folders: dict[str, Path] = {}
    for f in findings:
        if not (f.in_config and f.file and f.module_local):
            continue
        local = f"{ITEM_TYPE}.{f.name}"
        acting.setdefault(f.module, set()).add(local)
        symbols.setdefault(f.module, []).append(_symbol(local, f.resource))
        folders.setdefault(f.module, Path(f.file).parent)
    if not acting:
        return ReferencePlan()
    folders.update(module_folders(root, read) if root is not None else {})
    paths = {p for m in acting for p in _with_ancestors(m) if p in folders}
    plan = ReferencePlan()
    for path in sorted(paths, key=lambda p: -p.count("module.")):
        if not symbols.get(path):
            continue
        files = files_of(folders[path], read, known)
        uses = _scan(files, read, symbols[path], acting.get(path, set()))
        seen = {(u.file, u.line, u.kind, u.name) for u in plan.uses}
        plan.uses += [u for u in uses if (u.file, u.line, u.kind, u.name) not in seen]
        if path:  # a module output that goes: its caller's uses of it are next
            parent = path.rpartition(".module.")[0] if ".module." in path else ""
            call = path.rpartition("module.")[2]
            for u in uses:
                if u.kind == "output":
                    spelling = f"module.{call}.{u.name}"
                    symbols.setdefault(parent, []).append(
                        _symbol(spelling, u.symbol.item, index=True)
                    )
    return plan


def _with_ancestors(path: str) -> Iterator[str]:
    yield path
    while path:
        path = path.rpartition(".module.")[0] if ".module." in path else ""
        yield path


def _scan(files: list[str], read: Read, symbols: list[Symbol], acting: set[str]) -> list[Use]:
    """The uses of `symbols` in one module's files; its locals that read them first (a
    local that reads a removed local goes too)."""
    docs = {file: parse_hcl(read(file), file) for file in files}
    symbols = list(symbols)
    uses: list[Use] = []
    entries = [
        (file, body, name, value)
        for file, doc in docs.items()
        for body in doc.get("locals", [])
        for name, value in body.items()
        if not name.startswith("__")
    ]
    changed = True
    while changed:
        changed = False
        for file, body, name, value in entries:
            hit = _mentions(value, symbols)
            if hit and not any(u.kind == "local" and u.name == name for u in uses):
                span = ("locals", body["__start_line__"], body["__end_line__"])
                line = _line_of(read(file), span, rf"^[ \t]*{re.escape(name)}[ \t]*=")
                uses.append(Use(file, line, "local", name, span, hit))
                symbols.append(_symbol(f"local.{name}", hit.item))
                changed = True
    for file, doc in docs.items():
        for kind, address, body in _blocks(doc):
            if kind in ("locals", "removed") or (kind == "resource" and address in acting):
                continue
            use = _use(file, read(file), kind, address, body, symbols)
            if use is not None:
                uses.append(use)
    return uses


def _use(
    file: str, text: str, kind: str, address: str, body: dict[str, Any], symbols: list[Symbol]
) -> Use | None:
    """How one block uses the symbols: not at all (None), as an output that goes, by a
    depends_on entry, or in a way that cannot be removed."""
    span = (kind, body["__start_line__"], body["__end_line__"])
    deps = body.get("depends_on") if kind in _DEPENDS else None
    rest = {k: v for k, v in body.items() if not (k == "depends_on" and deps is not None)}
    hit = _mentions(rest, symbols)
    if hit is not None:
        line = _line_of(text, span, hit.pattern)
        name = address.split(".", 1)[1] if kind == "output" else _shown_block(kind, address)
        return Use(file, line, "output" if kind == "output" else "blocked", name, span, hit)
    dropped = [s for s in symbols if _mentions(deps, [s])]
    if not dropped:
        return None
    line = _line_of(text, span, dropped[0].pattern)
    drops = tuple(s.pattern for s in dropped)
    return Use(file, line, "depends_on", _shown_block(kind, address), span, dropped[0], drops)


def _shown_block(kind: str, address: str) -> str:
    """How a block is named in a message: `aws_lambda_function.api`, `output "x"`."""
    if kind in _NAMED:
        return f'{kind} "{address.split(".", 1)[1]}"'
    return address


def _blocks(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, address, body) of every top-level block of a parsed file."""
    for kind, entries in doc.items():
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            if kind in _TYPED:
                prefix = "data." if kind == "data" else ""
                for rtype, named in entry.items():
                    for name, body in (named or {}).items() if isinstance(named, dict) else []:
                        if isinstance(body, dict) and "__start_line__" in body:
                            yield kind, f"{prefix}{rtype}.{name}", body
            elif kind in _NAMED:
                for name, body in entry.items():
                    if isinstance(body, dict) and "__start_line__" in body:
                        yield kind, f"{kind}.{name}", body
            elif "__start_line__" in entry:
                yield kind, kind, entry


def _mentions(value: Any, symbols: list[Symbol]) -> Symbol | None:
    """The first symbol an expression (or any expression nested in a value) reads."""
    if isinstance(value, str):
        if "${" in value:
            return next((s for s in symbols if s.found_in(value)), None)
        return None
    if isinstance(value, dict):
        items: Iterable[Any] = (v for k, v in value.items() if not str(k).startswith("__"))
    elif isinstance(value, list):
        items = value
    else:
        return None
    return next((s for s in (_mentions(v, symbols) for v in items) if s), None)


def _line_of(text: str, span: tuple[str, int, int], pattern: str) -> int:
    """The first line of the block that matches `pattern` (the block's first otherwise)."""
    _, first, last = span
    lines = text.splitlines()
    for number in range(first, min(last, len(lines)) + 1):
        if re.search(pattern, lines[number - 1]):
            return number
    return first


def refuse(plan: ReferencePlan, root: Path | None) -> None:
    """StackMismatchError (exit 3) naming every reference that cannot be removed safely."""
    blocked = plan.blocked
    if not blocked:
        return
    where = [
        f"{_shown(u.file, root)}:{u.line}: {u.name} uses {u.symbol.spelling}"
        + (f" (which reads {u.symbol.item})" if u.symbol.spelling != u.symbol.item else "")
        for u in blocked
    ]
    items = sorted({u.symbol.item for u in blocked})
    raise StackMismatchError(
        f"05_migrate cannot take {', '.join(items)} out of the configuration safely: "
        f"{'; '.join(where)}. Removing the item's block would break that reference, and "
        "05_migrate removes only outputs, locals and depends_on entries. Nothing was written.",
        hint="rewrite that reference by hand (the item stays in DynamoDB: use the table's "
        "name or key instead of the item resource), then run 05_migrate again.",
    )


def _shown(file: str, root: Path | None) -> str:
    return relative_path(file, root) if root is not None else file


def notes(plan: ReferencePlan, root: Path | None) -> list[str]:
    """One line per reference taken out, for the change's notes."""
    said = {
        "output": 'output "{name}" removed: it exposed {item}',
        "local": "local.{name} removed: it read {item}",
        "depends_on": "{name}: depends_on entry {spelling} dropped",
    }
    return [
        f"{_shown(u.file, root)}:{u.line}: "
        + said[u.kind].format(name=u.name, item=u.symbol.spelling, spelling=u.symbol.spelling)
        for u in plan.removals
    ]
