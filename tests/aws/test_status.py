"""The status check against a real moto server: verdicts, not just that it ran."""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid

import pytest

from runbook_lib import aws
from runbook_lib.aws import counter
from runbook_lib.steps import status
from runbook_lib.steps.status import report as statusreport
from tests.conftest import make_table


def _states(report):
    return {c.name: c.state for c in report.checks}


def _put_counts(target, values, minutes_apart=5, now=None):
    cw = aws.client("cloudwatch")
    now = now or dt.datetime.now(dt.timezone.utc)
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
    result = status.run(target)
    report = result.detail
    states = _states(report)
    assert report.healthy and not result.problem, str(report)
    assert result.verdict == "HEALTHY" and result.message == str(report)
    assert result.fields == report.to_dict()
    assert report.count == 41
    assert states["point-in-time recovery"] == "ok"
    assert states["latest backup age"] == "ok"
    assert states["no count drop in recent history"] == "ok"
    assert states["alarm states"] == "warn"  # no alarm watches this throwaway table
    json.dumps(report.to_dict())  # machine-readable


def test_missing_item_and_no_pitr_say_what_to_do(target):
    result = status.run(target)
    report = result.detail
    states = _states(report)
    assert not report.healthy and result.problem and result.verdict == "UNHEALTHY"
    assert states["counter item present"] == "fail"
    item_check = next(c for c in report.checks if c.name == "counter item present")
    assert "the table is empty" in item_check.detail
    assert item_check.next_step.startswith("run 01_init")  # empty table: init is right
    assert states["point-in-time recovery"] == "warn"
    assert states["latest backup age"] == "warn"
    assert report.count is None


def test_missing_table_is_a_failed_check_that_lists_the_tables_there(moto_url):
    """A misspelled table name: the next step names the tables that exist (in the target's
    region) before it suggests creating one."""
    from runbook_lib.model import Target

    region = "ap-southeast-4"  # a region of this test's own on the shared server
    ddb = aws.client("dynamodb", aws.session(region))
    real = make_table(ddb, name=f"crc-{uuid.uuid4().hex[:8]}-table")
    report = status.run_status(Target(table="crc-tabel", endpoint=moto_url, region=region))
    check = report.checks[0]
    assert check.state == "fail"
    assert f"table crc-tabel not found in {region}; tables there: " in check.detail
    assert real in check.detail
    assert check.next_step.startswith("if the counter is in one of these, pass -p table_name")
    assert report.verdict.startswith(f"UNHEALTHY: table crc-tabel not found in {region}")


def test_string_count_is_a_failed_check(target, ddb):
    ddb.put_item(TableName=target.table, Item={**target.key, "viewCount": {"S": "lots"}})
    report = status.run_status(target)
    check = next(c for c in report.checks if c.name == "count is a non-negative integer")
    assert check.state == "fail"
    assert "type S" in check.detail


def test_wrong_key_schema_fails(ddb, moto_url):
    from runbook_lib.model import Target

    name = make_table(ddb, key="id")
    report = status.run_status(Target(table=name, endpoint=moto_url))
    assert _states(report)["key schema"] == "fail"
    assert not report.healthy


def test_a_reset_is_the_headline_with_its_time_and_next_step(target, ddb):
    """GIVEN the count gauge went 4650, 4652, 0 (the guide's reset) WHEN status runs THEN the
    headline says what happened and when, and what to do, not a check's name."""
    counter.init_counter(target, initial=3, ddb=ddb)
    # `now` on a 5-minute boundary: CloudWatch's buckets then start at the points' times
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    now -= dt.timedelta(minutes=now.minute % 5)
    _put_counts(target, [4650, 4652, 0], now=now)
    report = status.run_status(target, now=now)
    check = next(c for c in report.checks if c.name == "no count drop in recent history")
    reset_at = now - dt.timedelta(minutes=5)
    when = reset_at.strftime("%H:%M UTC" if reset_at.date() == now.date() else "%Y-%m-%d %H:%M UTC")
    assert check.state == "fail"
    assert check.detail == f"count dropped from 4652 to 0 at {when}"
    assert report.verdict.startswith(f"UNHEALTHY: count dropped from 4652 to 0 at {when}; next: ")
    assert "04_backup_restore" in report.verdict
    assert "failed check" not in report.verdict


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
    (tmp_path / "main.tf").write_text("# the stack's configuration\n")
    report = status.run_status(target, terraform_dir=tmp_path)
    check = report.checks[-1]
    assert check.state == "fail" and not report.healthy
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


# ---- could not look: NOT CHECKED, never "fine"; an unreachable endpoint is one line -------


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_):
        yield self.data


def _dynamodb_error(code: str, message: str):
    """A before-send hook answering with a DynamoDB error (botocore fault injection)."""
    from botocore.awsrequest import AWSResponse

    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})

    def answer(request, **_):
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 400, headers, _Body(body.encode()))

    return answer


@pytest.fixture
def inject(monkeypatch):
    """inject["dynamodb.ListBackups"] = hook: clients made from now on answer that
    operation with the hook's response instead of sending it."""
    import boto3

    hooks: dict = {}
    original = boto3.session.Session.client

    def client(self, *args, **kwargs):
        made = original(self, *args, **kwargs)
        for event, hook in hooks.items():
            made.meta.events.register(f"before-send.{event}", hook)
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    return hooks


def test_a_check_that_could_not_run_is_not_checked_and_counted(live42, ddb, inject):
    """GIVEN no permission for DescribeContinuousBackups and an endpoint that does not serve
    ListBackups WHEN status runs THEN both rows are NOT CHECKED with the reason, the headline
    counts them, and the report is not healthy (a scheduler gets exit 3, not a green)."""
    ddb.create_backup(TableName=live42.table, BackupName="would-be-fine")
    inject["dynamodb.DescribeContinuousBackups"] = _dynamodb_error(
        "AccessDeniedException", "not authorized to perform DescribeContinuousBackups"
    )
    inject["dynamodb.ListBackups"] = _dynamodb_error(
        "UnknownOperationException", "ListBackups is not served here"
    )
    report = status.run_status(live42)
    rows = {c.name: c for c in report.checks}
    pitr, backups = rows["point-in-time recovery"], rows["latest backup age"]
    assert (pitr.state, backups.state) == (statusreport.NOT_CHECKED, statusreport.NOT_CHECKED)
    assert "AccessDeniedException" in pitr.detail and "operator policy" in pitr.next_step
    assert "UnknownOperationException" in backups.detail
    assert report.count == 42 and rows["counter item present"].state == "ok"
    assert not report.healthy
    assert report.verdict == (
        "NOT FULLY CHECKED: 2 not checked (point-in-time recovery, latest backup age); "
        "nothing that was checked failed"
    )
    result = report.to_dict()
    assert result["healthy"] is False
    assert result["not_checked"] == ["point-in-time recovery", "latest backup age"]
    assert "[NOT CHECKED] point-in-time recovery" in str(report)


def test_a_failure_and_a_check_not_run_are_both_in_the_headline(target, inject):
    inject["dynamodb.DescribeContinuousBackups"] = _dynamodb_error("AccessDeniedException", "no")
    report = status.run_status(target)  # empty table: the item is missing
    assert report.verdict.startswith("UNHEALTHY: no item stat=Quantity; the table is empty")
    # the count's check depends on the item: not run either, and counted
    assert report.verdict.endswith(
        "; 2 not checked (count is a non-negative integer, point-in-time recovery)"
    )


def test_missing_item_beside_another_item_does_not_advise_init(target, ddb):
    """GIVEN the counter lives under stat=Quantiy (a typo at creation) and the runbook asks
    for stat=Quantity WHEN status runs THEN it names the item that is there and warns that
    01_init would make a second counter."""
    ddb.put_item(
        TableName=target.table, Item={"stat": {"S": "Quantiy"}, "viewCount": {"N": "4652"}}
    )
    report = status.run_status(target)
    check = next(c for c in report.checks if c.name == "counter item present")
    assert check.state == "fail"
    assert check.detail == "no item stat=Quantity, but the table holds stat=Quantiy"
    assert "do not run 01_init" in check.next_step
    assert not check.next_step.startswith("run 01_init")
    assert "run 01_init" not in report.verdict.replace("do not run 01_init", "")


def _closed_port_url() -> str:
    """A loopback URL nothing listens on: bound, read, closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_unreachable_endpoint_raises_one_clear_error_after_one_attempt(target, monkeypatch, inject):
    from runbook_lib.errors import EndpointUnreachableError

    url = _closed_port_url()
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    attempts: list[str] = []
    inject["*.*"] = lambda request, **_: attempts.append(request.url)  # counted, unanswered
    with pytest.raises(EndpointUnreachableError) as caught:
        status.run_status(target)
    assert str(caught.value) == (
        f"cannot reach {url}: the sandbox is not running; run `runbook sandbox up` "
        "or unset AWS_ENDPOINT_URL"
    )
    assert len(attempts) == 6, "one attempt per read: a dead sandbox is not retried"


def test_the_hints_name_the_stack_the_run_was_given(target, ddb, tmp_path, monkeypatch):
    """terraform_dir of another stack: PITR and alarm hints name it, relative, never the
    project's terraform/ and never this machine's absolute path."""
    counter.init_counter(target, ddb=ddb)
    stack = tmp_path / "stacks" / "prod"
    stack.mkdir(parents=True)
    (stack / "main.tf").write_text("# another stack\n")
    monkeypatch.chdir(tmp_path)

    report = status.run_status(target, terraform_dir=str(stack))

    rows = {c.name: c for c in report.checks}
    assert rows["point-in-time recovery"].next_step.startswith("enable it in stacks/prod/ (")
    assert "stacks/prod/" in rows["alarm states"].next_step
    for row in (rows["point-in-time recovery"], rows["alarm states"]):
        assert "terraform/" not in row.next_step and str(tmp_path) not in row.next_step
