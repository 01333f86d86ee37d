"""The counter item: create-if-missing, read, atomic increment, conditional set.

Every write is a single conditional request: no read-before-write, so concurrent
visitors and operators can never overwrite each other silently.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from botocore.exceptions import ClientError

from runbook_lib import aws
from runbook_lib.aws.errors import from_client_error
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
# Attribute the runbook's conditional set writes beside the count: the id of its last write.
WRITE_TOKEN = "runbookWriteId"


class CountValueError(RunbookError):
    """The item exists but its count is not a non-negative integer."""

    hint = "inspect the item (02_status) and set a valid count with 03_set_count."


@dataclass(frozen=True)
class InitResult:
    created: bool
    value: int | None  # the value now in the table (ours if created, the existing one otherwise)
    raw: dict[str, Any] | None = None


def dynamodb(target: Target | None = None) -> Any:
    return aws.client("dynamodb", aws.session(target.region if target else None))


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


def _retried(exc: ClientError) -> bool:
    """botocore retried this request: an earlier attempt may have been applied and only its
    answer lost, so a failed condition can be our own write meeting itself."""
    return exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0


def init_counter(target: Target, initial: int = 0, *, ddb: Any = None) -> InitResult:
    """Create the item only if it is missing: ONE conditional PutItem, no read first.

    When the item exists the condition fails and DynamoDB hands back the existing item
    (ReturnValuesOnConditionCheckFailure), so the caller learns the live value for free.
    """
    initial = validate_count(initial, "initial")
    ddb = ddb or dynamodb(target)
    try:
        ddb.put_item(
            TableName=target.table,
            Item={**target.key, target.count_attribute: {"N": str(initial)}},
            ConditionExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#k": target.key_name},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            item = exc.response.get("Item")
            mine = {**target.key, target.count_attribute: {"N": str(initial)}}
            if _retried(exc) and item == mine:
                return InitResult(created=True, value=initial)  # our put, its answer lost
            try:
                value = parse_count(item, target.count_attribute) if item else None
            except CountValueError:
                value = None
            return InitResult(created=False, value=value, raw=item)
        raise from_client_error(exc, table=target.table, action="PutItem (init)") from exc
    except Exception as exc:
        raise from_client_error(exc, table=target.table, action="PutItem (init)") from exc
    return InitResult(created=True, value=initial)


def get_item(target: Target, *, ddb: Any = None) -> dict[str, Any] | None:
    """The counter item (wire format), strongly consistent; None if it is missing."""
    ddb = ddb or dynamodb(target)
    try:
        resp = ddb.get_item(TableName=target.table, Key=target.key, ConsistentRead=True)
    except Exception as exc:
        raise from_client_error(exc, table=target.table, action="GetItem") from exc
    return resp.get("Item")


def read_count(target: Target, *, ddb: Any = None) -> int:
    """The live count; ItemMissingError / CountValueError say what to do otherwise."""
    return parse_count(get_item(target, ddb=ddb), target.count_attribute)


def increment(target: Target, by: int = 1, *, ddb: Any = None) -> int:
    """Atomic ADD, as the Lambda does it; creates the item on first use."""
    ddb = ddb or dynamodb(target)
    try:
        resp = ddb.update_item(
            TableName=target.table,
            Key=target.key,
            UpdateExpression="ADD #c :by",
            ExpressionAttributeNames={"#c": target.count_attribute},
            ExpressionAttributeValues={":by": {"N": str(by)}},
            ReturnValues="UPDATED_NEW",
        )
    except Exception as exc:
        raise from_client_error(exc, table=target.table, action="UpdateItem (increment)") from exc
    return int(resp["Attributes"][target.count_attribute]["N"])


def conditional_set(
    target: Target,
    new_value: int,
    *,
    expected_current: int | None = None,
    read_value: int | None = None,
    allow_decrease: bool = True,
    ddb: Any = None,
) -> dict[str, Any]:
    """ONE UpdateItem: SET count = new, only if the item exists (and holds
    expected_current when given; and, with allow_decrease=False, only if the live count is
    not above new: a count that rose since the caller read it is never lowered). Returns
    the old item (ReturnValues=ALL_OLD): the value the write actually replaced.

    Idempotent under botocore's retries: the write carries a fresh token and the condition
    refuses an item that already holds it, so a retry after a lost answer never applies
    the SET twice (which would wipe the visits counted in between); it is recognised as
    our own write and reported done. Its old value is then expected_current, or
    `read_value` (what the caller read just before) for a forced set.

    The safe write path every set and restore goes through; it does not back up or
    check confirmation itself (callers do, before calling it).
    """
    new_value = validate_count(new_value)
    ddb = ddb or dynamodb(target)
    # A token written with the count tells our own applied write (whose answer was lost,
    # then retried by botocore into its own condition) apart from a real conflict.
    token = uuid.uuid4().hex
    names = {"#k": target.key_name, "#c": target.count_attribute, "#w": WRITE_TOKEN}
    values: dict[str, Any] = {":new": {"N": str(new_value)}, ":w": {"S": token}}
    condition = "attribute_exists(#k) AND (attribute_not_exists(#w) OR #w <> :w)"
    if expected_current is not None:
        expected_current = validate_count(expected_current, "expected_current")
        condition += " AND #c = :expected"
        values[":expected"] = {"N": str(expected_current)}
    if not require_flag("allow_decrease", allow_decrease):
        # a count that is not a number (being repaired) or absent has nothing to lose
        condition += " AND (NOT attribute_type(#c, :num) OR #c <= :new)"
        values[":num"] = {"S": "N"}
    try:
        resp = ddb.update_item(
            TableName=target.table,
            Key=target.key,
            UpdateExpression="SET #c = :new, #w = :w",
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            item = exc.response.get("Item")
            if item is None:
                # moto and older endpoints may not return the item: ask once, after the fact.
                item = get_item(target, ddb=ddb)
            if _retried(exc) and (item or {}).get(WRITE_TOKEN) == {"S": token}:
                # our own SET was applied and its answer lost: report it done, with the old
                # value the condition guaranteed (visits since then only added to it)
                was = expected_current if expected_current is not None else read_value
                old = {k: v for k, v in item.items() if k != target.count_attribute}
                if was is not None:
                    old[target.count_attribute] = {"N": str(was)}
                return old
            if item is None:
                raise ItemMissingError(
                    f"The counter item {target.key_label} does not exist "
                    f"in {target.table}; nothing was written."
                ) from exc
            live = item.get(target.count_attribute, {}).get("N")
            if expected_current is None and not allow_decrease:
                raise DecreaseRefusedError(
                    f"Refusing to lower {target.count_attribute} in {target.table} from {live} "
                    f"(live: it rose before the write) to {new_value}: the visits would be "
                    "lost. Nothing was written.",
                ) from exc
            raise CountConflictError(
                f"The count moved: expected {expected_current}, live value is {live}. "
                "Nothing was written.",
                live_value=live,
            ) from exc
        raise from_client_error(exc, table=target.table, action="UpdateItem (set)") from exc
    except Exception as exc:
        raise from_client_error(exc, table=target.table, action="UpdateItem (set)") from exc
    return resp.get("Attributes", {})


def refuse_decrease(
    target: Target, live: int, restored: int, source: str, *, allow_decrease: bool
) -> None:
    """The one rule every restore shares: never lower the live count unless told to."""
    require_flag("allow_decrease", allow_decrease)
    if restored < live and not allow_decrease:
        raise DecreaseRefusedError(
            f"Refusing to lower {target.count_attribute} in {target.table} from {live} (live) "
            f"to {restored} ({source}): visits counted since then would be lost. "
            "Nothing was written."
        )


def require_flag(name: str, value: Any) -> bool:
    """A True/False switch, strictly: the string "False" is truthy in Python, and a switch
    that guards a write must never be read the wrong way round."""
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be True or False, got {value!r}.")
    return value


def require_confirmation(target: Target, dry_run: bool, confirm: str | None) -> bool:
    """True when a write may go ahead. Dry runs return False; a real run needs
    confirm == table name, otherwise ConfirmationError (nothing written)."""
    if require_flag("dry_run", dry_run):
        return False
    if confirm != target.table:
        raise _confirm_error(target, confirm)
    return True


def _confirm_error(target: Target, confirm: str | None) -> RunbookError:
    from runbook_lib.errors import ConfirmationError

    got = "nothing" if not confirm else repr(confirm)
    return ConfirmationError(
        f"Refusing to write: confirm must equal the table name {target.table!r}, got {got}. "
        "Nothing was written.",
        hint=f"re-run with -p dry_run False -p confirm {target.table}.",
    )


@dataclass(frozen=True)
class InitOutcome:
    dry_run: bool
    created: bool
    value: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "created": self.created,
            "value": self.value,
            "message": self.message,
        }

    def __str__(self) -> str:
        return self.message


def init_step(
    target: Target,
    initial: int = 0,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    ddb: Any = None,
) -> InitOutcome:
    """The runbook's init: a dry run says what would happen (one read); a confirmed run
    is the single conditional PutItem, a no-op on an existing item."""
    initial = validate_count(initial, "initial_value")
    ddb = ddb or dynamodb(target)
    if not require_confirmation(target, dry_run, confirm):
        item = get_item(target, ddb=ddb)
        if item is None:
            msg = (
                f"DRY RUN: the item {target.key_label} is missing; a "
                f"confirmed run would create it with {target.count_attribute} = {initial}."
            )
            return InitOutcome(True, False, None, msg)
        value = parse_count(item, target.count_attribute)
        msg = (
            f"DRY RUN: the item exists with {target.count_attribute} = {value}; "
            "init would do nothing."
        )
        return InitOutcome(True, False, value, msg)
    result = init_counter(target, initial, ddb=ddb)
    if not result.created and result.value is None and result.raw is not None:
        stored = result.raw.get(target.count_attribute)
        msg = (
            f"The item already exists but its {target.count_attribute} is not a number "
            f"(stored as {stored!r}); left untouched. Next step: repair it with 03_set_count."
        )
        return InitOutcome(False, False, None, msg)
    if result.created:
        msg = f"Created {target.key_label} with {target.count_attribute} = {initial}."
    else:
        msg = (
            f"The item already exists with {target.count_attribute} = {result.value}; "
            "left untouched (no-op)."
        )
    return InitOutcome(False, result.created, result.value, msg)
