"""01_init: create the counter item if it is missing, the guide's `init-dynamodb.sh` made
safe. A dry run reads once; a confirmed run is ONE conditional PutItem, a no-op on an
existing item (aws/counter.py `init_counter`). The notebook's entry is `run`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from runbook_lib.aws import counter
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.formats import countshape
from runbook_lib.model import Target
from runbook_lib.steps.common.confirm import require_confirmation
from runbook_lib.steps.common.result import Result


@dataclass(frozen=True)
class InitOutcome:
    dry_run: bool
    created: bool
    value: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return self.message


def run(
    target: Target,
    initial_value: int = 0,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    ddb: DynamoDBClient | None = None,
) -> Result:
    """01_init's one entry: `init_step`, as the step's Result. Creating or finding the item
    is never a problem (exit 0); a count held elsewhere or of another type raises."""
    outcome = init_step(target, initial_value, dry_run=dry_run, confirm=confirm, ddb=ddb)
    verdict = "DRY RUN" if outcome.dry_run else "CREATED" if outcome.created else "NO-OP"
    fields = {**outcome.to_dict(), "table": target.table}
    return Result("init", verdict, False, outcome.message, fields, detail=outcome)


def init_step(
    target: Target,
    initial: int = 0,
    *,
    dry_run: bool = True,
    confirm: str | None = None,
    ddb: DynamoDBClient | None = None,
) -> InitOutcome:
    """The runbook's init: a dry run says what would happen (one read); a confirmed run
    is the single conditional PutItem, a no-op on an existing item. An existing item that
    holds its count under another attribute stops both (CountElsewhereError): the runbook
    is pointed at the wrong attribute, and a count created there would be a second one."""
    initial = counter.validate_count(initial, "initial_value")
    ddb = ddb or counter.dynamodb(target)
    if not require_confirmation(target, dry_run, confirm):
        return _dry_run(target, initial, counter.get_item(target, ddb=ddb))
    result = counter.init_counter(target, initial, ddb=ddb)
    countshape.check_count_here(target, result.raw)
    attr = target.count_attribute
    if result.created:
        msg = f"Created {target.key_label} with {attr} = {initial}."
    elif result.value is None and result.raw is not None:
        msg = (
            f"The item already exists but its {attr} is not a number (stored as "
            f"{result.raw.get(attr)!r}); left untouched. Next step: repair it with 03_set_count."
        )
    else:
        msg = (
            f"The item already exists with {attr} = {result.value}{_as_string(target, result.raw)}"
            "; left untouched (no-op)."
        )
    return InitOutcome(False, result.created, result.value, msg)


def _dry_run(target: Target, initial: int, item: dict[str, Any] | None) -> InitOutcome:
    attr = target.count_attribute
    if item is None:
        msg = (
            f"DRY RUN: the item {target.key_label} is missing; a "
            f"confirmed run would create it with {attr} = {initial}."
        )
        return InitOutcome(True, False, None, msg)
    countshape.check_count_here(target, item)
    value = counter.parse_count(item, attr)
    msg = (
        f"DRY RUN: the item exists with {attr} = {value}{_as_string(target, item)}; init "
        "would do nothing."
    )
    return InitOutcome(True, False, value, msg)


def _as_string(target: Target, item: dict[str, Any] | None) -> str:
    if countshape.live_type(target, item) != "S":
        return ""
    return " (a string count, S, as a site writing str(n) stores it)"
