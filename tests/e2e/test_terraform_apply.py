"""terraform/ applied for real (Terraform + the AWS provider) to a moto server.

Proves the stack deploys whole, that a second apply changes nothing (the count-resetting
aws_dynamodb_table_item is gone and nothing else drifts), and that the sandbox works on a
copy: the user's terraform/ folder gets no state or override files.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runbook_lib import aws
from runbook_lib.sandbox import server as sandbox
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.commands import converge, show_json
from runbook_lib.tf.environment import sandbox_env
from runbook_lib.tf.hclconfig import load_config
from runbook_lib.tf.lambdazip import LAMBDA_ZIP
from runbook_lib.tf.override import OVERRIDE_NAME
from runbook_lib.tf.sandboxstack import apply_to_sandbox
from runbook_lib.tf.state import state_resources
from runbook_lib.tf.tabledef import table_definition

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.skipif(
        find_terraform() is None,
        reason="no terraform binary on PATH (set RUNBOOK_TERRAFORM to use another one)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
TF_DIR = ROOT / "terraform"
REGION = "us-east-1"


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def applied(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One cold apply into a fresh workdir; the user's folder is snapshotted around it.

    On a moto server of this module's own, which the environment points at while the
    module runs: an apply that meets the provider's own lost create is recovered by
    resetting the server (sandbox.apply_stack), which a shared server could not allow.
    """
    workdir = tmp_path_factory.mktemp("tf-sandbox")
    pid, url = sandbox.start_server(log_path=workdir.parent / "moto-applied.log")
    shared = os.environ["AWS_ENDPOINT_URL"]
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        before = _tree(TF_DIR)
        started = time.monotonic()
        outputs = sandbox.apply_stack(url, REGION, src_dir=TF_DIR, workdir=workdir, log=print)
        cold_s = time.monotonic() - started
        item = aws.client("dynamodb").get_item(
            TableName=outputs["table_name"], Key={"stat": {"S": "Quantity"}}
        )
        yield {
            "item_after_apply": item.get("Item"),
            "outputs": outputs,
            "workdir": workdir,
            "before": before,
            "cold_s": cold_s,
            "url": url,
            "env": sandbox_env(url, REGION),
        }
    finally:
        os.environ["AWS_ENDPOINT_URL"] = shared
        sandbox.stop_pid(pid)


@pytest.fixture(scope="module")
def out(applied) -> dict[str, Any]:
    return applied["outputs"]


def test_outputs_name_everything_the_runbook_reads(out):
    assert set(out) >= {
        "table_name",
        "table_arn",
        "api_url",
        "api_id",
        "function_name",
        "metric_namespace",
        "metric_name",
        "key_name",
        "key_value",
        "count_attribute",
        "lambda_log_group_name",
        "api_access_log_group_name",
        "alarm_names",
        "runbook_operator_policy_arn",
    }
    assert out["table_name"] == "resume.example.com-VisitorCount"
    assert out["function_name"] == "resume-example-com-visitor-counter"
    assert (out["key_name"], out["key_value"], out["count_attribute"]) == (
        "stat",
        "Quantity",
        "viewCount",
    )
    assert out["api_url"].endswith(".amazonaws.com/count")


def test_every_configured_resource_is_in_the_state(applied):
    show = show_json(applied["workdir"], env=applied["env"])
    in_state = {f"{r['type']}.{r['name']}" for r in state_resources(show) if r["mode"] == "managed"}
    config = load_config(TF_DIR)
    configured = {
        f"{t}.{n}" for block in config["resource"] for t, body in block.items() for n in body
    }
    assert configured <= in_state
    assert [r for r in state_resources(show) if r["type"] == "aws_dynamodb_table_item"] == []


def test_apply_creates_no_counter_item(applied):
    """Infrastructure only: the Lambda or 01_init creates the item, never Terraform."""
    assert applied["item_after_apply"] is None


def test_table_is_active_with_pitr_sse_and_deletion_protection(out):
    ddb = aws.client("dynamodb")
    table = ddb.describe_table(TableName=out["table_name"])["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "stat", "KeyType": "HASH"}]
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["DeletionProtectionEnabled"] is True
    assert table["TableArn"] == out["table_arn"]
    backups = ddb.describe_continuous_backups(TableName=out["table_name"])
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_the_same_table_as_table_definition_builds(out):
    create = table_definition(TF_DIR)["create_table"]
    table = aws.client("dynamodb").describe_table(TableName=create["TableName"])["Table"]
    assert table["KeySchema"] == create["KeySchema"]
    assert table["AttributeDefinitions"] == create["AttributeDefinitions"]


def test_lambda_is_deployed_with_the_built_zip_and_its_settings(applied, out):
    fn = aws.client("lambda").get_function(FunctionName=out["function_name"])["Configuration"]
    assert fn["Runtime"] == "python3.12"
    assert fn["Handler"] == "visitor_counter.handler"
    assert fn["Environment"]["Variables"] == {
        "TABLE_NAME": out["table_name"],
        "KEY_NAME": "stat",
        "KEY_VALUE": "Quantity",
        "KEY_TYPE": "S",
        "COUNT_ATTRIBUTE": "viewCount",
        "METRIC_NAMESPACE": out["metric_namespace"],
        "METRIC_NAME": out["metric_name"],
        "ALLOW_ORIGIN": "https://resume.example.com",
    }
    zip_bytes = (applied["workdir"] / LAMBDA_ZIP).read_bytes()
    assert fn["CodeSha256"] == base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()
    role = fn["Role"].rsplit("/", 1)[-1]
    policy = aws.client("iam").get_role_policy(
        RoleName=role, PolicyName=f"{out['function_name']}-policy"
    )["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    actions = {stmt["Sid"]: (stmt["Action"], stmt["Resource"]) for stmt in policy["Statement"]}
    assert actions["IncrementCounter"] == ("dynamodb:UpdateItem", out["table_arn"])


def test_api_routes_stage_and_permission(out):
    api = aws.client("apigatewayv2")
    found = api.get_api(ApiId=out["api_id"])
    assert found["ProtocolType"] == "HTTP"
    assert found["CorsConfiguration"]["AllowOrigins"] == ["https://resume.example.com"]
    routes = {r["RouteKey"] for r in api.get_routes(ApiId=out["api_id"])["Items"]}
    assert routes == {"GET /count", "POST /count"}
    (integration,) = api.get_integrations(ApiId=out["api_id"])["Items"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    stage = api.get_stage(ApiId=out["api_id"], StageName="$default")
    assert stage["AutoDeploy"] is True
    assert stage["AccessLogSettings"]["DestinationArn"].endswith(out["api_access_log_group_name"])
    policy = json.loads(
        aws.client("lambda").get_policy(FunctionName=out["function_name"])["Policy"]
    )
    assert policy["Statement"][0]["Principal"]["Service"] == "apigateway.amazonaws.com"


def test_operator_policy_is_scoped_to_the_stack(out):
    arn = out["runbook_operator_policy_arn"]
    iam = aws.client("iam")
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    by_sid = {stmt["Sid"]: stmt for stmt in doc["Statement"]}
    assert by_sid["CounterItemAndTable"]["Resource"] == out["table_arn"]
    wildcard = {sid for sid, stmt in by_sid.items() if stmt["Resource"] == "*"}
    assert wildcard == {"ListBackups", "MetricsAndAlarms"}


def test_log_groups_have_retention(out):
    logs = aws.client("logs")
    for name in (out["lambda_log_group_name"], out["api_access_log_group_name"]):
        (group,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        assert group["retentionInDays"] == 30


def test_alarms_watch_the_count_the_lambda_and_the_table(out):
    cw = aws.client("cloudwatch")
    names = out["alarm_names"]
    alarms = {
        a["AlarmName"]: a
        for a in cw.describe_alarms(AlarmNames=list(names.values()))["MetricAlarms"]
    }
    assert set(alarms) == set(names.values())
    for alarm in alarms.values():
        assert alarm["TreatMissingData"] == "notBreaching"

    dropped = alarms[names["count_dropped"]]
    assert dropped["ComparisonOperator"] == "LessThanThreshold"
    assert dropped["Threshold"] == 0
    queries = {q["Id"]: q for q in dropped["Metrics"]}
    assert "DIFF(" in queries["drop"]["Expression"] and queries["drop"]["ReturnData"]
    metric = queries["m1"]["MetricStat"]
    assert metric["Stat"] == "Maximum"
    assert metric["Metric"]["Namespace"] == out["metric_namespace"]
    assert metric["Metric"]["MetricName"] == out["metric_name"]
    assert metric["Metric"]["Dimensions"] == [{"Name": "TableName", "Value": out["table_name"]}]

    errors = alarms[names["lambda_errors"]]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": out["function_name"]}]
    assert errors["ComparisonOperator"] == "GreaterThanThreshold"

    throttles = alarms[names["dynamodb_throttles"]]
    watched = {
        q["MetricStat"]["Metric"]["MetricName"] for q in throttles["Metrics"] if "MetricStat" in q
    }
    assert watched == {"ReadThrottleEvents", "WriteThrottleEvents"}


def test_the_deployed_configuration_drives_the_handler(out, monkeypatch, capsys):
    """The function's own environment, fed to the handler in-process, counts a visit."""
    fn = aws.client("lambda").get_function(FunctionName=out["function_name"])["Configuration"]
    for key, value in fn["Environment"]["Variables"].items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("vc_apply", TF_DIR / "lambda/visitor_counter.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    resp = module.handler({}, None)
    assert resp["statusCode"] == 200
    assert json.loads(resp["body"])["count"] >= 1


def test_second_apply_is_a_no_op(applied):
    # plan -detailed-exitcode exits 0 only when nothing would change: nothing applied
    assert converge(applied["workdir"], env=applied["env"]) is False
    started = time.monotonic()
    apply_to_sandbox(applied["url"], REGION, TF_DIR, applied["workdir"])
    warm_s = time.monotonic() - started
    print(f"apply_to_sandbox: cold {applied['cold_s']:.1f}s, warm {warm_s:.1f}s")


def test_user_terraform_folder_is_untouched(applied):
    after = _tree(TF_DIR)
    assert after - applied["before"] == set()
    for name in after:
        assert not name.endswith((".tfstate", ".tfstate.backup", OVERRIDE_NAME, ".tfplan"))
        assert not name.startswith(".terraform")


def test_reapply_after_the_sandbox_restarts_recreates_everything(applied, state_dir, tmp_path):
    """The workdir keeps its state; against a fresh (empty) server, refresh drops the
    vanished resources and apply recreates them instead of failing."""
    workdir = tmp_path / "copy"
    shutil.copytree(applied["workdir"], workdir, symlinks=True)
    pid, url = sandbox.start_server(log_path=state_dir / "moto-restart.log")
    try:
        # a fresh server: a create whose answer was lost resets it (as `sandbox up` does)
        outputs = sandbox.apply_stack(url, REGION, src_dir=TF_DIR, workdir=workdir, log=print)
        assert outputs["table_name"] == applied["outputs"]["table_name"]
        env = sandbox_env(url, REGION)
        assert converge(workdir, env=env) is False
    finally:
        sandbox.stop_pid(pid)
