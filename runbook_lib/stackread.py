"""What a Terraform stack says about its counter: its tables and its table items.

The configuration is read with python-hcl2 (variables, `.tfvars` and locals evaluated where
they can be outside Terraform; local child modules followed, their inputs evaluated in the
caller), the state from the folder's `terraform.tfstate` or `terraform show -json`. Both
meet in `Finding`s: one per `aws_dynamodb_table_item` instance, with its typed key, so
05_migrate, 02_status's guard and target resolution all read a stack the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import terraform as tf
from .errors import RunbookError, TerraformError
from .hcledit import ITEM_TYPE, parse_hcl, resource_blocks

TABLE_TYPE = "aws_dynamodb_table"
KEY_TYPES = ("S", "N", "B")
STATE_FILE = "terraform.tfstate"
_INDEX_SUFFIX = re.compile(r"\[[^\[\]]*\]$")
_RESOURCE_REF = re.compile(rf"^{TABLE_TYPE}\.([A-Za-z_][\w-]*)\.(name|id|hash_key|range_key)$")
_MODULE_ARGS = {"source", "version", "providers", "count", "for_each", "depends_on"}
# Attributes the runbook itself writes beside the count: never the count.
RUNBOOK_ATTRIBUTES = frozenset({"runbookWriteId"})


@dataclass(frozen=True)
class TableDef:
    """One aws_dynamodb_table of the configuration or the state."""

    address: str
    name: str | None
    hash_key: str | None = None
    hash_type: str | None = None
    range_key: str | None = None
    range_type: str | None = None


@dataclass(frozen=True)
class Finding:
    """One aws_dynamodb_table_item, as the configuration and/or the state know it."""

    address: str  # instance address: module.m.aws_dynamodb_table_item.visitor_count[0]
    resource: str  # the block's address (what `removed { from = ... }` takes)
    module: str = ""  # "" for the root module, else "module.m" (nested: module.a.module.b)
    file: str | None = None  # the *.tf file holding the block
    line: int | None = None  # the block's first line in that file
    table: str | None = None
    hash_key: str | None = None
    range_key: str | None = None
    item: dict[str, Any] | None = None  # the configured item, DynamoDB JSON
    recorded: dict[str, Any] | None = None  # the item as the state recorded it
    key: dict[str, Any] | None = None  # typed: {"id": {"N": "0"}}
    configured_count: int | None = None  # the count the configuration writes back
    state_count: int | None = None  # the count the state recorded at the last apply
    in_config: bool = True
    in_state: bool = False
    protected: bool = False  # lifecycle ignore_changes covers `item` (or all)
    repetition: str | None = None  # "count" or "for_each" expression, if any
    module_source: str | None = None  # the module's `source`, for a child module
    module_local: bool = True  # a local path: its files can be edited

    @property
    def name(self) -> str:
        return self.resource.rsplit(".", 1)[-1]

    @property
    def key_label(self) -> str:
        return key_label(self.key) if self.key else "?"

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "module": self.module,
            "table": self.table,
            "key": {n: str(next(iter(v.values()))) for n, v in (self.key or {}).items()} or None,
            "key_types": {n: next(iter(v)) for n, v in (self.key or {}).items()} or None,
            "resource": self.resource,
            "configured_count": self.configured_count,
            "state_count": self.state_count,
            "in_config": self.in_config,
            "in_state": self.in_state,
            "protected": self.protected,
            "repetition": self.repetition,
            "module_source": self.module_source,
        }


@dataclass
class StackFacts:
    """Everything one stack says: tables, items (config joined with state), outputs."""

    folder: Path
    tables: list[TableDef] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    state: str = ""  # how the state was read: "terraform.tfstate", "terraform show -json", ""
    notes: list[str] = field(default_factory=list)

    def table_names(self) -> set[str]:
        names = {t.name for t in self.tables if t.name}
        return names | {f.table for f in self.findings if f.table}


def key_label(key: dict[str, Any]) -> str:
    """{"id": {"N": "0"}, "sk": {"S": "a"}} -> "id=0, sk=a" (pure)."""
    return ", ".join(f"{name}={next(iter(v.values()), '')}" for name, v in key.items())


def scalar_type(value: Any) -> str | None:
    """The DynamoDB type letter of a typed scalar ({"N": "1"} -> "N"), else None."""
    if isinstance(value, dict) and len(value) == 1:
        kind = next(iter(value))
        return kind if kind in KEY_TYPES else None
    return None


def numeric_attributes(item: dict[str, Any] | None, keys: set[str]) -> list[str]:
    """The item's N attributes that are not keys and not the runbook's own (pure)."""
    return sorted(
        name
        for name, value in (item or {}).items()
        if name not in keys and name not in RUNBOOK_ATTRIBUTES and scalar_type(value) == "N"
    )


def count_of(item: dict[str, Any] | None, attribute: str | None) -> int | None:
    value = (item or {}).get(attribute or "")
    if scalar_type(value) != "N":
        return None
    try:
        return int(str(value["N"]))
    except ValueError:
        return None


def typed_key(item: dict[str, Any] | None, *names: str | None) -> dict[str, Any] | None:
    """The item's key attributes, typed; None when the hash key is not in the item."""
    if not item or not names or not names[0] or scalar_type(item.get(names[0])) is None:
        return None
    return {n: item[n] for n in names if n and scalar_type(item.get(n)) is not None}


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
            args = {k: scope.ev(v) for k, v in body.items() if k not in _MODULE_ARGS}
            args = {k: v for k, v in args.items() if v is not None}
            child_folder = (folder / str(src)).resolve()
            if child_folder.is_dir():
                _read_module(child_folder, child, args, str(src), tables, items, notes)


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


# --------------------------------------------------------------------------- state


def state_file_as_show(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw terraform.tfstate (format 4) in `terraform show -json`'s shape: addresses with
    module and instance key, attributes as values, outputs (pure)."""
    resources = []
    for res in raw.get("resources") or []:
        base = f"{res.get('type')}.{res.get('name')}"
        if res.get("mode", "managed") == "data":
            base = f"data.{base}"
        if res.get("module"):
            base = f"{res['module']}.{base}"
        for inst in res.get("instances") or []:
            key = f"[{json.dumps(inst['index_key'])}]" if "index_key" in inst else ""
            resources.append(
                {
                    "address": base + key,
                    "mode": res.get("mode", "managed"),
                    "type": res.get("type"),
                    "name": res.get("name"),
                    "values": inst.get("attributes") or {},
                }
            )
    outputs = raw.get("outputs") or {}
    return {"values": {"root_module": {"resources": resources}, "outputs": outputs}}


def read_local_state(folder: Path) -> dict[str, Any] | None:
    """The folder's own terraform.tfstate in show -json's shape; None when there is none."""
    path = folder / STATE_FILE
    if not path.is_file():
        return None
    try:
        return state_file_as_show(json.loads(path.read_text()))
    except ValueError as exc:
        raise TerraformError(f"Cannot read {path}: {exc}", hint="run terraform show") from exc


def merge_state(config: list[Finding], show: dict[str, Any]) -> list[Finding]:
    """Config findings joined with the state's instances: one finding per instance in state,
    plus blocks not applied yet and state-only leftovers whose block is gone (pure)."""
    by_resource = {f.resource: f for f in config}
    out: list[Finding] = []
    seen: set[str] = set()
    for res in tf.state_resources(show):
        if res.get("type") != ITEM_TYPE or res.get("mode", "managed") != "managed":
            continue
        address = str(res.get("address"))
        resource = _INDEX_SUFFIX.sub("", address)
        module = resource.rsplit(f".{ITEM_TYPE}.", 1)[0] if resource.startswith("module.") else ""
        module = _INDEX_SUFFIX.sub("", module)
        values = res.get("values") or {}
        item = item_json(values.get("item"))
        base = by_resource.get(resource) or Finding(
            address=address, resource=resource, module=module, in_config=False
        )
        hash_key = values.get("hash_key") or base.hash_key
        range_key = values.get("range_key") or base.range_key
        out.append(
            replace(
                base,
                address=address,
                table=values.get("table_name") or base.table,
                hash_key=hash_key,
                range_key=range_key,
                recorded=item,
                key=typed_key(item, hash_key, range_key) or base.key,
                in_state=True,
            )
        )
        seen.add(resource)
    out += [f for f in config if f.resource not in seen]
    return sorted(out, key=lambda f: f.address)


def item_json(raw: Any) -> dict[str, Any] | None:
    """A recorded item (the state holds plain JSON text) as a dict."""
    return _Scope({}, {}, {}).item(raw)


def state_tables(show: dict[str, Any]) -> list[TableDef]:
    """The aws_dynamodb_table resources of a state, with their key types (pure)."""
    out = []
    for res in tf.state_resources(show):
        if res.get("type") != TABLE_TYPE or res.get("mode", "managed") != "managed":
            continue
        values = res.get("values") or {}
        types = {a.get("name"): a.get("type") for a in values.get("attribute") or []}
        hash_key, range_key = values.get("hash_key"), values.get("range_key") or None
        out.append(
            TableDef(
                address=str(res.get("address")),
                name=values.get("name"),
                hash_key=hash_key,
                hash_type=types.get(hash_key),
                range_key=range_key,
                range_type=types.get(range_key) if range_key else None,
            )
        )
    return out


def with_counts(findings: list[Finding], attribute: str | None) -> list[Finding]:
    """Each finding's configured and recorded count of `attribute` (the count's name)."""
    return [
        replace(
            f,
            configured_count=count_of(f.item or f.recorded, attribute),
            state_count=count_of(f.recorded, attribute),
        )
        for f in findings
    ]


def read_stack(folder: Path, show: dict[str, Any] | None = None) -> StackFacts:
    """Configuration and state of the stack in `folder`. `show` is a `terraform show -json`
    document when the caller ran one; else the local terraform.tfstate, if any, is read."""
    tables, config, notes = read_config(folder)
    how = "terraform show -json" if show is not None else ""
    if show is None:
        try:
            show = read_local_state(folder)
        except RunbookError as exc:
            notes.append(str(exc))
        how = STATE_FILE if show is not None else ""
    findings = merge_state(config, show or {})
    live_tables = state_tables(show or {})
    known = {t.address for t in live_tables}
    merged_tables = live_tables + [t for t in tables if t.address not in known]
    outputs = tf.unwrap_outputs(((show or {}).get("values") or {}).get("outputs") or {})
    return StackFacts(folder, merged_tables, findings, outputs, how, notes)


def has_backend(folder: Path) -> bool:
    """Whether the root module configures a backend (its state is not a local file)."""
    for path in tf_files(folder):
        doc = parse_hcl(path.read_text(), str(path))
        if any("backend" in (block or {}) for block in doc.get("terraform", [])):
            return True
    return False


def resolve_dir(terraform_dir: str | Path) -> Path:
    """The user's Terraform folder: as given, or relative to the project root."""
    from . import paths
    from .errors import InvalidInputError

    path = Path(terraform_dir).expanduser()
    if not path.is_absolute() and not path.is_dir():
        path = paths.project_root() / path
    if not path.is_dir():
        raise InvalidInputError(
            f"terraform_dir {str(terraform_dir)!r} is not a folder.",
            hint="pass the folder you run terraform in (-p terraform_dir PATH).",
        )
    if not any(path.glob("*.tf")):
        raise InvalidInputError(f"No *.tf files in {path}.", hint="check terraform_dir.")
    return path.resolve()
