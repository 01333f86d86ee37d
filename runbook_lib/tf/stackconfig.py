"""A stack's configuration read with python-hcl2: tables and table items of the root module
and of every local child module (its inputs evaluated in the caller), with variables,
`.tfvars` and locals evaluated where that is possible outside Terraform.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.tf import terraform as tf
from runbook_lib.tf.hcledit import ITEM_TYPE, parse_hcl, resource_blocks
from runbook_lib.tf.stackmodel import TABLE_TYPE, Finding, TableDef, typed_key

_RESOURCE_REF = re.compile(rf"^{TABLE_TYPE}\.([A-Za-z_][\w-]*)\.(name|id|hash_key|range_key)$")
_MODULE_ARGS = {"source", "version", "providers", "count", "for_each", "depends_on"}
MAX_MODULE_DEPTH = 8

# --------------------------------------------------------------------------- evaluation


class _Scope:
    """Variables, locals and the module's tables: enough to evaluate a counter's block."""

    def __init__(self, variables: dict[str, Any], locals_: dict[str, Any], tables: dict) -> None:
        self.variables, self.locals, self.tables = variables, locals_, tables

    def ev(self, value: Any) -> Any:
        """A value, or None when it cannot be evaluated outside Terraform."""
        if not isinstance(value, str):
            return value
        ref = _RESOURCE_REF.match(value.strip().removeprefix("${").removesuffix("}"))
        if ref:
            body = self.tables.get(ref.group(1)) or {}
            return self.ev(body.get("name" if ref.group(2) == "id" else ref.group(2)))
        try:
            return tf.resolve(value, self.variables, self.locals)
        except TerraformError:
            return None

    def item(self, raw: Any) -> dict[str, Any] | None:
        """A configured `item` (JSON text, heredoc or jsonencode(...)) as a dict."""
        if isinstance(raw, dict):
            return raw
        if not isinstance(raw, str):
            return None
        text = raw.strip()
        if text.startswith("${jsonencode(") and text.endswith(")}"):
            text = text[len("${jsonencode(") : -2].replace('""${', '"${').replace('}""', '}"')
        failed = False

        def sub(match: re.Match[str]) -> str:
            nonlocal failed
            value = self.ev("${" + match.group(1) + "}")
            failed = failed or value is None
            return json.dumps(str(value))[1:-1]

        text = re.sub(r"\$\{([^{}]*)\}", sub, text)
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, dict) and not failed else None


# --------------------------------------------------------------------------- configuration


def tf_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.tf") if not _is_override(p.name))


def _is_override(name: str) -> bool:
    return name == "override.tf" or name.endswith("_override.tf")


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
    docs = {p: parse_hcl(p.read_text(), str(p)) for p in tf_files(folder)}
    merged: dict[str, list[Any]] = {}
    for doc in docs.values():
        for kind, entries in doc.items():
            merged.setdefault(kind, []).extend(entries if isinstance(entries, list) else [])
    scope = _module_scope(merged, folder, inputs, docs)
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


def _module_scope(
    merged: dict[str, list[Any]], folder: Path, inputs: dict[str, Any] | None, docs: dict
) -> _Scope:
    root = inputs is None
    try:
        variables = tf.variable_values(merged, folder if root else None, inputs)
    except Exception:  # an unreadable tfvars file only costs us what it would have set
        variables = {}
    locals_: dict[str, Any] = {}
    for block in merged.get("locals", []):
        locals_.update(block)
    table_bodies: dict[str, dict[str, Any]] = {}
    for doc in docs.values():
        table_bodies.update(resource_blocks(doc, TABLE_TYPE))
    return _Scope(variables, locals_, table_bodies)


def _table_def(address: str, body: dict[str, Any], scope: _Scope) -> TableDef:
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
    scope: _Scope,
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
    return _Scope({}, {}, {}).item(raw)
