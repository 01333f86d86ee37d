"""The status check: a structured report of checks, each ok / warn / fail, with the next step.

All AWS reads are independent, so they run concurrently: the check's wall time is one
round trip deep, not eight. No pandas or matplotlib here: the status notebook is the one
a scheduler runs every morning, so it stays light.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import aws, counter
from .errors import InvalidInputError, RunbookError, TableMissingError, from_client_error
from .target import Target

OK, WARN, FAIL = "ok", "warn", "fail"
# A daily backup routine leaves at most ~24 h between backups; 48 h allows one miss.
DEFAULT_MAX_BACKUP_AGE_H = 48.0
DEFAULT_DROP_WINDOW_H = 24
DROP_PERIOD_S = 300
MAX_DROP_WINDOW_H = 455 * 24  # CloudWatch keeps data 455 days


@dataclass(frozen=True)
class Check:
    name: str
    state: str  # ok | warn | fail
    detail: str
    next_step: str = ""


@dataclass
class StatusReport:
    target: Target
    checks: list[Check]
    count: int | None
    generated_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    )

    @property
    def healthy(self) -> bool:
        return all(c.state != FAIL for c in self.checks)

    @property
    def verdict(self) -> str:
        fails = [c.name for c in self.checks if c.state == FAIL]
        warns = [c.name for c in self.checks if c.state == WARN]
        if fails:
            return f"UNHEALTHY: {len(fails)} failed check(s): {', '.join(fails)}"
        if warns:
            return f"HEALTHY with {len(warns)} warning(s): {', '.join(warns)}"
        return "HEALTHY: all checks passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "verdict": self.verdict,
            "count": self.count,
            "table": self.target.table,
            "generated_at": self.generated_at,
            "checks": [asdict(c) for c in self.checks],
        }

    def __str__(self) -> str:
        width = max(len(c.name) for c in self.checks)
        lines = [self.verdict]
        for c in self.checks:
            step = f"  -> {c.next_step}" if c.next_step and c.state != OK else ""
            lines.append(f"  [{c.state.upper():4}] {c.name:<{width}}  {c.detail}{step}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colours = {OK: "#2b7a0b", WARN: "#b26a00", FAIL: "#b00020"}
        rows = "".join(
            f'<tr><td style="color:{colours[c.state]};font-weight:bold">{c.state.upper()}</td>'
            f"<td>{html.escape(c.name)}</td><td>{html.escape(c.detail)}</td>"
            f"<td>{html.escape(c.next_step if c.state != OK else '')}</td></tr>"
            for c in self.checks
        )
        colour = colours[OK] if self.healthy else colours[FAIL]
        return (
            f'<p class="runbook-verdict" style="font-size:1.2em;color:{colour}">'
            f"<b>{html.escape(self.verdict)}</b></p>"
            '<table class="runbook-status"><thead><tr><th>state</th><th>check</th><th>detail</th>'
            "<th>next step</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
            # notebook front ends right-align table cells; a report reads left to right
            "<style>table.runbook-status td, table.runbook-status th "
            "{text-align: left !important}</style>"
        )


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


def _count_series(cw: Any, target: Target, now: dt.datetime, hours: int) -> list[float]:
    """The count gauge (Maximum per 5 min) over the window, oldest first."""
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
    return [v for _, v in sorted(points)]


# ---- the checks: pure functions of what gather() returned --------------------------------


def check_table(describe: Any, err: Exception | None, target: Target) -> Check:
    if err is not None:
        mapped = from_client_error(err, table=target.table, action="DescribeTable")
        if isinstance(mapped, TableMissingError):
            return Check(
                "table exists and ACTIVE",
                FAIL,
                f"table {target.table} not found",
                "run terraform apply, or runbook sandbox up",
            )
        return Check("table exists and ACTIVE", FAIL, str(mapped), getattr(mapped, "hint", ""))
    status = describe.get("TableStatus")
    if status != "ACTIVE":
        return Check(
            "table exists and ACTIVE",
            WARN,
            f"table {target.table} is {status}",
            "wait for ACTIVE, then run the status check again",
        )
    return Check("table exists and ACTIVE", OK, f"{target.table} is ACTIVE")


def check_key_schema(describe: Any, target: Target) -> Check:
    name = "key schema"
    if describe is None:
        return Check(name, FAIL, "table not readable", "fix the table check first")
    keys = describe.get("KeySchema", [])
    types = {
        a["AttributeName"]: a["AttributeType"] for a in describe.get("AttributeDefinitions", [])
    }
    hashes = [k["AttributeName"] for k in keys if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in keys if k["KeyType"] == "RANGE"]
    if hashes != [target.key_name] or ranges or types.get(target.key_name) != "S":
        found = ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in keys)
        return Check(
            name,
            FAIL,
            f"expected hash key {target.key_name} (S) only, found {found}",
            "point key_name at the table's hash key, or check table_name",
        )
    return Check(name, OK, f"hash key {target.key_name} (S)")


def check_item(
    item_resp: Any, err: Exception | None, target: Target
) -> tuple[Check, Check, int | None]:
    present_name, value_name = "counter item present", "count is a non-negative integer"
    if err is not None:
        mapped = from_client_error(err, table=target.table, action="GetItem")
        return (
            Check(present_name, FAIL, _brief(mapped), mapped_hint(mapped)),
            Check(value_name, FAIL, "not readable", "fix the item check first"),
            None,
        )
    item = (item_resp or {}).get("Item")
    if item is None:
        return (
            Check(
                present_name,
                FAIL,
                f"no item {target.key_name}={target.key_value}",
                "run 01_init (runbook run 01_init)",
            ),
            Check(value_name, FAIL, "no item", "run 01_init first"),
            None,
        )
    present = Check(present_name, OK, f"{target.key_name}={target.key_value}")
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


def _brief(exc: Exception) -> str:
    """The error's message without its hint (the hint goes in the next-step column)."""
    return str(exc).split(" Next step:")[0]


def mapped_hint(exc: Exception) -> str:
    return getattr(exc, "hint", "") or "see the error above"


def _unreadable(name: str, err: Exception, action: str, what: str, target: Target) -> Check:
    """A read that failed is a warning on its own check, never a crash of the report."""
    mapped = from_client_error(err, table=target.table, action=action)
    return Check(name, WARN, f"{what}: {_brief(mapped)}", mapped_hint(mapped))


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
            "open the alarm in CloudWatch; for a count drop run 06_history, then 04_backup_restore",
        )
    states = sorted({a.get("StateValue", "?") for a in mine})
    return Check(name, OK, f"{len(mine)} alarm(s), none firing ({', '.join(states)})")


def check_drops(series: Any, err: Exception | None, target: Target, hours: int) -> Check:
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
    drops = [(a, b) for a, b in itertools.pairwise(series) if b < a]
    if drops:
        worst = max(a - b for a, b in drops)
        return Check(
            name,
            FAIL,
            f"{len(drops)} drop(s) of the count in the last {hours} h (largest {worst:g})",
            "run 06_history to see when, then restore with 04_backup_restore",
        )
    return Check(name, OK, f"{len(series)} points over {hours} h, never decreasing")


def check_terraform_state(terraform_dir: str | Path | None, target: Target) -> Check | None:
    """Warn when the local Terraform state manages the counter item: every apply resets it."""
    from . import paths

    name = "Terraform does not manage the item"
    folder = Path(terraform_dir) if terraform_dir else paths.terraform_dir()
    if terraform_dir and not folder.is_dir():
        # a typo must not make the guard disappear silently
        return Check(
            name,
            WARN,
            f"{folder} is not a folder: the Terraform state was not checked",
            "check terraform_dir (the folder you run terraform in)",
        )
    state_file = folder / "terraform.tfstate"
    if not state_file.exists():
        return None
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError) as exc:
        return Check(name, WARN, f"cannot read {state_file}: {exc}", "run terraform show")
    found = []
    for res in state.get("resources", []):
        if res.get("type") != "aws_dynamodb_table_item" or res.get("mode") != "managed":
            continue
        for inst in res.get("instances", []):
            attrs = inst.get("attributes", {})
            if attrs.get("table_name") in (target.table, None):
                prefix = f"{res['module']}." if res.get("module") else ""
                address = f"{prefix}{res['type']}.{res['name']}"
                if "index_key" in inst:
                    address += f"[{json.dumps(inst['index_key'])}]"
                found.append(address)
    if found:
        return Check(
            name,
            WARN,
            f"state in {folder} holds {', '.join(found)}: "
            "the next terraform apply resets the count",
            f"run 05_migrate (runbook run 05_migrate -p terraform_dir {folder})",
        )
    return Check(name, OK, f"no aws_dynamodb_table_item in {state_file.name}")


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
    describe, describe_err = got["describe"]
    checks = [check_table(describe, describe_err, target), check_key_schema(describe, target)]
    present, valid, value = check_item(*got["item"], target)
    checks += [present, valid]
    checks.append(check_pitr(*got["pitr"], target))
    checks.append(check_backups(*got["backups"], target, now, max_backup_age_h))
    checks.append(check_alarms(*got["alarms"], target))
    checks.append(check_drops(*got["metric"], target, drop_window_h))
    tf_check = check_terraform_state(terraform_dir, target)
    if tf_check:
        checks.append(tf_check)
    return StatusReport(target=target, checks=checks, count=value)
