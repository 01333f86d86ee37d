"""A count as DynamoDB stores it: a number (N), or, for a site whose code writes `str(n)`, a
string holding a whole number (S). Pure: no I/O.

The type is part of the item's shape: the site reads the count the way it writes it (`.N`, or
`int(item["count"]["S"])`, a stream consumer reading `.S`), so no write of the runbook may
change it. A write over an S count writes S, over N writes N; a number over a string count is
refused unless the user says to write a string (`count_type S`), and N <-> S is never done.
A count held under another attribute than the target's is never doubled by a second one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from runbook_lib.errors import (  # noqa: F401 - the count errors are raised from here
    CountAttributeError,
    CountElsewhereError,
    CountTypeError,
    InvalidInputError,
    ItemMissingError,
    RunbookError,
)

COUNT_TYPES = ("N", "S")
TYPE_NAMES = {"N": "a number (N)", "S": "a string (S)"}
# DynamoDB numbers hold up to 38 significant digits; a count must fit as an integer.
MAX_COUNT = 10**38 - 1
# What str(n) writes for an int: no sign but "-", no leading zero, no spaces or decimals.
_INTEGER_TEXT = re.compile(r"-?(0|[1-9][0-9]{0,37})")


class CountValueError(RunbookError):
    """The item exists but its count is not a non-negative integer."""

    hint = "inspect the item (02_status) and set a valid count with 03_set_count."


@dataclass(frozen=True)
class StoredCount:
    """A valid count and the type it is stored as."""

    value: int
    type: str  # "N" or "S"

    def wire(self) -> dict[str, str]:
        return wire(self.value, self.type)


def wire(value: int, count_type: str) -> dict[str, str]:
    """The count in the wire format, as the type says: {"N": "57"} or {"S": "57"}."""
    if count_type not in COUNT_TYPES:
        raise ValueError(f"a count is stored as N or S, not {count_type!r}")
    return {count_type: str(value)}


def type_of(value: Any) -> str | None:
    """The type letter of a typed attribute value ({"S": "x"} -> "S"), else None."""
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    return None


def is_integer_text(text: Any) -> bool:
    """A string as `str(n)` writes a whole number (a string count's value)."""
    return isinstance(text, str) and _INTEGER_TEXT.fullmatch(text) is not None


def holds_count(value: Any) -> bool:
    """A number, or a string holding a whole number: what a site can count in."""
    kind = type_of(value)
    return kind == "N" or (kind == "S" and is_integer_text(value["S"]))


def shown(value: Any) -> str:
    """An attribute value for a message: `S "57"`, `N 57`, `BOOL true`, `absent`."""
    kind = type_of(value)
    if kind is None:
        return "absent" if value is None else json.dumps(value, default=str)
    raw = value[kind]
    return f"{kind} {json.dumps(raw) if kind == 'S' else json.dumps(raw, default=str)}"


def stored_count(item: dict[str, Any] | None, attribute: str) -> StoredCount:
    """The count and its type from a wire-format item; CountValueError if it is none."""
    if item is None:
        raise ItemMissingError("The counter item does not exist.")
    if attribute not in item:
        raise CountValueError(f"The item has no {attribute!r} attribute: {sorted(item)}.")
    value = item[attribute]
    kind = type_of(value)
    if kind == "S" and is_integer_text(value["S"]):
        text = value["S"]
    elif kind == "S":
        raise CountValueError(
            f"{attribute} is stored as type S ({value['S']!r}), a string that is not a "
            "whole number."
        )
    elif kind != "N":
        raise CountValueError(
            f"{attribute} is stored as type {kind or '?'} ({shown(value)}), not a number."
        )
    else:
        text = value["N"]
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise CountValueError(f"{attribute} = {text!r} is not a number.") from exc
    if number != number.to_integral_value():
        raise CountValueError(f"{attribute} = {text} is not a whole number.")
    if number < 0:
        raise CountValueError(f"{attribute} = {text} is negative.")
    return StoredCount(int(number), str(kind))


def parse_count(item: dict[str, Any] | None, attribute: str) -> int:
    """The count as an int (N, or S holding a whole number); CountValueError otherwise."""
    return stored_count(item, attribute).value


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


def grew(want: Any, got: Any) -> bool:
    """`got` is `want` with the count risen or equal, of the same count type (a restore's
    own write after visits landed on it)."""
    kind = type_of(want)
    if kind not in COUNT_TYPES or type_of(got) != kind:
        return False
    try:
        return bool(Decimal(got[kind]) >= Decimal(want[kind]))
    except (InvalidOperation, TypeError):
        return False


def requested_type(value: Any) -> str:
    """The count_type parameter: "" (a number, and a string count refused), "N" or "S"."""
    text = value.strip().upper() if isinstance(value, str) else value
    if text not in ("", *COUNT_TYPES):
        raise InvalidInputError(
            f"count_type must be S (a string count, as a site writing str(n) stores it), N "
            f"or empty, got {value!r}."
        )
    return str(text)
