"""The counter as a Terraform stack describes it: tables, table items, typed keys (pure data).

`Finding` is one `aws_dynamodb_table_item` instance as the configuration and/or the state know
it; `TableDef` one `aws_dynamodb_table`; the helpers read typed DynamoDB JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib.model import KEY_TYPES, RUNBOOK_ATTRIBUTES

TABLE_TYPE = "aws_dynamodb_table"
STATE_FILE = "terraform.tfstate"
_WHOLE = re.compile(r"^\d{1,38}$")  # DynamoDB numbers hold 38 digits


@dataclass(frozen=True)
class TableDef:
    """One aws_dynamodb_table of the configuration or the state."""

    address: str
    name: str | None
    hash_key: str | None = None
    hash_type: str | None = None
    range_key: str | None = None
    range_type: str | None = None
    region: str | None = None  # the region its provider configures, where it could be read
    region_source: str = ""  # how: "provider aws (variable aws_region default)"
    arn_region: str | None = None  # the region in the state's ARN of the table


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
    region: str | None = None  # the region of the provider the block uses, if read
    region_source: str = ""
    # a block whose count / for_each makes no instance with these variables: it writes
    # nothing, but instances the state still holds belong to it (stackread.merge_state)
    no_instance: bool = False

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
    state_region: str | None = None  # the one region every ARN in the state names

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


def count_attributes(item: dict[str, Any] | None, keys: set[str]) -> list[str]:
    """The attributes that can hold the item's count: its numbers (N), or, when it holds
    none, its strings whose value is a whole number ({"S": "57"}: a site that writes
    str(n)). Keys and the runbook's own attributes are never the count (pure)."""
    numbers = numeric_attributes(item, keys)
    if numbers:
        return numbers
    return sorted(
        name
        for name, value in (item or {}).items()
        if name not in keys and name not in RUNBOOK_ATTRIBUTES and string_count(value)
    )


def string_count(value: Any) -> bool:
    """A typed value that is a count written as a string: {"S": "57"} (pure)."""
    return scalar_type(value) == "S" and bool(_WHOLE.match(str(value["S"])))


def count_type(item: dict[str, Any] | None, attribute: str | None) -> str | None:
    """ "N" or "S": how the item holds its count attribute; None when it does not (pure)."""
    kind = scalar_type((item or {}).get(attribute or ""))
    return kind if kind in ("N", "S") else None


def count_of(item: dict[str, Any] | None, attribute: str | None) -> int | None:
    """The count the item holds: a number, or a whole number written as a string."""
    value = (item or {}).get(attribute or "")
    kind = scalar_type(value)
    if not isinstance(value, dict) or kind not in ("N", "S"):  # a typed scalar is a dict
        return None
    if kind == "S" and not string_count(value):
        return None
    try:
        return int(str(value[kind]))
    except ValueError:
        return None


def typed_key(item: dict[str, Any] | None, *names: str | None) -> dict[str, Any] | None:
    """The item's key attributes, typed; None when the hash key is not in the item."""
    if not item or not names or not names[0] or scalar_type(item.get(names[0])) is None:
        return None
    return {n: item[n] for n in names if n and scalar_type(item.get(n)) is not None}
