"""The sources a target's fields are resolved from, one function each (see `target`).

Each source answers only the fields it knows and never overwrites an earlier one; where two
sources contradict each other it stops with one line naming both (exit 2 when both came
from the user, 3 when the live table disagrees with the stack that manages it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib import aws, paths
from runbook_lib.aws import tables
from runbook_lib.errors import (
    EndpointUnreachableError,
    InvalidInputError,
    StackMismatchError,
    TargetConflictError,
)
from runbook_lib.target.keys import typed_value
from runbook_lib.tf import stackconfig, stackmodel, stackread
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.commands import output_json
from runbook_lib.tf.workspace import shadow_show

ENV_VARS: dict[str, str] = {
    "table": "RUNBOOK_TABLE",
    "key_name": "RUNBOOK_KEY_NAME",
    "key_value": "RUNBOOK_KEY_VALUE",
    "count_attribute": "RUNBOOK_COUNT_ATTRIBUTE",
    "function_name": "RUNBOOK_FUNCTION_NAME",
    "api_id": "RUNBOOK_API_ID",
    "metric_namespace": "RUNBOOK_METRIC_NAMESPACE",
    "metric_name": "RUNBOOK_METRIC_NAME",
}
# terraform output names that feed each field.
TF_OUTPUTS: dict[str, str] = {
    "table": "table_name",
    "key_name": "key_name",
    "key_value": "key_value",
    "count_attribute": "count_attribute",
    "function_name": "function_name",
    "api_id": "api_id",
    "metric_namespace": "metric_namespace",
    "metric_name": "metric_name",
}
LIVE = "live table"


@dataclass
class Resolution:
    """The fields found so far, where each came from, and what the banner should add."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def take(self, fields: dict[str, Any], source: str | None) -> None:
        """Fields not found yet; `source` None means each value is a (value, source) pair."""
        for name, value in fields.items():
            value, where = value if source is None else (value, source)
            if name not in self.values and value not in (None, ""):
                self.values[name], self.sources[name] = value, where

    def missing(self, names: Any) -> bool:
        return any(n not in self.values for n in names)


# --------------------------------------------------------------------------- the stack


def from_stack(folder: Path, found: Resolution) -> dict[str, tuple[Any, str]]:
    """The counter a stack describes: its table, the item's typed key and numeric
    attribute, the table's key schema, the stack's outputs."""
    folder = stackread.resolve_dir(folder)
    facts = stackread.read_stack(folder, show=_remote_show(folder))
    label = f"stack {folder.name} ({facts.state or 'configuration'})"
    table = _stack_table(facts, found, folder)
    out: dict[str, tuple[Any, str]] = {"table": (table, label)}
    out.update(_item_fields(facts, table, label))
    for t in facts.tables:
        if t.name == table:
            out.setdefault("key_name", (t.hash_key, label))
            out.setdefault("key_type", (t.hash_type, label))
            if t.range_key:
                out.setdefault("range_key_name", (t.range_key, label))
                out.setdefault("range_key_type", (t.range_type, label))
    if facts.outputs.get("table_name") in (None, table):
        for name, output in TF_OUTPUTS.items():
            out.setdefault(name, (facts.outputs.get(output), f"stack {folder.name} output"))
    return out


def _remote_show(folder: Path) -> dict[str, Any] | None:
    """`terraform show -json` for a stack whose state is not a local file (a backend)."""
    if (folder / stackmodel.STATE_FILE).is_file() or not stackconfig.has_backend(folder):
        return None
    if find_terraform() is None:
        return None
    return shadow_show(folder)


def _stack_table(facts: stackmodel.StackFacts, found: Resolution, folder: Path) -> str:
    names = facts.table_names()
    given = found.values.get("table")
    if given:
        if names and given not in names:
            raise TargetConflictError(
                f"table_name {given!r} is not a table the stack in {folder.name} manages "
                f"(it manages {', '.join(sorted(names))})."
            )
        return str(given)
    written = sorted({f.table for f in facts.findings if f.table})
    candidates = written or sorted(names)
    if facts.outputs.get("table_name") in candidates:
        return str(facts.outputs["table_name"])
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise InvalidInputError(
            f"The stack in {folder.name} names no DynamoDB table that could be read "
            "(no aws_dynamodb_table, no table item, no table_name output).",
            hint="pass -p table_name NAME, or apply the stack so its state names the table.",
        )
    raise InvalidInputError(
        f"The stack in {folder.name} manages several tables ({', '.join(candidates)}); "
        "which one holds the counter?",
        hint=f"pass -p table_name {candidates[0]} (or another of them).",
    )


def _item_fields(
    facts: stackmodel.StackFacts, table: str, label: str
) -> dict[str, tuple[Any, str]]:
    """Key and count attribute from the stack's item for `table` (the one with a number)."""
    items = [f for f in facts.findings if f.table == table and f.key]
    items.sort(key=lambda f: (not _numbers(f), f.address))
    if not items:
        return {}
    f = items[0]
    key = f.key or {}
    out: dict[str, tuple[Any, str]] = {}
    names = list(key)
    out["key_name"] = (names[0], label)
    out["key_type"] = (stackmodel.scalar_type(key[names[0]]), label)
    out["key_value"] = (next(iter(key[names[0]].values())), label)
    if len(names) > 1:
        out["range_key_name"] = (names[1], label)
        out["range_key_type"] = (stackmodel.scalar_type(key[names[1]]), label)
        out["range_key_value"] = (next(iter(key[names[1]].values())), label)
    numbers = _numbers(f)
    if len(numbers) == 1:
        out["count_attribute"] = (numbers[0], label)
    return out


def _numbers(f: stackmodel.Finding) -> list[str]:
    return stackmodel.numeric_attributes(f.recorded or f.item, set(f.key or {}))


# --------------------------------------------------------------------------- environment


def from_environment(found: Resolution) -> tuple[dict[str, tuple[Any, str]], None]:
    """RUNBOOK_* settings: they describe RUNBOOK_TABLE's counter, so they are ignored (and
    the banner says so) when the table came from a parameter or a stack and differs."""
    env_table = os.environ.get(ENV_VARS["table"])
    table = found.values.get("table")
    if env_table and table and env_table != table:
        found.notes.append(
            f"RUNBOOK_* settings ignored: they describe {env_table}, and the table is {table} "
            f"({found.sources['table']})."
        )
        return {}, None
    return {name: (os.environ.get(var), f"env {var}") for name, var in ENV_VARS.items()}, None


def from_own_terraform(found: Resolution) -> tuple[dict[str, tuple[Any, str]], None]:
    """The project's own terraform/, where it has been applied: its outputs only."""
    outputs = _terraform_outputs(paths.terraform_dir())
    table = found.values.get("table")
    if not outputs or (table and outputs.get("table_name") != table):
        return {}, None
    return {
        name: (outputs.get(output), "terraform/ output") for name, output in TF_OUTPUTS.items()
    }, None


def _terraform_outputs(folder: Path) -> dict[str, Any]:
    """Outputs of the stack in folder, or {} when there is no state to ask."""
    has_state = (folder / "terraform.tfstate").exists() or (folder / ".terraform").is_dir()
    if not has_state or find_terraform() is None:
        return {}
    try:
        return output_json(folder)
    except Exception:  # an unreadable state must not stop a read-only status check
        return {}


# --------------------------------------------------------------------------- the live table


def from_live_table(found: Resolution, sess: Any) -> None:
    """Key names and types from DescribeTable (never guessed); then the count attribute and
    key value from the addressed item or the table's only item, when nothing said them."""
    ddb = aws.client("dynamodb", sess)
    table = found.values["table"]
    try:
        desc = tables.describe_table(ddb, table)
    except EndpointUnreachableError:
        raise
    except Exception as exc:  # only "cannot reach" stops the resolution
        found.notes.append(f"key schema not read from the live table: {str(exc).split('. ')[0]}")
        return
    types = {a["AttributeName"]: a["AttributeType"] for a in desc.get("AttributeDefinitions", [])}
    roles = {k["KeyType"]: k["AttributeName"] for k in desc.get("KeySchema", [])}
    _reconcile(found, "key_name", roles.get("HASH"), "hash key", types)
    found.values["key_type"], found.sources["key_type"] = types.get(roles.get("HASH"), "S"), LIVE
    if "RANGE" in roles:
        _reconcile(found, "range_key_name", roles["RANGE"], "range key", types)
        found.values["range_key_type"] = types.get(roles["RANGE"], "S")
        found.sources["range_key_type"] = LIVE
    elif found.values.get("range_key_name"):
        _conflict(found, "range_key_name", None, "range key", types)
    if found.missing(("key_value", "count_attribute")):
        _from_live_item(found, ddb)


def _reconcile(
    found: Resolution, name: str, live: str | None, role: str, types: dict[str, str]
) -> None:
    current = found.values.get(name)
    if current is None or current == live:
        found.values[name], found.sources[name] = live, LIVE
        return
    _conflict(found, name, live, role, types)


def _conflict(
    found: Resolution, name: str, live: str | None, role: str, types: dict[str, str]
) -> None:
    table, current, source = found.values["table"], found.values.get(name), found.sources[name]
    live_text = f"{live!r} ({types.get(live or '', '?')})" if live else "none"
    line = (
        f"{name} {current!r} ({source}) is not {table}'s {role}: the live table's is {live_text}."
    )
    if source == "parameter":
        raise TargetConflictError(line, hint=f"pass -p {name} {live} or leave it empty.")
    if source.startswith("stack"):
        raise StackMismatchError(line)
    found.notes.append(f"{name} {current!r} ({source}) replaced by the live table's {live!r}.")
    found.values[name], found.sources[name] = live, LIVE


def _from_live_item(found: Resolution, ddb: Any) -> None:
    """The addressed item's one numeric attribute; or, in a table that holds exactly one
    item, that item's key and number. Reads only; an unreadable table answers nothing."""
    table = found.values["table"]
    names = [found.values.get("key_name"), found.values.get("range_key_name")]
    names = [n for n in names if n]
    try:
        item = _addressed_item(found, ddb, names) or tables.only_item(ddb, table)
    except Exception:  # a guess that cannot be made is simply not made
        return
    if not item or any(n not in item for n in names):
        return
    if "key_value" not in found.values:
        found.take(_key_fields(item, names), "the table's only item")
    numbers = stackmodel.numeric_attributes(item, set(names))
    if len(numbers) == 1:
        found.take({"count_attribute": numbers[0]}, "live item")


def _addressed_item(found: Resolution, ddb: Any, names: list[str]) -> dict[str, Any] | None:
    values = found.values
    if "key_value" not in values or (len(names) > 1 and "range_key_value" not in values):
        return None
    key = {names[0]: typed_value(values.get("key_type", "S"), str(values["key_value"]))}
    if len(names) > 1:
        key[names[1]] = typed_value(values.get("range_key_type", "S"), values["range_key_value"])
    return tables.get_item(ddb, values["table"], key)


def _key_fields(item: dict[str, Any], names: list[str]) -> dict[str, Any]:
    import base64

    def text(value: dict[str, Any]) -> str:
        kind, raw = next(iter(value.items()))
        return base64.b64encode(raw).decode() if kind == "B" else str(raw)

    out = {"key_value": text(item[names[0]])}
    if len(names) > 1:
        out["range_key_value"] = text(item[names[1]])
    return out
