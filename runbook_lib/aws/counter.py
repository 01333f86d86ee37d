"""The counter item's AWS calls: create-if-missing, read, atomic increment, conditional set,
and the conditional puts of a restore.

Every write is a single conditional request: no read-before-write, so concurrent
visitors and operators can never overwrite each other silently. A write whose answer was
lost is recognised (aws/writetoken.py): reported done, never applied twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runbook_lib import aws
from runbook_lib.aws import countset
from runbook_lib.aws.errors import mapped
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.aws.writetoken import Item, WriteToken, Written, grown_from, write_once
from runbook_lib.errors import CountConflictError, ItemMissingError
from runbook_lib.formats.countvalue import MAX_COUNT as MAX_COUNT
from runbook_lib.formats.countvalue import (  # the count's rules, pure; callers name them here
    CountTypeError,
    StoredCount,
    shown,
    stored_count,
    type_of,
    wire,
)
from runbook_lib.formats.countvalue import CountValueError as CountValueError
from runbook_lib.formats.countvalue import parse_count as parse_count
from runbook_lib.formats.countvalue import validate_count as validate_count
from runbook_lib.model import Target

MAX_INCREMENT_ROUNDS = 20  # compare-and-set rounds of a string count's increment


@dataclass(frozen=True)
class InitResult:
    created: bool
    value: int | None  # the value now in the table (ours if created, the existing one otherwise)
    raw: dict[str, Any] | None = None


def dynamodb(target: Target | None = None) -> DynamoDBClient:
    """The DynamoDB client for the target's region (the factory's, aws/clients.py)."""
    return aws.client("dynamodb", region=target.region if target else None)


def init_counter(
    target: Target, initial: int = 0, *, ddb: DynamoDBClient | None = None
) -> InitResult:
    """Create the item only if it is missing: ONE conditional PutItem, no read first. When
    the item exists, DynamoDB hands it back with the failed condition: its value, for free."""
    initial = validate_count(initial, "initial")
    ddb = ddb or dynamodb(target)
    item = {**target.key, target.count_attribute: wire(initial, target.count_type)}
    done = put_item_if_missing(target, item, ddb=ddb, action="PutItem (init)")
    if done.applied:
        return InitResult(created=True, value=initial)
    value = count_of(done.live, target.count_attribute)
    return InitResult(created=False, value=value, raw=done.live)


def put_item_if_missing(
    target: Target,
    item: Item,
    *,
    ddb: DynamoDBClient | None = None,
    action: str = "PutItem (restore)",
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


def get_item(target: Target, *, ddb: DynamoDBClient | None = None) -> Item | None:
    """The counter item (wire format), strongly consistent; None if it is missing."""
    ddb = ddb or dynamodb(target)
    with mapped("GetItem", table=target.table):
        resp = ddb.get_item(TableName=target.table, Key=target.key, ConsistentRead=True)
    return resp.get("Item")


def read_count(target: Target, *, ddb: DynamoDBClient | None = None) -> int:
    """The live count; ItemMissingError / CountValueError say what to do otherwise."""
    return parse_count(get_item(target, ddb=ddb), target.count_attribute)


def read_stored(target: Target, *, ddb: DynamoDBClient | None = None) -> StoredCount:
    """The live count and the type it is stored as (N, or S for a site writing str(n))."""
    return stored_count(get_item(target, ddb=ddb), target.count_attribute)


def count_of(item: Item | None, attribute: str) -> int | None:
    """The count an item holds, or None: THE rule of every "count or None" reader.

    - the item is missing (None): None;
    - the item has no `attribute`: None;
    - a number (N) holding a whole, non-negative number: that int;
    - a string (S) holding one as `str(n)` writes it ("57"; not "057", " 5" or "-3"): its int;
    - anything else (another type, a fraction, a negative, other text): None.

    None says only "no count to read": a caller that must tell those cases apart (a missing
    item is refused, a value that is no count is repaired or refused) reads the item and
    asks `parse_count`, which raises saying which it is. Pure: the item as already read."""
    try:
        return parse_count(item, attribute)
    except (CountValueError, ItemMissingError):
        return None


def read_count_or_none(target: Target, *, ddb: DynamoDBClient | None = None) -> int | None:
    """The live count by `count_of`'s rule (None: no item, no count, or no valid count);
    `read_count` is the same read when anything but a count is an error."""
    return count_of(get_item(target, ddb=ddb), target.count_attribute)


def increment(target: Target, by: int = 1, *, ddb: DynamoDBClient | None = None) -> int:
    """Atomic ADD, as the Lambda does it; creates the item on first use. DynamoDB refuses an
    ADD on a string: a string count (`count_type` S) is counted as a site writing str(n)
    counts, read then write, with a compare-and-set on the value read."""
    ddb = ddb or dynamodb(target)
    if target.count_type == "S":
        return _increment_string(target, by, ddb)
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


def _increment_string(target: Target, by: int, ddb: DynamoDBClient) -> int:
    attr = target.count_attribute
    for _ in range(MAX_INCREMENT_ROUNDS):
        item = get_item(target, ddb=ddb)
        was = (item or {}).get(attr)
        if was is not None and type_of(was) != "S":
            raise CountTypeError(
                f"{attr} in {target.table} is {shown(was)}, not a string count: a string "
                "increment would change its type.",
                count_type=type_of(was) or "",
            )
        new = (parse_count(item, attr) if was is not None else 0) + by
        same = ("#c = :was", {":was": was}) if was else ("attribute_not_exists(#c)", {})
        try:
            with mapped("UpdateItem (increment)", table=target.table):
                ddb.update_item(
                    TableName=target.table,
                    Key=target.key,
                    UpdateExpression="SET #c = :new",
                    ConditionExpression=same[0],
                    ExpressionAttributeNames={"#c": attr},
                    ExpressionAttributeValues={":new": wire(new, "S"), **same[1]},
                )
            return new
        except CountConflictError:  # another visit wrote first: count again on top of it
            continue
    raise CountConflictError(f"{attr} in {target.table} kept moving; not incremented.")


def conditional_set(
    target: Target,
    new_value: int,
    *,
    expected_current: int | None = None,
    read_value: int | None = None,
    allow_decrease: bool = False,
    count_type: str | None = None,
    over_type: str | None = None,
    replaces: Item | None = None,
    ddb: DynamoDBClient | None = None,
) -> Item:
    """ONE UpdateItem: SET count = new, only if the item exists (and holds
    expected_current when given; and, unless allow_decrease is True, only if the live count
    is not above new: a count that rose since the caller read it is never lowered). Returns
    the old item (ReturnValues=ALL_OLD): the value the write actually replaced.

    allow_decrease defaults to False, as every caller's own flag does: a write lowers the
    count only when its caller says so on purpose (DecreaseRefusedError otherwise, nothing
    written), so a forgotten argument can never lose visits.

    The write keeps the count's type: `count_type` (None: the target's) is written, and the
    condition requires the live count to be absent or of `over_type` (the type the caller
    read, when it repairs a value that is no count, a BOOL say; None: `count_type`). N over
    S or S over N is refused before anything is sent (CountTypeError). A string compares as
    text ("100" < "60"), so a string count not to be lowered must still hold what was read:
    `replaces` (the count attribute's value as read, wire format) or `read_value`.

    Idempotent under botocore's retries (aws/writetoken.py): a retry after a lost answer is
    recognised as our own write and reported done. Its old value is then expected_current,
    or `read_value` (what the caller read just before) for a forced set.

    The safe write path every set and restore goes through; it does not back up or
    check confirmation itself (callers do, before calling it).
    """
    spec = countset.spec(
        target, new_value, expected=expected_current, read=read_value,
        allow_decrease=allow_decrease, count_type=count_type, over_type=over_type,
        replaces=replaces,
    )  # fmt: skip
    ddb = ddb or dynamodb(target)
    token = WriteToken()
    request = countset.set_request(target, spec, token)
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
        was = spec.expected if spec.expected is not None else spec.read
        old = {k: v for k, v in (done.live or {}).items() if k != target.count_attribute}
        return {**old, target.count_attribute: wire(was, spec.kind)} if was is not None else old
    raise countset.set_refused(target, spec, allow_decrease, done.live)


def put_counter_item(
    target: Target, item: Item, live: Item | None, *, ddb: DynamoDBClient | None = None
) -> None:
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
