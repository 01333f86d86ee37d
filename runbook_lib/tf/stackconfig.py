"""A stack's configuration read with python-hcl2: tables and table items of the root module
and of every local child module (its inputs evaluated in the caller), with variables,
`.tfvars` and locals evaluated where that is possible outside Terraform.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.tf.hclconfig import Scope, merge_docs, module_scope, read_docs, tf_files
from runbook_lib.tf.hcledit import ITEM_TYPE, parse_hcl, resource_blocks
from runbook_lib.tf.hcleval import is_meta
from runbook_lib.tf.stackmodel import TABLE_TYPE, Finding, TableDef, typed_key
from runbook_lib.tf.stackregion import (
    Providers,
    Region,
    child_providers,
    module_providers,
    resource_region,
)

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


@dataclass
class _Reading:
    """What reading a stack's modules gathers."""

    var_files: tuple[Path, ...] = ()
    tables: list[TableDef] = field(default_factory=list)
    items: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_config(
    folder: Path, var_files: Sequence[Path | str] = ()
) -> tuple[list[TableDef], list[Finding], list[str]]:
    """Tables and items of the root module and every local child module (python-hcl2),
    one finding per `count` / `for_each` instance where those can be evaluated; the root's
    variables from its tfvars, TF_VAR_* and `var_files` (Terraform's -var-file order)."""
    reading = _Reading(var_files=tuple(Path(p) for p in var_files))
    _read_module(reading, folder, "", None, None, {})
    return reading.tables, reading.items, reading.notes


def _read_module(
    reading: _Reading,
    folder: Path,
    path: str,
    inputs: dict[str, Any] | None,
    source: str | None,
    given: Providers,
) -> None:
    docs = read_docs(folder)
    merged = merge_docs(docs)
    scope = module_scope(merged, folder, inputs, reading.var_files if inputs is None else ())
    reading.notes += [f"{path or 'root module'}: {n}" for n in scope.notes]
    providers = module_providers(merged, scope, given)
    prefix = f"{path}." if path else ""
    for name, body in scope.tables.items():
        region = resource_region(body, providers)
        reading.tables.append(_table_def(f"{prefix}{TABLE_TYPE}.{name}", body, scope, region))
    for file, doc in docs.items():
        for name, body in resource_blocks(doc, ITEM_TYPE).items():
            block = _Block(prefix, name, body, file, path, source, resource_region(body, providers))
            found, note = instances(block, scope)
            reading.items += found
            reading.notes += [note] if note else []
    for block in merged.get("module", []):
        for name, body in block.items():
            if not is_meta(name):
                _read_child(reading, folder, f"{prefix}module.{name}", body, scope, providers)


def _read_child(
    reading: _Reading,
    folder: Path,
    child: str,
    body: dict[str, Any],
    scope: Scope,
    providers: Providers,
) -> None:
    src = body.get("source")
    if not is_local_source(src):
        reading.notes.append(f"{child} comes from {src!r}: read from the state only")
        return
    if child.count("module.") > MAX_MODULE_DEPTH:  # a module that calls itself
        reading.notes.append(f"{child}: modules nested deeper than {MAX_MODULE_DEPTH}, not read")
        return
    args = {k: scope.ev(v) for k, v in body.items() if k not in _MODULE_ARGS and not is_meta(k)}
    args = {k: v for k, v in args.items() if v is not None}
    child_folder = (folder / str(src)).resolve()
    if child_folder.is_dir():
        given = child_providers(body, providers)
        _read_module(reading, child_folder, child, args, str(src), given)


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


def _table_def(address: str, body: dict[str, Any], scope: Scope, region: Region) -> TableDef:
    types = {scope.ev(a.get("name")): scope.ev(a.get("type")) for a in body.get("attribute") or []}
    hash_key, range_key = scope.ev(body.get("hash_key")), scope.ev(body.get("range_key"))
    return TableDef(
        address=address,
        name=scope.ev(body.get("name")),
        hash_key=hash_key,
        hash_type=types.get(hash_key),
        range_key=range_key,
        range_type=types.get(range_key) if range_key else None,
        region=region[0],
        region_source=region[1],
    )


@dataclass(frozen=True)
class _Block:
    """One aws_dynamodb_table_item block and where it sits."""

    prefix: str
    name: str
    body: dict[str, Any]
    file: Path
    module: str
    source: str | None
    region: Region

    @property
    def resource(self) -> str:
        return f"{self.prefix}{ITEM_TYPE}.{self.name}"


def shown(expr: Any) -> str:
    """An expression as the user wrote it, near enough: `var.sites`, not `${var.sites}`."""
    text = str(expr).strip()
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def instances(block: _Block, scope: Scope) -> tuple[list[Finding], str | None]:
    """One finding per instance Terraform would make of the block (its address with
    `[0]` or `["key"]`, its item evaluated with count.index or each.key/each.value), and
    a note when the block's `count` / `for_each` cannot be evaluated here: then one
    finding for the whole block, its instances known from the state only."""
    kind = next((k for k in ("count", "for_each") if k in block.body), None)
    if kind is None:
        return [_finding(block, scope)], None
    expr = f"{kind} = {shown(block.body[kind])}"
    try:
        keyed = _instance_keys(kind, scope.strict(block.body[kind]))
    except TerraformError as exc:
        why = str(exc).split(" outside Terraform")[-1].strip(" .()") or "not evaluated"
        return [_finding(block, scope)], (
            f"{block.resource}: {expr} cannot be evaluated outside Terraform ({why}): its "
            "instances are known from the state only (pass the stack's var files: -p var_files)"
        )
    if not keyed:  # kept as the block, so state instances still find it
        empty = replace(_finding(block, scope), item=None, key=None, no_instance=True)
        return [empty], (
            f"{block.resource}: {expr} makes no instance with these variables (if the "
            "stack's CI passes var files, name them: -p var_files)"
        )
    found = [
        _finding(block, scope.instance(**{kind.replace("for_", ""): extra}), suffix)
        for suffix, extra in keyed
    ]
    return found, None


def _instance_keys(kind: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    """[(address suffix, each/count value)] of a `count` or `for_each` value."""
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise TerraformError(f"count is {value!r}, not a whole number")
        if int(value) != value:
            raise TerraformError(f"count is {value!r}, not a whole number")
        return [(f"[{i}]", {"index": i}) for i in range(int(value))]
    if isinstance(value, dict):
        return [(f"[{json.dumps(k)}]", {"key": k, "value": v}) for k, v in sorted(value.items())]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        keys = sorted(set(value))  # a set of strings, as Terraform iterates it
        return [(f"[{json.dumps(k)}]", {"key": k, "value": k}) for k in keys]
    raise TerraformError(f"for_each is {type(value).__name__}, not a map or a set of strings")


def _finding(block: _Block, scope: Scope, suffix: str = "") -> Finding:
    body = block.body
    item = scope.item(body.get("item"))
    hash_key, range_key = scope.ev(body.get("hash_key")), scope.ev(body.get("range_key"))
    repetition = next((k for k in ("count", "for_each") if k in body), None)
    return Finding(
        address=block.resource + suffix,
        resource=block.resource,
        module=block.module,
        file=str(block.file),
        line=body.get("__start_line__"),
        table=scope.ev(body.get("table_name")),
        hash_key=hash_key if isinstance(hash_key, str) else None,
        range_key=range_key if isinstance(range_key, str) else None,
        item=item,
        key=typed_key(item, hash_key, range_key),
        protected=protected(body),
        repetition=f"{repetition} = {shown(body[repetition])}" if repetition else None,
        module_source=block.source,
        module_local=block.source is None or is_local_source(block.source),
        region=block.region[0],
        region_source=block.region[1],
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
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
