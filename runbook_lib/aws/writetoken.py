"""The one answer to "was this our own write whose answer was lost?".

A conditional write can be applied by DynamoDB while its answer is lost (a 500 after the
write, a dropped connection); botocore then retries the same request, which meets its own
write and fails the condition. Every conditional write of the counter item therefore carries
a fresh token beside the count (`runbookWriteId`) and refuses an item that already holds it:
a failed condition whose item (handed back, or read once after the fact) holds our token was
our own write, applied exactly once. Nobody else knows the token, so this never mistakes
another writer's item for ours, and the retry never applies the write a second time (which
would wipe the visits counted in between).

`write_once` is the one place that asks the question. One write carries no token: a table
restore puts the exported counter item exactly as exported (it verifies the table against
the export), so its own write is recognised by the item itself (`grown_from`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook_lib.aws.errors import mapped
from runbook_lib.errors import ConditionFailedError
from runbook_lib.formats.countvalue import grew

# The attribute the runbook writes beside the count: the id of its last write.
WRITE_TOKEN = "runbookWriteId"
Item = dict[str, Any]


@dataclass(frozen=True)
class WriteToken:
    """One write's token, and the request parts that carry it (`#w`, `:w`)."""

    value: str = field(default_factory=lambda: uuid.uuid4().hex)

    # refuses an item that already holds this write: a retry is never applied twice
    NOT_YET_WRITTEN = "(attribute_not_exists(#w) OR #w <> :w)"

    @property
    def names(self) -> dict[str, str]:
        return {"#w": WRITE_TOKEN}

    @property
    def values(self) -> dict[str, Any]:
        return {":w": {"S": self.value}}

    def stamp(self, item: Item) -> Item:
        """The item to put, with this write's token beside its attributes."""
        return {**item, WRITE_TOKEN: {"S": self.value}}

    def held_by(self, item: Item | None) -> bool:
        return (item or {}).get(WRITE_TOKEN) == {"S": self.value}


@dataclass(frozen=True)
class Written:
    """What a conditional write did. `applied`: it is in the table (its answer arrived, or
    it was recognised by its token after a lost answer). `response`: the answer, when one
    arrived. `live`: when the condition failed, the item as it is (None: it is missing)."""

    applied: bool
    response: Mapping[str, Any] | None = None  # a TypedDict of boto3-stubs: a Mapping
    live: Item | None = None

    @property
    def answer_lost(self) -> bool:
        return self.applied and self.response is None


def grown_from(put: Item, count_attribute: str) -> Callable[[Item | None], bool]:
    """For a put that must carry no token (a table restore writes the exported item
    exactly): the live item is ours when it is the put item with only its count grown (the
    visits after it). Another writer would have to write that very item."""

    def ours(live: Item | None) -> bool:
        if live is None or count_attribute not in live or count_attribute not in put:
            return live == put
        rest = {k: v for k, v in live.items() if k != count_attribute}
        if rest != {k: v for k, v in put.items() if k != count_attribute}:
            return False
        # the same count type, risen or equal (a string count as much as a number)
        return grew(put[count_attribute], live[count_attribute]) or live == put

    return ours


def write_once(
    send: Callable[[], Mapping[str, Any]],
    ours: Callable[[Item | None], bool],
    *,
    reread: Callable[[], Item | None],
    action: str,
    table: str,
) -> Written:
    """Send one conditional write; errors other than a failed condition are raised as mapped
    RunbookErrors. After a failed condition, `ours` (a token's `held_by`, or `grown_from`)
    says whether the live item is our own write; `reread` fetches the item when the service
    did not hand it back with the failed condition (moto and older endpoints may not)."""
    try:
        with mapped(action, table=table):
            return Written(applied=True, response=send())
    except ConditionFailedError as failed:
        live = failed.item if failed.item is not None else reread()
        return Written(applied=ours(live), live=live)
