"""What a set may do, decided before anything is written: the validated request (`plan_set`)
and the refusals the live item calls for (`check_live`). The conditional write re-checks
all of them atomically; refusing here first means no backup file is written for a refusal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from runbook_lib.aws import counter
from runbook_lib.errors import (
    CountConflictError,
    DecreaseRefusedError,
    InvalidInputError,
    ItemMissingError,
)
from runbook_lib.formats import countshape
from runbook_lib.formats.countvalue import holds_count, requested_type, type_of
from runbook_lib.model import Target
from runbook_lib.redact import find_secrets
from runbook_lib.steps.common.auditlog import NO_REASON
from runbook_lib.steps.common.confirm import require_confirmation, require_flag

MAX_REASON_CHARS = 500  # one line in the audit log, not an essay


@dataclass(frozen=True)
class SetPlan:
    """A validated request: what to write and whether this is a confirmed real run."""

    new_value: int
    expected_current: int | None
    reason: str
    apply: bool  # False: dry run
    allow_decrease: bool = False
    count_type: str = ""  # the type asked for: "" (a number), "N" or "S" (a string count)


def plan_set(
    target: Target,
    new_value: Any,
    *,
    expected_current: Any = None,
    reason: Any = "",
    dry_run: Any = True,
    confirm: str | None = None,
    allow_decrease: Any = False,
    count_type: Any = "",
) -> SetPlan:
    """Check a set request without touching AWS; InvalidInputError / ConfirmationError
    say what is wrong (nothing is written)."""
    if new_value is None:  # no default: a forgotten value must never become a reset to 0
        raise InvalidInputError(
            "new_value is required: the count to set. Nothing was written.",
            hint="pass -p new_value N; a reset to 0 is -p new_value 0 -p allow_decrease True.",
        )
    new = counter.validate_count(new_value, "new_value")
    expected = (
        None
        if expected_current is None
        else counter.validate_count(expected_current, "expected_current")
    )
    lower = require_flag("allow_decrease", allow_decrease)
    kind = requested_type(count_type)
    reason = _one_line_reason(reason)
    apply = require_confirmation(target, dry_run, confirm)
    if apply and not reason:
        # A write must never be blocked at 3 a.m. for want of prose; the audit log says so.
        reason = NO_REASON
    return SetPlan(new, expected, reason, apply, allow_decrease=lower, count_type=kind)


def _one_line_reason(reason: Any) -> str:
    """The reason as one line of the audit log: text, bounded, no credential in it."""
    if not isinstance(reason, str):
        raise InvalidInputError(f"reason must be text, got {type(reason).__name__}.")
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInputError(
            f"reason has {len(reason)} characters; keep it under {MAX_REASON_CHARS} "
            "(it is one line of the audit log)."
        )
    if find_secrets(reason):
        raise InvalidInputError("reason looks like it holds a credential; it goes into the log.")
    return reason


def check_live(target: Target, plan: SetPlan, item: dict[str, Any] | None) -> dict[str, Any]:
    """Refuse early, before any file is written, what the conditional write would refuse:
    a missing item, a count other than expected_current, a count of another type than the
    one asked for (a dry run only notes a number over a string count), and (real runs) a
    lower count without allow_decrease. The write re-checks them. An item that holds its
    count under another attribute is refused too: the set would add a second count."""
    if item is None:
        raise ItemMissingError(
            f"The item {target.key_label} does not exist in {target.table}; "
            "03_set_count only changes an existing item. Nothing was written."
        )
    countshape.check_count_here(target, item)
    mismatch = countshape.type_refusal(target, item, plan.count_type, plan.new_value)
    if mismatch is not None and (plan.apply or plan.count_type):
        raise mismatch
    attr = target.count_attribute
    if plan.expected_current is not None and not holds_count(item.get(attr)):
        raise counter.CountValueError(
            f"The live {attr} is not a number ({shown(item, attr)}), so it can never equal "
            f"expected_current={plan.expected_current}. Nothing was written.",
            hint="repair it with 03_set_count without expected_current (it backs up first).",
        )
    live = counter.count_of(item, attr)
    if plan.expected_current is not None and live != plan.expected_current:
        raw = raw_count(item, attr)
        raise CountConflictError(
            f"The count moved: expected {plan.expected_current}, live value is {raw}. "
            "Nothing was written.",
            live_value=raw,
        )
    if plan.apply and live is not None and lowers(plan, live):
        refused = DecreaseRefusedError(
            f"Refusing to lower {attr} in {target.table} from {live} (live) to "
            f"{plan.new_value} (new_value): {visits(live - plan.new_value)} would be lost. "
            "Nothing was written."
        )
        refused.live_value = live  # the refused result's `old`
        raise refused
    return item


def lowers(plan: SetPlan, live: int | None) -> bool:
    """The set would lower a valid live count without allow_decrease."""
    return live is not None and plan.new_value < live and not plan.allow_decrease


def raw_count(item: dict[str, Any] | None, attribute: str) -> str | None:
    """The stored text of the count (N or S), for a message; None when there is none."""
    value = (item or {}).get(attribute)
    kind = type_of(value)
    return str(value[kind]) if value is not None and kind in ("N", "S") else None


def shown(item: dict[str, Any], attribute: str) -> str:
    """The live value for a message: the number, or the raw value when it is not one."""
    value = counter.count_of(item, attribute)
    return str(value) if value is not None else json.dumps(item.get(attribute))


def visits(n: int) -> str:
    return "1 counted visit" if n == 1 else f"{n} counted visits"
