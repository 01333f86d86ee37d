"""A stack's configuration read with python-hcl2: tables and table items of the root module
and of every local child module (its inputs evaluated in the caller), with variables,
`.tfvars` and locals evaluated where that is possible outside Terraform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbook_lib.tf.hclconfig import Scope, merge_docs, module_scope, read_docs, tf_files
from runbook_lib.tf.hcledit import ITEM_TYPE, parse_hcl, resource_blocks
from runbook_lib.tf.stackmodel import TABLE_TYPE, Finding, TableDef, typed_key

_MODULE_ARGS = {"source", "version", "providers", "count", "for_each", "depends_on"}
MAX_MODULE_DEPTH = 8


# --------------------------------------------------------------------------- configuration


def is_local_source(source: Any) -> bool:
    return isinstance(source, str) and source.startswith(("./", "../"))


def protected(body: dict[str, Any]) -> bool:
    for lifecycle in body.get("lifecycle") or []:
        ignored = lifecycle.get("ignore_changes")
        if isinstance(ignored, str) and ignored.strip("${}") == "all":
            return True
        if isinstance(ignored, list) and any(
            str(v).strip("${}") in ("item", "all") for v in ignored
        ):
            return True
    return False


def read_config(folder: Path) -> tuple[list[TableDef], list[Finding], list[str]]:
    """Tables and items of the root module and every local child module (python-hcl2)."""
    tables: list[TableDef] = []
    items: list[Finding] = []
    notes: list[str] = []
    _read_module(folder, "", None, None, tables, items, notes)
    return tables, items, notes


def _read_module(
    folder: Path,
    path: str,
    inputs: dict[str, Any] | None,
    source: str | None,
    tables: list[TableDef],
    items: list[Finding],
    notes: list[str],
) -> None:
    docs = read_docs(folder)
    merged = merge_docs(docs)
    scope = module_scope(merged, folder, inputs)
    prefix = f"{path}." if path else ""
    for name, body in scope.tables.items():
        tables.append(_table_def(f"{prefix}{TABLE_TYPE}.{name}", body, scope))
    for file, doc in docs.items():
        for name, body in resource_blocks(doc, ITEM_TYPE).items():
            items.append(_config_finding(prefix, name, body, file, scope, path, source))
    for block in merged.get("module", []):
        for name, body in block.items():
            child = f"{prefix}module.{name}"
            src = body.get("source")
            if not is_local_source(src):
                notes.append(f"{child} comes from {src!r}: read from the state only")
                continue
            if child.count("module.") > MAX_MODULE_DEPTH:  # a module that calls itself
                notes.append(f"{child}: modules nested deeper than {MAX_MODULE_DEPTH}, not read")
                continue
            args = {k: scope.ev(v) for k, v in body.items() if k not in _MODULE_ARGS}
            args = {k: v for k, v in args.items() if v is not None}
            child_folder = (folder / str(src)).resolve()
            if child_folder.is_dir():
                _read_module(child_folder, child, args, str(src), tables, items, notes)


def remote_modules(folder: Path) -> dict[str, str]:
    """The root module's calls of modules that are not local folders: {module.x: source}.
    Their items are known from the state only, and their files cannot be edited."""
    found: dict[str, str] = {}
    for path in tf_files(folder):
        for block in parse_hcl(path.read_text(), str(path)).get("module", []):
            for name, body in block.items():
                if not is_local_source(body.get("source")):
                    found[f"module.{name}"] = str(body.get("source"))
    return found


def _table_def(address: str, body: dict[str, Any], scope: Scope) -> TableDef:
    types = {scope.ev(a.get("name")): scope.ev(a.get("type")) for a in body.get("attribute") or []}
    hash_key, range_key = scope.ev(body.get("hash_key")), scope.ev(body.get("range_key"))
    return TableDef(
        address=address,
        name=scope.ev(body.get("name")),
        hash_key=hash_key,
        hash_type=types.get(hash_key),
        range_key=range_key,
        range_type=types.get(range_key) if range_key else None,
    )


def _config_finding(
    prefix: str,
    name: str,
    body: dict[str, Any],
    file: Path,
    scope: Scope,
    module: str,
    source: str | None,
) -> Finding:
    item = scope.item(body.get("item"))
    hash_key, range_key = scope.ev(body.get("hash_key")), scope.ev(body.get("range_key"))
    repetition = next((k for k in ("count", "for_each") if k in body), None)
    return Finding(
        address=f"{prefix}{ITEM_TYPE}.{name}",
        resource=f"{prefix}{ITEM_TYPE}.{name}",
        module=module,
        file=str(file),
        line=body.get("__start_line__"),
        table=scope.ev(body.get("table_name")),
        hash_key=hash_key if isinstance(hash_key, str) else None,
        range_key=range_key if isinstance(range_key, str) else None,
        item=item,
        key=typed_key(item, hash_key, range_key),
        protected=protected(body),
        repetition=f"{repetition} = {body[repetition]}" if repetition else None,
        module_source=source,
        module_local=source is None or is_local_source(source),
    )


def has_backend(folder: Path) -> bool:
    """Whether the root module configures a backend (its state is not a local file)."""
    for path in tf_files(folder):
        doc = parse_hcl(path.read_text(), str(path))
        if any("backend" in (block or {}) for block in doc.get("terraform", [])):
            return True
    return False


def item_json(raw: Any) -> dict[str, Any] | None:
    """A recorded item (the state holds plain JSON text) as a dict."""
    return Scope({}, {}, {}).item(raw)
