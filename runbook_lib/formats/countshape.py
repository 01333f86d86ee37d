"""What a write of the count may do to the item's shape, decided from the item as read. Pure.

Two rules (formats/countvalue.py says why): a write keeps the count's type (a number over a
string count is refused unless the user asks for a string, and N <-> S never happens), and a
write never gives an item a second count (the target's attribute is absent while another
attribute holds a count: the target points at the wrong attribute).
"""

from __future__ import annotations

from typing import Any

from runbook_lib.formats.countvalue import (
    COUNT_TYPES,
    CountAttributeError,
    CountElsewhereError,
    CountTypeError,
    holds_count,
    shown,
    type_of,
)
from runbook_lib.model import RUNBOOK_ATTRIBUTES, Target


def other_counts(item: dict[str, Any] | None, target: Target) -> list[str]:
    """The item's attributes other than the target's that hold a count (a number, or a
    string holding a whole number): not a key, not the runbook's own."""
    skip = {target.count_attribute, *target.key_names, *RUNBOOK_ATTRIBUTES}
    return sorted(n for n, v in (item or {}).items() if n not in skip and holds_count(v))


def elsewhere(target: Target, item: dict[str, Any] | None) -> tuple[str, str] | None:
    """(what was found, the fix) for an item that lacks the target's count attribute but
    holds a count under another one; None when it does not."""
    if item is None or target.count_attribute in item:
        return None
    others = other_counts(item, target)
    if not others:
        return None
    found = ", ".join(f"{n!r} ({shown(item[n])})" for n in others)
    passed = " (passed as count_attribute)" if _passed(target) else ""
    what = (
        f"{target.table}'s item {target.key_label} holds its count as {found}, not "
        f"{target.count_attribute!r}{passed}"
    )
    if len(others) == 1:
        return what, f"pass -p count_attribute {others[0]}"
    return what, "pass -p count_attribute NAME, the one the site counts in"


def _passed(target: Target) -> bool:
    return target.sources.get("count_attribute") == "parameter"


def count_elsewhere(target: Target, item: dict[str, Any] | None) -> CountElsewhereError | None:
    """The error for `elsewhere`'s item (None: no such thing): a write would add a second
    count beside the site's. A count_attribute the user passed is bad usage (exit 2); one
    the runbook resolved or defaulted is a finding (exit 3); the fix is the same."""
    found = elsewhere(target, item)
    if found is None:
        return None
    what, fix = found
    message = (
        f"{what}; a {target.count_attribute!r} beside it would be a second count. Nothing "
        "was written."
    )
    return (CountAttributeError if _passed(target) else CountElsewhereError)(message, f"{fix}.")


def check_count_here(target: Target, item: dict[str, Any] | None) -> None:
    """Raise `count_elsewhere`'s error, if any."""
    error = count_elsewhere(target, item)
    if error is not None:
        raise error


def live_type(target: Target, item: dict[str, Any] | None) -> str | None:
    """The type the item holds its count as: "N", "S", another letter, None when absent."""
    return type_of((item or {}).get(target.count_attribute))


def type_refusal(
    target: Target, item: dict[str, Any] | None, requested: str, new_value: int
) -> CountTypeError | None:
    """The refusal of a write of `new_value` as `requested` ("" is a number) over the item's
    count, when the two types differ (None: the write keeps the type)."""
    live = live_type(target, item)
    want = requested or "N"
    if live not in COUNT_TYPES or want == live:
        return None
    where = f"{target.table}'s item {target.key_label}"
    value = shown((item or {}).get(target.count_attribute))
    attr = target.count_attribute
    if live == "S":
        asked = " (count_type N)" if requested else ""
        whose = (
            "as a site whose code writes str(n) stores it"
            if holds_count((item or {}).get(attr))
            else "not a whole number"
        )
        return CountTypeError(
            f"{where} holds {attr} as a string ({value}), {whose}. Writing {new_value} as a "
            f"number{asked} would change its type and break the site that reads it; the "
            "runbook keeps the type. Nothing was written.",
            count_type="S",
            hint="to write it as a string, as the site does, pass -p count_type S.",
        )
    return CountTypeError(
        f"{where} holds {attr} as a number ({value}); count_type S would turn it into a string "
        "and break the site (its atomic ADD fails on a string). Nothing was written.",
        count_type="N",
        hint="leave count_type empty: the count is written as a number, as it is stored.",
    )


def restore_type(
    target: Target, live: dict[str, Any] | None, source: dict[str, Any] | None, name: str
) -> str | None:
    """The count's type a restore from `source` (an item: a backup's, an export's, a restored
    table's; `name` says which) writes: the same as live, or live absent. CountTypeError when
    they differ (N <-> S): the restore would change the type the site reads."""
    attr = target.count_attribute
    was, kind = live_type(target, live), live_type(target, source)
    if was in COUNT_TYPES and kind in COUNT_TYPES and was != kind:
        assert live is not None and source is not None
        raise CountTypeError(
            f"{name} holds {attr} as {shown(source[attr])}, the live item as "
            f"{shown(live[attr])}: restoring it would change the count's type and break the "
            "site that reads it. Nothing was written.",
            count_type=str(was),
            hint="restore from a copy of the item as it is stored now, or set the value with "
            f"03_set_count{' -p count_type S' if was == 'S' else ''}.",
        )
    return kind if kind in COUNT_TYPES else was if was in COUNT_TYPES else None


def type_to_write(target: Target, item: dict[str, Any] | None, requested: str) -> str:
    """The type a write of the count uses: the item's own when it holds a count type (a
    mismatch is refused first, `type_refusal`); else the one asked for, else the target's."""
    live = live_type(target, item)
    if live in COUNT_TYPES:
        return str(live)
    return requested or target.count_type
