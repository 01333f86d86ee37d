"""What a Terraform stack says about its counter: its tables and its table items.

The configuration comes from `stackconfig` (python-hcl2, local child modules followed), the
state from the folder's `terraform.tfstate` or a `terraform show -json` the caller ran. Both
meet in `Finding`s: one per `aws_dynamodb_table_item` instance, with its typed key, so
05_migrate, 02_status's guard and target resolution all read a stack the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from runbook_lib.errors import RunbookError
from runbook_lib.tf.hcledit import ITEM_TYPE
from runbook_lib.tf.stackconfig import item_json, read_config
from runbook_lib.tf.stackmodel import (
    STATE_FILE,
    TABLE_TYPE,
    Finding,
    StackFacts,
    TableDef,
    count_of,
    typed_key,
)
from runbook_lib.tf.stackregion import arn_region, state_region
from runbook_lib.tf.state import read_local_state, state_resources, unwrap_outputs

_INDEX_SUFFIX = re.compile(r"\[[^\[\]]*\]$")


def merge_state(config: list[Finding], show: dict[str, Any]) -> list[Finding]:
    """Config findings joined with the state's instances: one finding per instance in state,
    plus instances not applied yet and state-only leftovers whose block is gone (pure).
    An instance joins the config instance of the same address; one the configuration could
    not expand (or no longer makes) joins its block."""
    by_address = {f.address: f for f in config}
    by_resource: dict[str, Finding] = {}
    for f in config:
        by_resource.setdefault(f.resource, f)
    out: list[Finding] = []
    seen: set[str] = set()
    for res in state_resources(show):
        if res.get("type") != ITEM_TYPE or res.get("mode", "managed") != "managed":
            continue
        address = str(res.get("address"))
        resource = _INDEX_SUFFIX.sub("", address)
        values = res.get("values") or {}
        out.append(_joined(address, resource, values, by_address, by_resource))
        seen.update((address, resource))
    for f in config:
        expanded = f.address != f.resource
        if f.address not in seen and (expanded or f.resource not in seen) and not f.no_instance:
            out.append(f)
    return sorted(out, key=lambda f: f.address)


def _joined(
    address: str,
    resource: str,
    values: dict[str, Any],
    by_address: dict[str, Finding],
    by_resource: dict[str, Finding],
) -> Finding:
    """One state instance with what the configuration says of it."""
    base = by_address.get(address)
    if base is None and resource in by_resource:
        block = by_resource[resource]
        # an instance of a block the configuration expands differently: the block is
        # there (its file, its protection), but the item it would write is not this one
        expanded = block.address != block.resource
        base = replace(block, item=None, key=None) if expanded else block
        base = replace(base, no_instance=False)
    if base is None:
        module = resource.rsplit(f".{ITEM_TYPE}.", 1)[0] if resource.startswith("module.") else ""
        module = _INDEX_SUFFIX.sub("", module)
        base = Finding(address=address, resource=resource, module=module, in_config=False)
    item = item_json(values.get("item"))
    hash_key = values.get("hash_key") or base.hash_key
    range_key = values.get("range_key") or base.range_key
    return replace(
        base,
        address=address,
        table=values.get("table_name") or base.table,
        hash_key=hash_key,
        range_key=range_key,
        recorded=item,
        key=typed_key(item, hash_key, range_key) or base.key,
        in_state=True,
    )


def state_tables(show: dict[str, Any]) -> list[TableDef]:
    """The aws_dynamodb_table resources of a state, with their key types and the region
    their ARN names (pure)."""
    out = []
    for res in state_resources(show):
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
                arn_region=arn_region(values.get("arn")),
            )
        )
    return out


def merge_tables(state: list[TableDef], config: list[TableDef]) -> list[TableDef]:
    """The state's tables, each with the region its configuration's provider says, then
    the configuration's tables not applied yet (pure)."""
    by_address = {t.address: t for t in config}
    out = []
    for t in state:
        conf = by_address.get(t.address) or by_address.get(_INDEX_SUFFIX.sub("", t.address))
        if conf is not None:
            t = replace(t, region=conf.region, region_source=conf.region_source)
        out.append(t)
    known = {_INDEX_SUFFIX.sub("", t.address) for t in state}
    return out + [t for t in config if t.address not in known]


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


def read_stack(
    folder: Path, show: dict[str, Any] | None = None, var_files: Sequence[Path | str] = ()
) -> StackFacts:
    """Configuration and state of the stack in `folder`. `show` is a `terraform show -json`
    document when the caller ran one; else the local terraform.tfstate, if any, is read.
    `var_files`: the .tfvars files the stack is planned with (-var-file), in order."""
    tables, config, notes = read_config(folder, var_files)
    how = "terraform show -json" if show is not None else ""
    if show is None:
        try:
            show = read_local_state(folder)
        except RunbookError as exc:
            notes.append(str(exc))
        how = STATE_FILE if show is not None else ""
    findings = merge_state(config, show or {})
    merged_tables = merge_tables(state_tables(show or {}), tables)
    outputs = unwrap_outputs(((show or {}).get("values") or {}).get("outputs") or {})
    facts = StackFacts(folder, merged_tables, findings, outputs, how, notes)
    facts.state_region = state_region(show or {})
    return facts


def resolve_dir(terraform_dir: str | Path) -> Path:
    """The user's Terraform folder: as given, or relative to the project root."""
    from runbook_lib import paths
    from runbook_lib.errors import InvalidInputError

    path = paths.stack_folder(terraform_dir)
    if not path.is_dir():
        raise InvalidInputError(
            f"terraform_dir {str(terraform_dir)!r} is not a folder.",
            hint="pass the folder you run terraform in (-p terraform_dir PATH).",
        )
    if not any(path.glob("*.tf")):
        raise InvalidInputError(f"No *.tf files in {path}.", hint="check terraform_dir.")
    return path.resolve()
