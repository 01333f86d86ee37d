"""The target's fields as the stack given as `terraform_dir` says them (see `resolve`):
its table, the counter item's typed key and count attribute (a number, or a whole number
written as a string), the table's key schema, the region its provider (or its state's ARN)
names, its outputs. Where the stack manages several counter items, one is chosen (the one
key_value / range_key_value name, else the first by address) and the notes say which,
list the others and how to pick another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbook_lib.errors import InvalidInputError, TargetConflictError, TerraformError
from runbook_lib.resolve.sources import TF_OUTPUTS, Resolution
from runbook_lib.tf import stackconfig, stackmodel, stackread
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.workspace import shadow_show

Fields = dict[str, tuple[Any, str]]


def from_stack(
    folder: Path, found: Resolution, var_files: tuple[Path, ...] = (), remote: bool = True
) -> Fields:
    """The counter the stack in `folder` describes; notes added to `found`. `remote`:
    read a backend's state through Terraform (else, or when that fails, the configuration
    alone answers, and the notes say so)."""
    show = _remote_show(folder, found) if remote else None
    facts = stackread.read_stack(folder, show=show, var_files=var_files)
    label = f"stack {folder.name} ({facts.state or 'configuration'})"
    table = _stack_table(facts, found, folder)
    out: Fields = {"table": (table, label)}
    out.update(_item_fields(facts, table, label, found))
    if "key_value" not in out:  # why the stack named no item: a for_each it could not expand
        found.notes += [n for n in facts.notes if "aws_dynamodb_table_item" in n]
    for t in facts.tables:
        if t.name == table:
            out.setdefault("key_name", (t.hash_key, label))
            out.setdefault("key_type", (t.hash_type, label))
            if t.range_key:
                out.setdefault("range_key_name", (t.range_key, label))
                out.setdefault("range_key_type", (t.range_type, label))
    out.update(_region(facts, table, folder.name, found))
    if facts.outputs.get("table_name") in (None, table):
        for name, output in TF_OUTPUTS.items():
            out.setdefault(name, (facts.outputs.get(output), f"stack {folder.name} output"))
    return out


def _remote_show(folder: Path, found: Resolution) -> dict[str, Any] | None:
    """`terraform show -json` for a stack whose state is not a local file (a backend)."""
    if (folder / stackmodel.STATE_FILE).is_file() or not stackconfig.has_backend(folder):
        return None
    if find_terraform() is None:
        return None
    try:
        return shadow_show(folder)
    except TerraformError as exc:  # the target is still the configuration's; 02 says more
        why = str(exc).split("\n")[0][:200]
        found.notes.append(f"the state of {folder.name} (its backend) was not read: {why}")
        return None


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


# --------------------------------------------------------------------------- the item


def counters(f: stackmodel.Finding) -> list[str]:
    """The item's count attributes (numbers, or whole numbers written as strings)."""
    return stackmodel.count_attributes(f.recorded or f.item, set(f.key or {}))


def _values(f: stackmodel.Finding) -> list[str]:
    return [str(next(iter(v.values()))) for v in (f.key or {}).values()]


def _item_fields(facts: stackmodel.StackFacts, table: str, label: str, found: Resolution) -> Fields:
    """Key, count attribute and count type from the stack's counter item for `table`."""
    mine = (f for f in facts.findings if f.table == table and f.key and not f.no_instance)
    items = sorted(mine, key=_order)
    if not items:
        return {}
    many = [f for f in items if counters(f)]
    wanted = [found.values.get("key_value"), found.values.get("range_key_value")]
    named = [f for f in items if _matches(f, wanted)]
    f = named[0] if named else items[0]
    if len(many) > 1 and f in many:
        found.notes.append(several_counters(f, many, table))
    key = f.key or {}
    names = list(key)
    out: Fields = {
        "key_name": (names[0], label),
        "key_type": (stackmodel.scalar_type(key[names[0]]), label),
        "key_value": (next(iter(key[names[0]].values())), label),
    }
    if len(names) > 1:
        out["range_key_name"] = (names[1], label)
        out["range_key_type"] = (stackmodel.scalar_type(key[names[1]]), label)
        out["range_key_value"] = (next(iter(key[names[1]].values())), label)
    attrs = counters(f)
    attribute = found.values.get("count_attribute") or (attrs[0] if len(attrs) == 1 else None)
    if len(attrs) == 1:
        out["count_attribute"] = (attrs[0], label)
    kind = stackmodel.count_type(f.recorded or f.item, attribute)
    if kind:
        out["count_type"] = (kind, label)
    return out


def _order(f: stackmodel.Finding) -> tuple[bool, str]:
    return (not counters(f), f.address)  # counter items first, then by address


def _matches(f: stackmodel.Finding, wanted: list[Any]) -> bool:
    given = [(w, v) for w, v in zip(wanted, _values(f), strict=False) if w not in (None, "")]
    return bool(given) and all(str(w) == v for w, v in given)


def several_counters(
    chosen: stackmodel.Finding, items: list[stackmodel.Finding], table: str
) -> str:
    """The banner's note: which counter item this run looks at, the others, how to pick."""
    others = [f for f in items if f.address != chosen.address]
    listed = "; ".join(f"{f.address} ({f.key_label})" for f in others)
    mine = _values(chosen)
    first = others[0]
    theirs = _values(first)
    if theirs[0] != mine[0]:
        pick = f"-p key_value {theirs[0]}"
        pick += f" -p range_key_value {theirs[1]}" if len(theirs) > 1 else ""
    else:
        pick = f"-p range_key_value {theirs[1]}" if len(theirs) > 1 else "-p key_value ..."
    return (
        f"the stack manages {len(items)} counter items in {table}: this run's checks look at "
        f"{chosen.address} ({chosen.key_label}); the others: {listed}; pick another with "
        f"{pick}"
    )


# --------------------------------------------------------------------------- the region


def _region(facts: stackmodel.StackFacts, table: str, stack: str, found: Resolution) -> Fields:
    """The region the stack puts `table` in: its provider's `region` (the table's, else
    the item's), else the region in the state's ARN of the table, else of the whole state."""
    tdef = next((t for t in facts.tables if t.name == table), None)
    configured = [(tdef.region, tdef.region_source)] if tdef else []
    configured += [(f.region, f.region_source) for f in facts.findings if f.table == table]
    region, how = next(((r, h) for r, h in configured if r), (None, ""))
    arn = tdef.arn_region if tdef else None
    if region is None and (arn or facts.state_region):
        region = arn or facts.state_region
        how = "state ARN" if arn else "state ARNs"
    if region is None:
        return {}
    source = f"stack {stack} {how}"
    if arn and arn != region:
        found.notes.append(
            f"the state's ARN of {table} names {arn}, its provider now says {region}: an apply "
            "with these variables would move the table; pass the stack's var files "
            "(-p var_files) if they set the region"
        )
    given = found.values.get("region")
    if given and given != region:
        found.sources["stack_region"] = f"{region} ({source})"
    return {"region": (region, source)}
