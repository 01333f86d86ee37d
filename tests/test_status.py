"""The status check against a real moto server: verdicts, not just that it ran."""

from __future__ import annotations

import datetime as dt
import json

from runbook_lib import aws, counter, status
from tests.conftest import make_table


def _states(report):
    return {c.name: c.state for c in report.checks}


def _put_counts(target, values, minutes_apart=5):
    cw = aws.client("cloudwatch")
    now = dt.datetime.now(dt.timezone.utc)
    data = [
        {
            "MetricName": target.metric_name,
            "Dimensions": [{"Name": "TableName", "Value": target.table}],
            "Timestamp": now - dt.timedelta(minutes=minutes_apart * (len(values) - i)),
            "Value": float(v),
            "Unit": "Count",
        }
        for i, v in enumerate(values)
    ]
    cw.put_metric_data(Namespace=target.metric_namespace, MetricData=data)


def test_healthy_table_with_backup_pitr_and_clean_history(target, ddb):
    counter.init_counter(target, initial=41, ddb=ddb)
    ddb.update_continuous_backups(
        TableName=target.table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    ddb.create_backup(TableName=target.table, BackupName="status-test")
    _put_counts(target, [10, 20, 30, 41])
    report = status.run_status(target)
    states = _states(report)
    assert report.healthy, str(report)
    assert report.count == 41
    assert states["point-in-time recovery"] == "ok"
    assert states["latest backup age"] == "ok"
    assert states["no count drop in recent history"] == "ok"
    assert states["alarm states"] == "warn"  # no alarm watches this throwaway table
    json.dumps(report.to_dict())  # machine-readable


def test_missing_item_and_no_pitr_say_what_to_do(target):
    report = status.run_status(target)
    states = _states(report)
    assert not report.healthy
    assert states["counter item present"] == "fail"
    item_check = next(c for c in report.checks if c.name == "counter item present")
    assert "01_init" in item_check.next_step
    assert states["point-in-time recovery"] == "warn"
    assert states["latest backup age"] == "warn"
    assert report.count is None


def test_missing_table_is_a_failed_check_not_a_crash(moto_url):
    from runbook_lib.target import Target

    report = status.run_status(Target(table="no-such-table", endpoint=moto_url))
    check = report.checks[0]
    assert check.state == "fail"
    assert "terraform apply, or runbook sandbox up" in check.next_step


def test_string_count_is_a_failed_check(target, ddb):
    ddb.put_item(TableName=target.table, Item={**target.key, "viewCount": {"S": "lots"}})
    report = status.run_status(target)
    check = next(c for c in report.checks if c.name == "count is a non-negative integer")
    assert check.state == "fail"
    assert "type S" in check.detail


def test_wrong_key_schema_fails(ddb, moto_url):
    from runbook_lib.target import Target

    name = make_table(ddb, key="id")
    report = status.run_status(Target(table=name, endpoint=moto_url))
    assert _states(report)["key schema"] == "fail"
    assert not report.healthy


def test_drop_in_history_fails(target, ddb):
    counter.init_counter(target, initial=3, ddb=ddb)
    _put_counts(target, [100, 120, 3])
    report = status.run_status(target)
    check = next(c for c in report.checks if c.name == "no count drop in recent history")
    assert check.state == "fail"
    assert "largest 117" in check.detail


def test_alarm_in_alarm_state_fails(target, ddb):
    counter.init_counter(target, ddb=ddb)
    cw = aws.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName=f"{target.table}-throttles",
        Namespace="AWS/DynamoDB",
        MetricName="WriteThrottleEvents",
        Dimensions=[{"Name": "TableName", "Value": target.table}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cw.set_alarm_state(
        AlarmName=f"{target.table}-throttles", StateValue="ALARM", StateReason="test"
    )
    report = status.run_status(target)
    check = next(c for c in report.checks if c.name == "alarm states")
    assert check.state == "fail"
    assert "throttles" in check.detail


def test_terraform_state_with_table_item_warns(target, ddb, tmp_path):
    counter.init_counter(target, ddb=ddb)
    state = {
        "version": 4,
        "resources": [
            {
                "mode": "managed",
                "type": "aws_dynamodb_table_item",
                "name": "visitor_count",
                "instances": [{"attributes": {"table_name": target.table}}],
            }
        ],
    }
    (tmp_path / "terraform.tfstate").write_text(json.dumps(state))
    report = status.run_status(target, terraform_dir=tmp_path)
    check = report.checks[-1]
    assert check.state == "warn"
    assert "aws_dynamodb_table_item.visitor_count" in check.detail
    assert "05_migrate" in check.next_step


def test_all_reads_run_concurrently(target, ddb):
    """Sequential depth 1: every AWS call of the status check is in flight at once."""
    import threading

    counter.init_counter(target, ddb=ddb)
    in_flight, peak, lock = [0], [0], threading.Lock()
    barrier = threading.Barrier(6, timeout=10)

    def before(**_):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        barrier.wait()  # raises BrokenBarrierError if the calls were made one by one

    def after(**_):
        with lock:
            in_flight[0] -= 1

    import boto3

    orig = boto3.session.Session.client

    def client(self, *args, **kwargs):
        c = orig(self, *args, **kwargs)
        c.meta.events.register("before-send", before)
        c.meta.events.register("after-call", after)
        return c

    boto3.session.Session.client = client
    try:
        report = status.run_status(target)
    finally:
        boto3.session.Session.client = orig
    assert peak[0] == 6
    assert report.count == 0
