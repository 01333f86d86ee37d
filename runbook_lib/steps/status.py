"""The status check: a structured report of checks, each ok / warn / fail, with the next step.

All AWS reads are independent, so they run concurrently: the check's wall time is one
round trip deep, not eight. No pandas or matplotlib here: the status notebook is the one
a scheduler runs every morning, so it stays light.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from runbook_lib import aws
from runbook_lib.aws import counter
from runbook_lib.aws.errors import from_client_error
from runbook_lib.errors import (
    EndpointUnreachableError,
    InvalidInputError,
    RunbookError,
    TableMissingError,
)
from runbook_lib.steps.statusreport import FAIL, NOT_CHECKED, OK, WARN, Check, StatusReport
from runbook_lib.target.model import Target

# A daily backup routine leaves at most ~24 h between backups; 48 h allows one miss.
DEFAULT_MAX_BACKUP_AGE_H = 48.0
DEFAULT_DROP_WINDOW_H = 24
DROP_PERIOD_S = 300
MAX_DROP_WINDOW_H = 455 * 24  # CloudWatch keeps data 455 days
TABLES_SHOWN = 10  # a missing table's next step lists this many of the tables that exist
OTHER_ITEMS_SHOWN = 3  # a missing item's detail names this many of the items that exist


def _call(fn: Callable[[], Any]) -> tuple[Any, Exception | None]:
    try:
        return fn(), None
    except Exception as exc:  # each check turns its own failure into a verdict
        return None, exc


def gather(target: Target, *, drop_window_h: int = DEFAULT_DROP_WINDOW_H, now=None) -> dict:
    """Every AWS read the checks need, issued concurrently; errors kept per call."""
    sess = aws.session(target.region)
    ddb = aws.client("dynamodb", sess)
    cw = aws.client("cloudwatch", sess)
    now = now or dt.datetime.now(dt.timezone.utc)
    calls: dict[str, Callable[[], Any]] = {
        "describe": lambda: ddb.describe_table(TableName=target.table)["Table"],
        "item": lambda: ddb.get_item(TableName=target.table, Key=target.key, ConsistentRead=True),
        "pitr": lambda: ddb.describe_continuous_backups(TableName=target.table),
        "backups": lambda: _list_backups(ddb, target.table),
        "alarms": lambda: _describe_alarms(cw),
        "metric": lambda: _count_series(cw, target, now, drop_window_h),
    }
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {name: pool.submit(_call, fn) for name, fn in calls.items()}
        return {name: fut.result() for name, fut in futures.items()}


def _list_backups(ddb: Any, table: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        resp = ddb.list_backups(**kwargs)
        out.extend(resp.get("BackupSummaries", []))
        if not resp.get("LastEvaluatedBackupArn"):
            return out
        kwargs["ExclusiveStartBackupArn"] = resp["LastEvaluatedBackupArn"]


def _describe_alarms(cw: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in cw.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
        out.extend(page.get("MetricAlarms", []))
    return out


def _count_series(
    cw: Any, target: Target, now: dt.datetime, hours: int
) -> list[tuple[dt.datetime, float]]:
    """The count gauge (Maximum per 5 min) over the window: (time, value), oldest first."""
    resp = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "count",
                "MetricStat": {
                    "Metric": {
                        "Namespace": target.metric_namespace,
                        "MetricName": target.metric_name,
                        "Dimensions": [{"Name": "TableName", "Value": target.table}],
                    },
                    "Period": DROP_PERIOD_S,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=now - dt.timedelta(hours=hours),
        EndTime=now,
        ScanBy="TimestampAscending",
    )
    points: list[tuple[Any, float]] = []
    for res in resp.get("MetricDataResults", []):
        points.extend(zip(res.get("Timestamps", []), res.get("Values", []), strict=True))
    return sorted(points)


def _unreachable(got: dict[str, tuple[Any, Exception | None]]) -> Exception | None:
    """The endpoint refused every connection: nothing was looked at, so this is raised
    (exit 1, one line), never turned into failed checks."""
    errors = [from_client_error(err) for _, err in got.values() if err is not None]
    if len(errors) == len(got) and all(isinstance(e, EndpointUnreachableError) for e in errors):
        return errors[0]
    return None


def list_tables(target: Target) -> list[str] | None:
    """The tables that exist in the target's region (the first 100), None if unreadable."""
    try:
        ddb = aws.client("dynamodb", aws.session(target.region))
        return list(ddb.list_tables(Limit=100).get("TableNames", []))
    except Exception:  # only used to word a next step; the table check has already failed
        return None


def other_items(target: Target, describe: Any) -> list[str] | None:
    """Keys of a few items the table holds ("id=0"), [] for an empty table, None when they
    could not be read. Asked only when the counter item is missing."""
    keys = [k["AttributeName"] for k in (describe or {}).get("KeySchema", [])]
    try:
        ddb = aws.client("dynamodb", aws.session(target.region))
        resp = ddb.scan(TableName=target.table, Limit=OTHER_ITEMS_SHOWN)
    except Exception:  # the item check then says it could not tell
        return None
    labels = []
    for item in resp.get("Items", []):
        shown = keys or sorted(a for a in item if a != target.count_attribute)[:1]
        labels.append(",".join(f"{k}={_plain(item.get(k))}" for k in shown))
    if resp.get("LastEvaluatedKey"):
        labels.append("...")
    return labels


def _plain(value: Any) -> str:
    """A DynamoDB wire value ({"S": "x"}, {"N": "1"}) as the user types it."""
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return "?"


def _label(target: Target) -> str:
    """The counter item's key as a user writes it ("id=0")."""
    return getattr(target, "key_label", None) or f"{target.key_label}"


# ---- the checks: pure functions of what gather() returned --------------------------------


def table_missing(err: Exception | None) -> bool:
    return err is not None and isinstance(from_client_error(err), TableMissingError)


def check_table(
    describe: Any, err: Exception | None, target: Target, tables: list[str] | None = None
) -> Check:
    """`tables`: the tables that do exist (list_tables), asked when this one is missing."""
    if err is not None:
        mapped = from_client_error(err, table=target.table, action="DescribeTable")
        if isinstance(mapped, TableMissingError):
            return _missing_table(target, tables)
        return Check(
            "table exists and ACTIVE",
            NOT_CHECKED,
            f"could not describe {target.table}: {_brief(mapped)}",
            mapped_hint(mapped),
        )
    status = describe.get("TableStatus")
    if status != "ACTIVE":
        return Check(
            "table exists and ACTIVE",
            WARN,
            f"table {target.table} is {status}",
            "wait for ACTIVE, then run the status check again",
        )
    return Check("table exists and ACTIVE", OK, f"{target.table} is ACTIVE")


def _missing_table(target: Target, tables: list[str] | None) -> Check:
    """A wrong name is the likelier cause than a missing stack: name the tables that exist
    so the user can point at the right one instead of creating another."""
    detail = f"table {target.table} not found in {target.region}"
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
    return Check("table exists and ACTIVE", FAIL, detail, step)


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


def _schema_text(keys: list[tuple[str, str, str | None]]) -> str:
    role = {"HASH": "hash key", "RANGE": "range key"}
    return ", ".join(f"{role.get(r, r)} {n} ({t or '?'})" for r, n, t in keys)


def check_item(
    item_resp: Any, err: Exception | None, target: Target, others: list[str] | None = None
) -> tuple[Check, Check, int | None]:
    """`others`: keys of items the table holds (other_items), asked when the item is missing."""
    present_name, value_name = "counter item present", "count is a non-negative integer"
    if err is not None:
        mapped = from_client_error(err, table=target.table, action="GetItem")
        reason = "the table was not found" if isinstance(mapped, TableMissingError) else None
        return (
            Check(
                present_name,
                NOT_CHECKED,
                reason or f"could not read the item: {_brief(mapped)}",
                "fix the table check first" if reason else mapped_hint(mapped),
            ),
            Check(value_name, NOT_CHECKED, "the item was not read", "fix the item check first"),
            None,
        )
    item = (item_resp or {}).get("Item")
    if item is None:
        return (
            _missing_item(target, others),
            Check(value_name, NOT_CHECKED, "no item to read", "fix the item check first"),
            None,
        )
    present = Check(present_name, OK, _label(target))
    try:
        value = counter.parse_count(item, target.count_attribute)
    except RunbookError as exc:
        return (
            present,
            Check(
                value_name,
                FAIL,
                _brief(exc),
                "set a valid count with 03_set_count",
            ),
            None,
        )
    return present, Check(value_name, OK, f"{target.count_attribute} = {value}"), value


def _missing_item(target: Target, others: list[str] | None) -> Check:
    """01_init only for a table that is really empty: beside another item it would create
    a second counter, and a misspelled key would go on reading zero."""
    name, label = "counter item present", _label(target)
    if others == []:
        detail = f"no item {label}; the table is empty"
        return Check(name, FAIL, detail, "run 01_init (runbook run 01_init)")
    if others:
        return Check(
            name,
            FAIL,
            f"no item {label}, but the table holds {', '.join(others)}",
            "check key_name and key_value (e.g. -p key_value VALUE); do not run 01_init: it "
            "would create a second counter item beside the existing one",
        )
    return Check(
        name,
        FAIL,
        f"no item {label} (the table's other items could not be listed)",
        "check key_name and key_value first; run 01_init only if the table holds no counter "
        "under another key (it would create a second one)",
    )


def _brief(exc: Exception) -> str:
    """The error's message without its hint (the hint goes in the next-step column)."""
    return str(exc).split(" Next step:")[0]


def mapped_hint(exc: Exception) -> str:
    return getattr(exc, "hint", "") or "see the error above"


def _unreadable(name: str, err: Exception, action: str, what: str, target: Target) -> Check:
    """A read that failed leaves its check NOT CHECKED with the reason, never a crash of the
    report and never "fine"."""
    mapped = from_client_error(err, table=target.table, action=action)
    return Check(name, NOT_CHECKED, f"{what}: {_brief(mapped)}", mapped_hint(mapped))


def check_pitr(resp: Any, err: Exception | None, target: Target) -> Check:
    name = "point-in-time recovery"
    if err is not None:
        return _unreadable(name, err, "DescribeContinuousBackups", "could not read", target)
    desc = resp.get("ContinuousBackupsDescription", {})
    state = desc.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
    if state != "ENABLED":
        return Check(
            name,
            WARN,
            f"PITR is {state or 'unknown'}",
            "enable it in terraform/ (point_in_time_recovery) or with 04_backup_restore",
        )
    return Check(name, OK, "enabled (35 days of restore points)")


def check_backups(
    backups: Any, err: Exception | None, target: Target, now: dt.datetime, max_age_h: float
) -> Check:
    name = "latest backup age"
    if err is not None:
        return _unreadable(name, err, "ListBackups", "could not list backups", target)
    if not backups:
        return Check(
            name, WARN, "no native backup of this table", "run 04_backup_restore with action=backup"
        )
    latest = max(b["BackupCreationDateTime"] for b in backups)
    if latest.tzinfo is None:
        latest = latest.replace(tzinfo=dt.timezone.utc)
    age_h = (now - latest).total_seconds() / 3600
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


def check_alarms(alarms: Any, err: Exception | None, target: Target) -> Check:
    name = "alarm states"
    if err is not None:
        return _unreadable(name, err, "DescribeAlarms", "could not read alarms", target)
    mine = [a for a in alarms if _alarm_watches(a, target)]
    if not mine:
        return Check(
            name, WARN, "no CloudWatch alarm watches this counter", "apply terraform/ (alarms.tf)"
        )
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


def _num(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


def _at(when: dt.datetime, now: dt.datetime | None) -> str:
    """ "07:12 UTC" today, "2024-05-01 07:12 UTC" on another day."""
    when = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    when = when.astimezone(dt.timezone.utc)
    today = now is not None and when.date() == now.astimezone(dt.timezone.utc).date()
    return when.strftime("%H:%M UTC" if today else "%Y-%m-%d %H:%M UTC")


def check_drops(
    series: Any, err: Exception | None, target: Target, hours: int, now: dt.datetime | None = None
) -> Check:
    """`series`: (time, count) pairs, oldest first. A drop is said as what happened."""
    name = "no count drop in recent history"
    if err is not None:
        return _unreadable(name, err, "GetMetricData", "could not read metrics", target)
    if not series:
        return Check(
            name,
            WARN,
            f"no {target.metric_namespace}/{target.metric_name} data in the last {hours} h",
            "check that the Lambda publishes its metric (run 06_history)",
        )
    drops = [(a, b) for a, b in itertools.pairwise(series) if b[1] < a[1]]
    if drops:
        # the largest drop (the latest of equals) is the reset to tell first
        (_, before), (when, after) = max(drops, key=lambda d: (d[0][1] - d[1][1], d[1][0]))
        at = _at(when, now)
        more = f" ({len(drops)} drops in the last {hours} h)" if len(drops) > 1 else ""
        return Check(
            name,
            FAIL,
            f"count dropped from {_num(before)} to {_num(after)} at {at}{more}",
            "rebuild the count from CloudWatch: runbook run 07_recover (dry run first), or "
            f"restore the last backup from before {at}: runbook run 04_backup_restore "
            "(action=list, then restore it, dry run first); 06_history shows the whole history",
        )
    return Check(name, OK, f"{len(series)} points over {hours} h, never decreasing")


def check_terraform_state(terraform_dir: str | Path | None, target: Target) -> Check:
    """Whether a Terraform state manages the counter item (every apply would reset it);
    always answered: ok, warn, or not checked with the reason (see `tfguard`)."""
    from runbook_lib.steps import tfguard

    state, detail, step = tfguard.guard(terraform_dir, target)
    return Check("Terraform does not manage the item", state, detail, step)


def validate_windows(max_backup_age_h: Any, drop_window_h: Any) -> None:
    """The two time windows a status check takes, checked before any AWS call."""
    if isinstance(drop_window_h, bool) or not isinstance(drop_window_h, int):
        raise InvalidInputError(
            f"drop_window_hours must be a whole number of hours, got {drop_window_h!r}."
        )
    if not 1 <= drop_window_h <= MAX_DROP_WINDOW_H:
        raise InvalidInputError(
            f"drop_window_hours must be from 1 to {MAX_DROP_WINDOW_H} (455 days, CloudWatch's "
            f"retention), got {drop_window_h}."
        )
    if (
        isinstance(max_backup_age_h, bool)
        or not isinstance(max_backup_age_h, (int, float))
        or not 0 < max_backup_age_h < float("inf")
    ):
        raise InvalidInputError(
            f"max_backup_age_hours must be a positive number of hours, got {max_backup_age_h!r}."
        )


def run_status(
    target: Target,
    *,
    max_backup_age_h: float = DEFAULT_MAX_BACKUP_AGE_H,
    drop_window_h: int = DEFAULT_DROP_WINDOW_H,
    terraform_dir: str | Path | None = None,
    now: dt.datetime | None = None,
) -> StatusReport:
    """Run every check; never raises for a problem in the table, only reports it.
    Bad parameters are refused before any call (InvalidInputError)."""
    validate_windows(max_backup_age_h, drop_window_h)
    now = now or dt.datetime.now(dt.timezone.utc)
    got = gather(target, drop_window_h=drop_window_h, now=now)
    unreachable = _unreachable(got)
    if unreachable is not None:
        raise unreachable
    describe, describe_err = got["describe"]
    # the follow-up reads only happen on a failure, so a healthy check stays one round trip
    tables = list_tables(target) if table_missing(describe_err) else None
    item_resp, item_err = got["item"]
    missing = item_err is None and not (item_resp or {}).get("Item")
    others = other_items(target, describe) if missing else None
    checks = [
        check_table(describe, describe_err, target, tables),
        check_key_schema(describe, target),
    ]
    present, valid, value = check_item(item_resp, item_err, target, others)
    checks += [present, valid]
    checks.append(check_pitr(*got["pitr"], target))
    checks.append(check_backups(*got["backups"], target, now, max_backup_age_h))
    checks.append(check_alarms(*got["alarms"], target))
    checks.append(check_drops(*got["metric"], target, drop_window_h, now))
    checks.append(check_terraform_state(terraform_dir, target))
    return StatusReport(target=target, checks=checks, count=value)
