"""The status check's rows: pure functions of what `status.gather` read.

Each takes a read's value and its RunbookError (None when the read worked) and returns a
Check: ok, warn, fail, or NOT CHECKED with the reason when the read failed, never "fine".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from runbook_lib.aws import counter
from runbook_lib.aws.backups import BackupInfo, PitrStatus
from runbook_lib.errors import RunbookError, TableMissingError
from runbook_lib.formats import countshape
from runbook_lib.model import Target
from runbook_lib.resolve.region import region_story
from runbook_lib.steps.reset import resets, resettext
from runbook_lib.steps.status.report import FAIL, NOT_CHECKED, OK, WARN, Check

TABLES_SHOWN = 10  # a missing table's next step lists this many of the tables that exist
TABLE_CHECK = "table exists and ACTIVE"
ITEM_CHECK = "counter item present"
VALUE_CHECK = "count is a non-negative integer"


def _brief(exc: Exception) -> str:
    """The error's message without its hint (the hint goes in the next-step column)."""
    return str(exc).split(" Next step:")[0]


def _hint(exc: Exception) -> str:
    return getattr(exc, "hint", "") or "see the error above"


def _unreadable(name: str, err: RunbookError, what: str) -> Check:
    """A read that failed leaves its check NOT CHECKED with the reason, never a crash of the
    report and never "fine"."""
    return Check(name, NOT_CHECKED, f"{what}: {_brief(err)}", _hint(err))


def check_table(
    describe: Any, err: RunbookError | None, target: Target, tables: list[str] | None = None
) -> Check:
    """`tables`: the tables that do exist (list_tables), asked when this one is missing."""
    if isinstance(err, TableMissingError):
        return _missing_table(target, tables)
    if err is not None:
        return _unreadable(TABLE_CHECK, err, f"could not describe {target.table}")
    status = describe.get("TableStatus")
    if status != "ACTIVE":
        return Check(
            TABLE_CHECK,
            WARN,
            f"table {target.table} is {status}",
            "wait for ACTIVE, then run the status check again",
        )
    return Check(TABLE_CHECK, OK, f"{target.table} is ACTIVE")


def _missing_table(target: Target, tables: list[str] | None) -> Check:
    """A wrong name is the likelier cause than a missing stack: name the tables that exist
    so the user can point at the right one instead of creating another."""
    detail = f"table {target.table} not found in {region_story(target.region, target.sources)}"
    create = "terraform apply, or runbook sandbox up"
    if tables:
        shown = ", ".join(tables[:TABLES_SHOWN])
        more = f" and {len(tables) - TABLES_SHOWN} more" if len(tables) > TABLES_SHOWN else ""
        detail += f"; tables there: {shown}{more}"
        step = (
            "if the counter is in one of these, pass -p table_name NAME (or set "
            f"RUNBOOK_TABLE); only if none is, create it: {create}"
        )
    elif tables == []:
        detail += "; the region has no tables"
        step = f"check the region (AWS_REGION), or create the table: {create}"
    else:
        step = f"check table_name and the region, or create the table: {create}"
    return Check(TABLE_CHECK, FAIL, detail, step)


def check_key_schema(describe: Any, target: Target) -> Check:
    name = "key schema"
    if describe is None:
        return Check(name, FAIL, "table not readable", "fix the table check first")
    types = {
        a["AttributeName"]: a["AttributeType"] for a in describe.get("AttributeDefinitions", [])
    }
    have = [
        (k["KeyType"], k["AttributeName"], types.get(k["AttributeName"]))
        for k in describe.get("KeySchema", [])
    ]
    want = [("HASH", target.key_name, target.key_type)]
    if target.range_key_name:
        want.append(("RANGE", target.range_key_name, target.range_key_type))
    if sorted(have) != sorted(want):
        return Check(
            name,
            FAIL,
            f"expected {_schema_text(want)}, found {_schema_text(have)}",
            "point key_name at the table's hash key, or check table_name",
        )
    return Check(name, OK, _schema_text(want))


def _schema_text(keys: Sequence[tuple[str, str, str | None]]) -> str:
    role = {"HASH": "hash key", "RANGE": "range key"}
    return ", ".join(f"{role.get(r, r)} {n} ({t or '?'})" for r, n, t in keys)


def check_item(
    item: Any, err: RunbookError | None, target: Target, others: list[str] | None = None
) -> tuple[Check, Check, int | None]:
    """`item`: the counter item (None: missing); `others`: keys of items the table holds
    (status.other_items), asked when the item is missing."""
    if err is not None:
        missing = isinstance(err, TableMissingError)
        reason = "the table was not found" if missing else f"could not read the item: {_brief(err)}"
        step = "fix the table check first" if missing else _hint(err)
        return (
            Check(ITEM_CHECK, NOT_CHECKED, reason, step),
            Check(VALUE_CHECK, NOT_CHECKED, "the item was not read", "fix the item check first"),
            None,
        )
    if item is None:
        return (
            _missing_item(target, others),
            Check(VALUE_CHECK, NOT_CHECKED, "no item to read", "fix the item check first"),
            None,
        )
    present = Check(ITEM_CHECK, OK, target.key_label)
    elsewhere = countshape.elsewhere(target, item)
    if elsewhere is not None:  # the count is there, under another name: never "missing"
        return present, Check(VALUE_CHECK, FAIL, *elsewhere), None
    try:
        count = counter.stored_count(item, target.count_attribute)
    except RunbookError as exc:
        return (
            present,
            Check(VALUE_CHECK, FAIL, _brief(exc), "set a valid count with 03_set_count"),
            None,
        )
    if count.type == "S":
        return present, _string_count(target, count.value), count.value
    return present, Check(VALUE_CHECK, OK, f"{target.count_attribute} = {count.value}"), count.value


def _string_count(target: Target, value: int) -> Check:
    """A whole number stored as a string: a valid count, and a warning of what it means."""
    attr = target.count_attribute
    return Check(
        VALUE_CHECK,
        WARN,
        f'{attr} = {value}, stored as a string (S "{value}"): the site writes str(n). An '
        "atomic ADD fails on a string (the guide's Lambda increment would), and a site that "
        "reads, adds one and writes back can lose visits that land at the same time",
        "none needed: the runbook keeps the type (03_set_count and 07_recover write it as a "
        "string with -p count_type S; backups and restores keep S)",
    )


def _missing_item(target: Target, others: list[str] | None) -> Check:
    """01_init only for a table that is really empty: beside another item it would create
    a second counter, and a misspelled key would go on reading zero."""
    label = target.key_label
    if others == []:
        detail = f"no item {label}; the table is empty"
        return Check(ITEM_CHECK, FAIL, detail, "run 01_init (runbook run 01_init)")
    if others:
        return Check(
            ITEM_CHECK,
            FAIL,
            f"no item {label}, but the table holds {', '.join(others)}",
            "check key_name and key_value (e.g. -p key_value VALUE); do not run 01_init: it "
            "would create a second counter item beside the existing one",
        )
    return Check(
        ITEM_CHECK,
        FAIL,
        f"no item {label} (the table's other items could not be listed)",
        "check key_name and key_value first; run 01_init only if the table holds no counter "
        "under another key (it would create a second one)",
    )


def check_pitr(
    pitr: PitrStatus | None, err: RunbookError | None, *, stack: str = "terraform/"
) -> Check:
    """`stack`: the Terraform folder the run was given (`status.stack_label`), named in the
    hint: a run against another stack must not send the reader to this project's."""
    name = "point-in-time recovery"
    if err is not None:
        return _unreadable(name, err, "could not read")
    assert pitr is not None, "a read hands back its value or its error"
    if not pitr.enabled:
        return Check(
            name,
            WARN,
            f"PITR is {pitr.status or 'unknown'}",
            f"enable it in {stack} (point_in_time_recovery) or with 04_backup_restore",
        )
    return Check(name, OK, "enabled (35 days of restore points)")


def check_backups(
    backups: list[BackupInfo] | None, err: RunbookError | None, now: dt.datetime, max_age_h: float
) -> Check:
    name = "latest backup age"
    if err is not None:
        return _unreadable(name, err, "could not list backups")
    if not backups:
        return Check(
            name, WARN, "no native backup of this table", "run 04_backup_restore with action=backup"
        )
    age_h = (now - max(b.created for b in backups)).total_seconds() / 3600
    detail = f"{len(backups)} backup(s), latest {age_h:.1f} h old"
    if age_h > max_age_h:
        return Check(
            name, WARN, f"{detail} (> {max_age_h:g} h)", "run 04_backup_restore with action=backup"
        )
    return Check(name, OK, detail)


def _alarm_watches(alarm: dict[str, Any], target: Target) -> bool:
    wanted = {("TableName", target.table)}
    if target.function_name:
        wanted.add(("FunctionName", target.function_name))
    if target.api_id:
        wanted.add(("ApiId", target.api_id))
    dims = [alarm.get("Dimensions", [])]
    for query in alarm.get("Metrics", []) or []:
        dims.append(query.get("MetricStat", {}).get("Metric", {}).get("Dimensions", []))
    return any((d["Name"], d["Value"]) in wanted for group in dims for d in group)


def check_alarms(
    alarms: Any, err: RunbookError | None, target: Target, *, stack: str = "terraform/"
) -> Check:
    """`stack`: as for `check_pitr`."""
    name = "alarm states"
    if err is not None:
        return _unreadable(name, err, "could not read alarms")
    mine = [a for a in alarms if _alarm_watches(a, target)]
    if not mine:
        hint = (
            "apply terraform/ (alarms.tf)"
            if stack == "terraform/"
            else f"add CloudWatch alarms for this counter to {stack} and apply it"
        )
        return Check(name, WARN, "no CloudWatch alarm watches this counter", hint)
    firing = [a["AlarmName"] for a in mine if a.get("StateValue") == "ALARM"]
    if firing:
        return Check(
            name,
            FAIL,
            f"in ALARM: {', '.join(sorted(firing))}",
            "open the alarm in CloudWatch; for a count drop run 06_history, then 07_recover",
        )
    states = sorted({a.get("StateValue", "?") for a in mine})
    return Check(name, OK, f"{len(mine)} alarm(s), none firing ({', '.join(states)})")


def check_drops(
    series: Any,
    err: RunbookError | None,
    target: Target,
    hours: int,
    now: dt.datetime | None = None,
    *,
    found: list[resets.Reset] | None = None,
) -> Check:
    """`series`: (time, count) pairs, oldest first; `found`: its resets as the detector
    dated and judged them (`status.find_resets`; None: the drops as the series shows them,
    undated and unjudged). A drop is said as what happened; one the runbook repaired is a
    warning that says how, never a failure that sends the reader to repair it again."""
    name = "no count drop in recent history"
    if err is not None:
        return _unreadable(name, err, "could not read metrics")
    if not series:
        return Check(
            name,
            WARN,
            f"no {target.metric_namespace}/{target.metric_name} data in the last {hours} h",
            "check that the Lambda publishes its metric (run 06_history)",
        )
    found = resets.find_drops(series) if found is None else found
    if not found:
        return Check(name, OK, f"{len(series)} points over {hours} h, never decreasing")
    where = f"in the last {hours} h"
    if resettext.worst(found) is None:
        detail = resettext.all_repaired(found, now, where)
        step = "none: the count was rebuilt (06_history shows it)"
        if not all(r.repaired for r in found):
            step = "none: lowered on purpose with 03_set_count (its audit record holds the undo)"
        return Check(name, WARN, detail, step)
    detail, step = resettext.problem(found, now, where)
    return Check(name, FAIL, detail, f"{step}; 06_history shows the whole history")
