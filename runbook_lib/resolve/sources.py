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
from runbook_lib.aws.types import DynamoDBClient, Session
from runbook_lib.errors import EndpointUnreachableError, StackMismatchError, TargetConflictError
from runbook_lib.model import typed_value
from runbook_lib.tf import stackmodel
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.commands import output_json

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


def from_live_table(found: Resolution, sess: Session) -> None:
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
    # keyed str | None: looked up with roles.get("HASH") too, None when the table has none
    types: dict[str | None, str] = {
        a["AttributeName"]: a["AttributeType"] for a in desc.get("AttributeDefinitions", [])
    }
    roles = {k["KeyType"]: k["AttributeName"] for k in desc.get("KeySchema", [])}
    _reconcile(found, "key_name", roles.get("HASH"), "hash key", types)
    found.values["key_type"], found.sources["key_type"] = types.get(roles.get("HASH"), "S"), LIVE
    if "RANGE" in roles:
        _reconcile(found, "range_key_name", roles["RANGE"], "range key", types)
        found.values["range_key_type"] = types.get(roles["RANGE"], "S")
        found.sources["range_key_type"] = LIVE
    elif found.values.get("range_key_name"):
        _conflict(found, "range_key_name", None, "range key", types)
    _from_live_item(found, ddb)


def _reconcile(
    found: Resolution, name: str, live: str | None, role: str, types: dict[str | None, str]
) -> None:
    current = found.values.get(name)
    if current is None or current == live:
        found.values[name], found.sources[name] = live, LIVE
        return
    _conflict(found, name, live, role, types)


def _conflict(
    found: Resolution, name: str, live: str | None, role: str, types: dict[str | None, str]
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


def _from_live_item(found: Resolution, ddb: DynamoDBClient) -> None:
    """The addressed item's one count attribute and its type (a number, or a whole number
    written as a string); or, in a table that holds exactly one item, that item's key and
    count. Reads only; an unreadable table answers nothing."""
    table = found.values["table"]
    keys = [found.values.get("key_name"), found.values.get("range_key_name")]
    names: list[str] = [n for n in keys if n]
    try:
        item = _addressed_item(found, ddb, names)
        if item is None and "key_value" not in found.values:
            item = tables.only_item(ddb, table)
    except Exception:  # a guess that cannot be made is simply not made
        return
    if not item or any(n not in item for n in names):
        return
    if "key_value" not in found.values:
        found.take(_key_fields(item, names), "the table's only item")
    counts = stackmodel.count_attributes(item, set(names))
    if len(counts) == 1:
        found.take({"count_attribute": counts[0]}, "live item")
    kind = stackmodel.count_type(item, found.values.get("count_attribute"))
    if kind:  # the live item says how the count is held, whatever the stack configures
        found.values["count_type"], found.sources["count_type"] = kind, "live item"


def _addressed_item(
    found: Resolution, ddb: DynamoDBClient, names: list[str]
) -> dict[str, Any] | None:
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
