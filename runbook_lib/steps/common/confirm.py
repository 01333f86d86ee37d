"""The rules every write step shares before it writes: strict switches, the confirmation
(confirm must equal the table name), and never lowering the live count unless told to."""

from __future__ import annotations

from typing import Any

from runbook_lib.errors import ConfirmationError, DecreaseRefusedError, InvalidInputError
from runbook_lib.model import Target


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
        got = "nothing" if not confirm else repr(confirm)
        raise ConfirmationError(
            f"Refusing to write: confirm must equal the table name {target.table!r}, got "
            f"{got}. Nothing was written.",
            hint=f"re-run with -p dry_run False -p confirm {target.table}.",
        )
    return True


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
