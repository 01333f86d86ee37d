"""The counter item's AWS calls: create-if-missing, read, atomic increment, conditional set,
and the conditional puts of a restore.

Every write is a single conditional request: no read-before-write, so concurrent
visitors and operators can never overwrite each other silently. A write whose answer was
lost is recognised (aws/writetoken.py): reported done, never applied twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from runbook_lib import aws
from runbook_lib.aws.errors import mapped
from runbook_lib.aws.writetoken import Item, WriteToken, Written, grown_from, write_once
from runbook_lib.errors import (
    CountConflictError,
    DecreaseRefusedError,
    InvalidInputError,
    ItemMissingError,
    RunbookError,
)
from runbook_lib.target.model import Target

# DynamoDB numbers hold up to 38 significant digits; a count must fit as an integer.
MAX_COUNT = 10**38 - 1


class CountValueError(RunbookError):
    """The item exists but its count is not a non-negative integer."""

    hint = "inspect the item (02_status) and set a valid count with 03_set_count."


@dataclass(frozen=True)
class InitResult:
    created: bool
    value: int | None  # the value now in the table (ours if created, the existing one otherwise)
    raw: dict[str, Any] | None = None


def dynamodb(target: Target | None = None) -> Any:
    """The DynamoDB client for the target's region (the factory's, aws/clients.py)."""
    return aws.client("dynamodb", region=target.region if target else None)


def parse_count(item: dict[str, Any] | None, attribute: str) -> int:
    """The count as an int from a wire-format item; CountValueError if it isn't one."""
    if item is None:
        raise ItemMissingError("The counter item does not exist.")
    if attribute not in item:
        raise CountValueError(f"The item has no {attribute!r} attribute: {sorted(item)}.")
    value = item[attribute]
    if "N" not in value:
        kind = next(iter(value), "?")
        raise CountValueError(
            f"{attribute} is stored as type {kind} ({value.get(kind)!r}), not a number."
        )
    try:
        number = Decimal(value["N"])
    except InvalidOperation as exc:
        raise CountValueError(f"{attribute} = {value['N']!r} is not a number.") from exc
    if number != number.to_integral_value():
        raise CountValueError(f"{attribute} = {value['N']} is not a whole number.")
    if number < 0:
        raise CountValueError(f"{attribute} = {value['N']} is negative.")
    return int(number)


def validate_count(value: Any, name: str = "new_value") -> int:
    """A count a user asked for: a non-negative int within DynamoDB's number range."""
    if isinstance(value, bool) or value is None:
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}.")
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("+").isdigit():
            raise InvalidInputError(f"{name} must be a whole number, got {value!r}.")
        value = int(text)
    elif isinstance(value, float):
        if not value.is_integer():
            raise InvalidInputError(f"{name} must be a whole number, got {value!r}.")
        value = int(value)
    elif isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise InvalidInputError(f"{name} must be a whole number, got {value!r}.")
        value = int(value)
    elif not isinstance(value, int):
        raise InvalidInputError(f"{name} must be a whole number, got {type(value).__name__}.")
    if value < 0:
        raise InvalidInputError(f"{name} must not be negative, got {value}.")
    if value > MAX_COUNT:
        raise InvalidInputError(
            f"{name} has {len(str(value))} digits; DynamoDB numbers hold at most 38."
        )
    return value


def init_counter(target: Target, initial: int = 0, *, ddb: Any = None) -> InitResult:
    """Create the item only if it is missing: ONE conditional PutItem, no read first. When
    the item exists, DynamoDB hands it back with the failed condition: its value, for free."""
    initial = validate_count(initial, "initial")
    ddb = ddb or dynamodb(target)
    item = {**target.key, target.count_attribute: {"N": str(initial)}}
    done = put_item_if_missing(target, item, ddb=ddb, action="PutItem (init)")
    if done.applied:
        return InitResult(created=True, value=initial)
    try:
        value = parse_count(done.live, target.count_attribute) if done.live else None
    except CountValueError:
        value = None
    return InitResult(created=False, value=value, raw=done.live)


def put_item_if_missing(
    target: Target, item: Item, *, ddb: Any = None, action: str = "PutItem (restore)"
) -> Written:
    """ONE conditional PutItem of `item` (with a write token): only if the counter item is
    missing. `applied` is True when it was written (a lost answer included); otherwise
    `live` is the item that was there."""
    ddb = ddb or dynamodb(target)
    token = WriteToken()
    return write_once(
        lambda: ddb.put_item(
            TableName=target.table,
            Item=token.stamp(item),
            ConditionExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#k": target.key_name},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
        token.held_by,
        reread=lambda: get_item(target, ddb=ddb),
        action=action,
        table=target.table,
    )


def get_item(target: Target, *, ddb: Any = None) -> Item | None:
    """The counter item (wire format), strongly consistent; None if it is missing."""
    ddb = ddb or dynamodb(target)
    with mapped("GetItem", table=target.table):
        resp = ddb.get_item(TableName=target.table, Key=target.key, ConsistentRead=True)
    return resp.get("Item")


def read_count(target: Target, *, ddb: Any = None) -> int:
    """The live count; ItemMissingError / CountValueError say what to do otherwise."""
    return parse_count(get_item(target, ddb=ddb), target.count_attribute)


def increment(target: Target, by: int = 1, *, ddb: Any = None) -> int:
    """Atomic ADD, as the Lambda does it; creates the item on first use."""
    ddb = ddb or dynamodb(target)
    with mapped("UpdateItem (increment)", table=target.table):
        resp = ddb.update_item(
            TableName=target.table,
            Key=target.key,
            UpdateExpression="ADD #c :by",
            ExpressionAttributeNames={"#c": target.count_attribute},
            ExpressionAttributeValues={":by": {"N": str(by)}},
            ReturnValues="UPDATED_NEW",
        )
    return int(resp["Attributes"][target.count_attribute]["N"])


def conditional_set(
    target: Target,
    new_value: int,
    *,
    expected_current: int | None = None,
    read_value: int | None = None,
    allow_decrease: bool = True,
    ddb: Any = None,
) -> Item:
    """ONE UpdateItem: SET count = new, only if the item exists (and holds
    expected_current when given; and, unless allow_decrease is True, only if the live count
    is not above new: a count that rose since the caller read it is never lowered). Returns
    the old item (ReturnValues=ALL_OLD): the value the write actually replaced.

    Idempotent under botocore's retries (aws/writetoken.py): a retry after a lost answer is
    recognised as our own write and reported done. Its old value is then expected_current,
    or `read_value` (what the caller read just before) for a forced set.

    The safe write path every set and restore goes through; it does not back up or
    check confirmation itself (callers do, before calling it).
    """
    new_value = validate_count(new_value)
    if expected_current is not None:
        expected_current = validate_count(expected_current, "expected_current")
    ddb = ddb or dynamodb(target)
    token = WriteToken()
    request = _set_request(target, new_value, expected_current, allow_decrease is True, token)
    done = write_once(
        lambda: ddb.update_item(**request),
        token.held_by,
        reread=lambda: get_item(target, ddb=ddb),
        action="UpdateItem (set)",
        table=target.table,
    )
    if done.response is not None:
        return done.response.get("Attributes", {})
    if done.applied:  # our SET, its answer lost: the old value the condition guaranteed
        was = expected_current if expected_current is not None else read_value
        old = {k: v for k, v in (done.live or {}).items() if k != target.count_attribute}
        return {**old, target.count_attribute: {"N": str(was)}} if was is not None else old
    raise _set_refused(target, new_value, expected_current, allow_decrease, done.live)


def _set_request(
    target: Target, new: int, expected: int | None, may_lower: bool, token: WriteToken
) -> dict[str, Any]:
    """The UpdateItem of a conditional set: its condition is the whole safety rule."""
    names = {"#k": target.key_name, "#c": target.count_attribute, **token.names}
    values: dict[str, Any] = {":new": {"N": str(new)}, **token.values}
    condition = f"attribute_exists(#k) AND {token.NOT_YET_WRITTEN}"
    if expected is not None:
        condition += " AND #c = :expected"
        values[":expected"] = {"N": str(expected)}
    if not may_lower:
        # a count that is not a number (being repaired) or absent has nothing to lose
        condition += " AND (NOT attribute_type(#c, :num) OR #c <= :new)"
        values[":num"] = {"S": "N"}
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


def _set_refused(
    target: Target, new: int, expected: int | None, allow_decrease: Any, live: Item | None
) -> RunbookError:
    """Why a conditional set was refused: the item is missing, or its count moved."""
    if live is None:
        return ItemMissingError(
            f"The counter item {target.key_label} does not exist "
            f"in {target.table}; nothing was written."
        )
    count = live.get(target.count_attribute, {}).get("N")
    if expected is None and allow_decrease is not True:
        return DecreaseRefusedError(
            f"Refusing to lower {target.count_attribute} in {target.table} from {count} "
            f"(live: it rose before the write) to {new}: the visits would be "
            "lost. Nothing was written.",
        )
    return CountConflictError(
        f"The count moved: expected {expected}, live value is {count}. Nothing was written.",
        live_value=count,
    )


def put_counter_item(target: Target, item: Item, live: Item | None, *, ddb: Any = None) -> None:
    """A table restore's counter item: ONE conditional PutItem of the exported item, only
    if the counter still holds what was read (`live`; or is still missing), so a visit
    counted meanwhile is never silently overwritten; CountConflictError otherwise.

    A table restore writes the export's items exactly as exported and verifies them, so this
    put carries no token: its own write is recognised by the item itself (writetoken.py)."""
    ddb = ddb or dynamodb(target)
    request = {"TableName": target.table, "Item": item, **_unchanged_since(target, live)}
    done = write_once(
        lambda: ddb.put_item(**request, ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        grown_from(item, target.count_attribute),
        reread=lambda: get_item(target, ddb=ddb),
        action="PutItem (restore)",
        table=target.table,
    )
    if not done.applied:
        raise CountConflictError(
            f"The counter in {target.table} changed during the restore; the counter item "
            "was not written (the other items were).",
            hint="re-run the restore: it reads the live count again.",
        )


def _unchanged_since(target: Target, live: Item | None) -> dict[str, Any]:
    """The condition (and its names, values) that the counter item is still `live`."""
    key, count = target.key_name, target.count_attribute
    values = None
    if live is None:
        condition, names = "attribute_not_exists(#k)", {"#k": key}
    elif count in live:
        condition, names, values = "#c = :old", {"#c": count}, {":old": live[count]}
    else:
        condition = "attribute_exists(#k) AND attribute_not_exists(#c)"
        names = {"#k": key, "#c": count}
    request = {"ConditionExpression": condition, "ExpressionAttributeNames": names}
    return request | ({"ExpressionAttributeValues": values} if values else {})
