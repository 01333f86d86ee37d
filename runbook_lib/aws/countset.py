"""The conditional set's request and its refusals, pure (aws/counter.py `conditional_set`
sends it): the condition is the whole safety rule, the refusal says which part failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runbook_lib.aws.types import UpdateItemInputTypeDef
from runbook_lib.aws.writetoken import Item, WriteToken
from runbook_lib.errors import (
    CountConflictError,
    DecreaseRefusedError,
    ItemMissingError,
    RunbookError,
)
from runbook_lib.formats.countvalue import (
    COUNT_TYPES,
    CountTypeError,
    holds_count,
    shown,
    type_of,
    validate_count,
    wire,
)
from runbook_lib.model import Target


@dataclass(frozen=True)
class SetSpec:
    """One conditional set: what it writes and what its condition requires."""

    new: int
    expected: int | None
    read: int | None
    may_lower: bool
    kind: str  # the type written: N or S
    over: str  # the type the live count must have (or be absent): `kind`, or a repaired one's
    # the live count as read (wire; None: absent): a string count not to be lowered must
    # still hold it, strings compare as text ("100" < "60")
    read_wire: dict[str, Any] | None = None


def spec(
    target: Target,
    new: Any,
    *,
    expected: Any,
    read: int | None,
    allow_decrease: Any,
    count_type: str | None,
    over_type: str | None,
    replaces: dict[str, Any] | None = None,
) -> SetSpec:
    """The set asked for, checked: whole numbers, a count type, no N <-> S change, and no
    count the request knows lowered without allow_decrease: expected_current (its condition
    pins the live count to it, so "not above new" is decided here) or a string count as read
    (its condition cannot compare numbers)."""
    kind = count_type or target.count_type
    if kind not in COUNT_TYPES:
        raise ValueError(f"a count is written as N or S, not {kind!r}")
    over = over_type or kind
    if over in COUNT_TYPES and over != kind:
        raise CountTypeError(
            f"{target.count_attribute} in {target.table} is stored as {over}: writing it as "
            f"{kind} would change its type. Nothing was written.",
            count_type=over,
        )
    if expected is not None:
        expected = validate_count(expected, "expected_current")
    read_wire = replaces if replaces is not None else None if read is None else wire(read, kind)
    done = SetSpec(
        validate_count(new), expected, read, allow_decrease is True, kind, over, read_wire
    )
    string = read_wire if kind == "S" and read_wire and holds_count(read_wire) else None
    string_read = int(string["S"]) if string else None
    for was in (done.expected, string_read):
        if not done.may_lower and was is not None and was > done.new:
            raise DecreaseRefusedError(
                f"Refusing to lower {target.count_attribute} in {target.table} from {was} to "
                f"{done.new}: the visits would be lost. Nothing was written."
            )
    return done


def set_request(target: Target, spec: SetSpec, token: WriteToken) -> UpdateItemInputTypeDef:
    """The UpdateItem of a conditional set: its condition is the whole safety rule."""
    names = {"#k": target.key_name, "#c": target.count_attribute, **token.names}
    values: dict[str, Any] = {":new": wire(spec.new, spec.kind), **token.values}
    # the type is in the condition too: whatever happened since the read, no type change
    condition = (
        f"attribute_exists(#k) AND {token.NOT_YET_WRITTEN} "
        "AND (attribute_not_exists(#c) OR attribute_type(#c, :was))"
    )
    values[":was"] = {"S": spec.over}
    if spec.expected is not None:
        condition += " AND #c = :expected"
        values[":expected"] = wire(spec.expected, spec.kind)
    elif not spec.may_lower and spec.kind == "N":
        # a count that is not a number (being repaired) or absent has nothing to lose
        condition += " AND (NOT attribute_type(#c, :num) OR #c <= :new)"
        values[":num"] = {"S": "N"}
    elif not spec.may_lower and spec.read_wire is not None:
        condition += " AND #c = :read"  # checked not above new (`spec`): still that value
        values[":read"] = spec.read_wire
    elif not spec.may_lower:  # nothing read: only where there is no count to lower
        condition += " AND attribute_not_exists(#c)"
    return {
        "TableName": target.table,
        "Key": target.key,
        "UpdateExpression": "SET #c = :new, #w = :w",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_OLD",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def set_refused(
    target: Target, spec: SetSpec, allow_decrease: Any, live: Item | None
) -> RunbookError:
    """Why a conditional set was refused: the item is missing, its count changed type, or
    its count moved."""
    attr, table = target.count_attribute, target.table
    if live is None:
        return ItemMissingError(
            f"The counter item {target.key_label} does not exist in {table}; nothing was written."
        )
    value = live.get(attr)
    kind = type_of(value)
    if value is not None and kind != spec.over:
        return CountTypeError(
            f"{attr} in {table} changed type before the write: it is now {shown(value)}; the "
            f"write was of type {spec.kind}. Nothing was written.",
            count_type=kind or "",
            hint="read the item again (02_status) before writing.",
        )
    count = value[kind] if value is not None and kind else None
    if spec.expected is None and allow_decrease is not True and spec.kind == "N":
        return DecreaseRefusedError(
            f"Refusing to lower {attr} in {table} from {count} (live: it rose before the "
            f"write) to {spec.new}: the visits would be lost. Nothing was written.",
        )
    expected: Any = spec.expected if spec.expected is not None else spec.read
    if expected is None:  # a string count's repair: what was read, as it was
        expected = shown(spec.read_wire)
    return CountConflictError(
        f"The count moved: expected {expected}, live value is {count}. Nothing was written.",
        live_value=count,
    )
