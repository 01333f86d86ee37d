"""The status check: a structured report of checks, each ok / warn / fail, with the next step.

All AWS reads are independent, so they run concurrently: the check's wall time is one
round trip deep, not eight. Each read goes through aws/ and fails as a RunbookError, which
its row (`status.checks`) turns into NOT CHECKED with the reason. No pandas or matplotlib
here: the status notebook is the one a scheduler runs every morning, so it stays light.
`run` is the notebook's entry (the step's Result); `run_status` builds the report it holds.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from runbook_lib import aws, paths
from runbook_lib.aws import backups, counter, metrics, tables
from runbook_lib.aws.types import CloudWatchClient, DynamoDBClient
from runbook_lib.errors import (
    EndpointUnreachableError,
    InvalidInputError,
    RunbookError,
    TableMissingError,
)
from runbook_lib.model import Target
from runbook_lib.steps.common.result import Result
from runbook_lib.steps.reset import resetread, resets
from runbook_lib.steps.status import checks as checks
from runbook_lib.steps.status.report import Check, StatusReport

# A daily backup routine leaves at most ~24 h between backups; 48 h allows one miss.
DEFAULT_MAX_BACKUP_AGE_H = 48.0
DEFAULT_DROP_WINDOW_H = 24
DROP_PERIOD_S = 300
MAX_DROP_WINDOW_H = 455 * 24  # CloudWatch keeps data 455 days
OTHER_ITEMS_SHOWN = 3  # a missing item's detail names this many of the items that exist

Read = tuple[Any, RunbookError | None]


def _call(fn: Callable[[], Any]) -> Read:
    try:
        return fn(), None
    except RunbookError as exc:  # each check turns its own failure into a verdict
        return None, exc


def _count_series(
    cw: CloudWatchClient, target: Target, now: dt.datetime, hours: int
) -> list[tuple[dt.datetime, float]]:
    """The count gauge (Maximum per 5 min) over the window: (time, value), oldest first.
    The window starts on a whole 5 minutes since the epoch, as 06_history's does: buckets
    that start where the run happens to start move a drop's bucket from run to run."""
    spec = metrics.count_spec(target.table, target.metric_namespace, target.metric_name)
    queries = metrics.build_queries([spec], DROP_PERIOD_S)
    start = resetread.floor_time(now - dt.timedelta(hours=hours), DROP_PERIOD_S)
    data = metrics.get_metric_data(cw, queries, start, now, table=target.table)
    return sorted((resetread.utc(t), v) for t, v in data.points.get("count", []))


def gather(
    ddb: DynamoDBClient,
    cw: CloudWatchClient,
    target: Target,
    *,
    drop_window_h: int,
    now: dt.datetime,
) -> dict[str, Read]:
    """Every AWS read the checks need, issued concurrently; errors kept per read."""
    table = target.table
    calls: dict[str, Callable[[], Any]] = {
        "describe": lambda: tables.describe_table(ddb, table),
        "item": lambda: counter.get_item(target, ddb=ddb),
        "pitr": lambda: backups.pitr_status(ddb, table),
        "backups": lambda: backups.list_backups(ddb, table, now=now),
        "alarms": lambda: metrics.metric_alarms(cw, table=table),
        "metric": lambda: _count_series(cw, target, now, drop_window_h),
    }
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {name: pool.submit(_call, fn) for name, fn in calls.items()}
        return {name: fut.result() for name, fut in futures.items()}


def _unreachable(got: dict[str, Read]) -> RunbookError | None:
    """The endpoint refused every connection: nothing was looked at, so this is raised
    (exit 1, one line), never turned into failed checks."""
    errors = [err for _, err in got.values()]
    if all(isinstance(e, EndpointUnreachableError) for e in errors):
        return errors[0]
    return None


def find_resets(
    cw: CloudWatchClient, target: Target, series: Any, live: int | None, now: dt.datetime
) -> list[resets.Reset] | None:
    """The drops in the window dated and judged by the one detector 06 and 07 use (the
    audit log and the live count say whether one was repaired); None when the series was
    not read. Only a drop costs the follow-up reads."""
    if not series:
        return None if series is None else []
    if not resets.find_drops(series):
        return []
    where = target.endpoint or "aws"
    writes = resetread.audit_writes(target.table, where, target.region)
    spec = (target.table, target.metric_namespace, target.metric_name)
    return resetread.detect(
        cw, spec, series, period=DROP_PERIOD_S, now=now, writes=writes, live=live
    )


def stack_label(terraform_dir: str | Path | None) -> str:
    """How a hint names the stack the run was given: "terraform/" for the project's own,
    else the folder relative to the working directory (a notebook's is the project root),
    never an absolute path of this machine."""
    if not terraform_dir:
        return "terraform/"
    path = paths.stack_folder(terraform_dir).resolve()  # where the stack is looked for
    if path == paths.terraform_dir().resolve():
        return "terraform/"
    try:
        label = os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive: the folder's name is the least a reader needs
        label = path.name
    return label.rstrip("/\\") + "/"


def list_tables(ddb: DynamoDBClient) -> list[str] | None:
    """The tables that exist in the target's region (the first 100), None if unreadable."""
    try:
        return tables.table_names(ddb, limit=100)
    except RunbookError:  # only used to word a next step; the table check has already failed
        return None


def other_items(ddb: DynamoDBClient, target: Target, describe: Any) -> list[str] | None:
    """Keys of a few items the table holds ("id=0"), [] for an empty table, None when they
    could not be read. Asked only when the counter item is missing."""
    keys = [k["AttributeName"] for k in (describe or {}).get("KeySchema", [])]
    try:
        items, more = tables.first_items(ddb, target.table, OTHER_ITEMS_SHOWN)
    except RunbookError:  # the item check then says it could not tell
        return None
    labels = []
    for item in items:
        shown = keys or sorted(a for a in item if a != target.count_attribute)[:1]
        labels.append(",".join(f"{k}={_plain(item.get(k))}" for k in shown))
    return [*labels, "..."] if more else labels


def _plain(value: Any) -> str:
    """A DynamoDB wire value ({"S": "x"}, {"N": "1"}) as the user types it."""
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return "?"


def check_terraform_state(terraform_dir: str | Path | None, target: Target) -> Check:
    """Whether a Terraform state manages the counter item (every apply would reset it);
    always answered: ok, warn, or not checked with the reason (see `status.stateguard`)."""
    from runbook_lib.steps.status import stateguard

    state, detail, step = stateguard.guard(terraform_dir, target)
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


def run(
    target: Target,
    *,
    max_backup_age_h: float = DEFAULT_MAX_BACKUP_AGE_H,
    drop_window_h: int = DEFAULT_DROP_WINDOW_H,
    terraform_dir: str | Path | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """02_status's one entry: `run_status`, as the step's Result; its fields are the report's
    (`StatusReport.to_dict`), its detail the report for the table of checks. A problem (exit
    3) when a check failed or could not run: a check that could not look is never "fine"."""
    report = run_status(
        target,
        max_backup_age_h=max_backup_age_h,
        drop_window_h=drop_window_h,
        terraform_dir=terraform_dir,
        now=now,
    )
    # a warning leaves it healthy; otherwise "UNHEALTHY" or "NOT FULLY CHECKED"
    headline = "HEALTHY" if report.healthy else report.verdict.partition(":")[0]
    return Result(
        "status", headline, not report.healthy, str(report), report.to_dict(), detail=report
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
    sess = aws.session(target.region)
    ddb, cw = aws.client("dynamodb", sess), aws.client("cloudwatch", sess)
    got = gather(ddb, cw, target, drop_window_h=drop_window_h, now=now)
    unreachable = _unreachable(got)
    if unreachable is not None:
        raise unreachable
    describe, describe_err = got["describe"]
    # the follow-up reads only happen on a failure, so a healthy check stays one round trip
    tables = list_tables(ddb) if isinstance(describe_err, TableMissingError) else None
    item, item_err = got["item"]
    others = other_items(ddb, target, describe) if item_err is None and not item else None
    present, valid, value = checks.check_item(item, item_err, target, others)
    series, series_err = got["metric"]
    found = find_resets(cw, target, series, value, now)
    stack = stack_label(terraform_dir)
    rows = [
        checks.check_table(describe, describe_err, target, tables),
        checks.check_key_schema(describe, target),
        present,
        valid,
        checks.check_pitr(*got["pitr"], stack=stack),
        checks.check_backups(*got["backups"], now, max_backup_age_h),
        checks.check_alarms(*got["alarms"], target, stack=stack),
        checks.check_drops(series, series_err, target, drop_window_h, now, found=found),
        check_terraform_state(terraform_dir, target),
    ]
    kind = (item or {}).get(target.count_attribute, {}) if value is not None else {}
    return StatusReport(target=target, checks=rows, count=value, count_type=next(iter(kind), None))
