"""Least privilege, enforced: the runbook's `report` and `operator` IAM policies on a moto
server with its IAM access control on.

GIVEN terraform/ applied to a moto server of its own, users holding exactly the policies
Terraform created, and the server then switched to enforcing IAM,
WHEN the notebooks run with one user's access keys in the environment (never in parameters),
THEN 02_status and 06_history pass as `report`, a real 03_set_count as `report` fails with the
runbook's "Access denied ... Next step: use a role with the runbook's operator policy" and
writes nothing to the table, and the same write as `operator` succeeds.

Where the policies come from: Terraform itself. The stack is applied whole (the sandbox's own
`sandbox.provision`), then the users get the `aws_iam_policy` resources Terraform created,
attached by the ARNs in its outputs, and the documents are read back with
iam.get_policy_version for the structural checks. So the JSON under test is what the AWS
provider rendered (`aws_iam_policy_document`, `source_policy_documents`, the `dynamic` S3
statement), with the real table ARN, not a re-implementation of HCL evaluation that could
drift from it. It costs one cold apply (20-50 s here, with load), the only Terraform run.

How the server enforces IAM, and what this file adds to moto (5.2):
- `INITIAL_NO_AUTH_ACTION_COUNT` is set in the server's environment, so access control is
  armed from the start. Setup (Terraform's few hundred requests, seeding, users, keys) runs
  inside that unauthenticated allowance; then `POST /moto-api/reset-auth 0`, what moto's own
  `set_initial_no_auth_action_count` does in server mode, closes it at a known point rather
  than after a request count we would have to predict. Terraform cannot apply *after* the
  switch, even as an admin user allowed "*": moto answers the provider's Lambda GetFunction
  and API Gateway v2 GetApi with a 403 (XML body) that the provider cannot parse.
- moto evaluates the Resource element only for services that name their resource (S3, SQS, IAM
  roles, STS AssumeRole); a DynamoDB request is checked against "*", so every statement
  scoped to the table ARN would match nothing. SERVER_BOOTSTRAP below (run in the server
  process, before sandbox.motoserver.main) gives DynamoDB requests the ARNs AWS evaluates: the
  table in TableName/SourceTableName, the restore target in TargetTableName, the backup in
  BackupArn, every table in RequestItems, each checked in turn. If moto changes and the
  hook stops applying, requests go back to "*" and the tests fail closed (denied), never
  open. Likewise a CloudWatch DescribeAlarms without AlarmNames is checked against
  "arn:aws:cloudwatch:REGION:ACCOUNT:alarm:*", as AWS does (its AccessDenied names that ARN).
- moto names an action after the request's SigV4 signing name, which for CloudWatch is
  "monitoring": a policy granting `cloudwatch:GetMetricData` (the only valid spelling on
  AWS) is refused `monitoring:GetMetricData`. The bootstrap maps it back to `cloudwatch:`.
- moto answers a denied DynamoDB call with IAM's XML error and HTTP 403; botocore's JSON
  parser then reports the code "403", which no client would map to access denied. Real
  DynamoDB answers HTTP 400 JSON `AccessDeniedException` ("User: X is not authorized to
  perform: dynamodb:UpdateItem on resource: ARN because no identity-based policy allows ...")
  and `UnrecognizedClientException` for an unknown key; the bootstrap emits those.

What moto does NOT enforce (so these rest on the structural tests and on AWS's documented
semantics, not on the server):
- Condition keys other than `sts:ExternalId`: `ForAllValues:StringEquals dynamodb:LeadingKeys`
  (the operator writes only the counter item) and `s3:x-amz-acl` are ignored, i.e. allowed.
- Implied permissions: AWS also requires write access to a restore's target table and
  `s3:PutObjectAcl` for papermill's `bucket-owner-full-control` upload; moto checks only the
  action called.
- CloudWatch denials: its CBOR protocol cannot parse moto's XML error, so the matrix below
  checks CloudWatch reads (allowed) only; the notebooks exercise GetMetricData/DescribeAlarms.
- `sts:GetCallerIdentity` is always allowed, as on AWS (the banner and audit log use it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from runbook_lib.notebook import runner
from runbook_lib.sandbox import provision
from runbook_lib.sandbox import server as sandbox
from runbook_lib.steps.common import auditlog
from runbook_lib.tf.binary import find_terraform

pytestmark = [
    pytest.mark.slow,
    pytest.mark.terraform,
    pytest.mark.skipif(
        find_terraform() is None,
        reason="no terraform binary on PATH: the policies under test are Terraform's",
    ),
]

REGION = sandbox.REGION
ACCOUNT = "123456789012"  # moto's default account
# Far above what setup sends (one apply + seeding: a few hundred requests); the window is
# closed explicitly with reset-auth once setup is done.
SETUP_REQUEST_BUDGET = 100_000
REPORTS_BUCKET = "counter-reports"
REPORTS_PREFIX = "daily/"
OTHER_TABLE = "someone-elses-table"
DENIED_CODES = {"AccessDenied", "AccessDeniedException"}
READ_VERBS = ("Describe", "Get", "List")

SERVER_BOOTSTRAP = textwrap.dedent(
    """
    import json
    import sys

    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.exceptions import AccessDeniedError, InvalidClientTokenIdError, JsonRESTError
    from moto.dynamodb.responses import DynamoHandler
    from moto.iam.access_control import IAMRequest

    # moto names the action after the SigV4 signing name; IAM uses its own prefix.
    IAM_PREFIX = {"monitoring": "cloudwatch"}


    def _resources(self):
        try:
            body = json.loads(self.raw_body or b"{}")
        except ValueError:
            return ["*"]
        table = f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/"
        found = [body["BackupArn"]] if body.get("BackupArn") else []
        for key in ("TableName", "SourceTableName", "TargetTableName"):
            if body.get(key):
                found.append(table + body[key])
        found += [table + name for name in body.get("RequestItems") or {}]
        return found or ["*"]


    def _authorize(self, resource="*"):
        for arn in _resources(self):
            try:
                ActionAuthenticatorMixin._authenticate_and_authorize_normal_action(self, arn)
            except AccessDeniedError as exc:
                action = exc.message.rsplit(" ", 1)[-1]
                raise JsonRESTError(
                    "AccessDeniedException",
                    f"{exc.message} on resource: {arn} because no identity-based policy "
                    f"allows the {action} action",
                ) from None
            except InvalidClientTokenIdError as exc:
                raise JsonRESTError("UnrecognizedClientException", exc.message) from None


    DynamoHandler._authenticate_and_authorize_normal_action = _authorize


    def _cloudwatch_resource(self):
        if self._get_action() == "DescribeAlarms":  # without AlarmNames: every alarm
            return f"arn:aws:cloudwatch:{self.region}:{self.current_account}:alarm:*"
        return "*"


    CloudWatchResponse._determine_resource = _cloudwatch_resource

    _iam_request_init = IAMRequest.__init__


    def _init_with_iam_prefix(self, *args, **kwargs):
        _iam_request_init(self, *args, **kwargs)
        service, _, name = self._action.partition(":")
        self._action = f"{IAM_PREFIX.get(service, service)}:{name}"


    IAMRequest.__init__ = _init_with_iam_prefix

    # the sandbox's moto server (one request at a time), as start_server runs it
    from runbook_lib.sandbox.motoserver import main

    main(sys.argv[1:])
    """
)


@dataclass(frozen=True)
class User:
    name: str
    arn: str
    key_id: str
    secret: str = field(repr=False)


@dataclass
class Stack:
    url: str
    outputs: dict[str, Any]
    users: dict[str, User]
    policies: dict[str, dict[str, Any]]  # role -> policy document as IAM holds it
    roles: dict[str, dict[str, Any]]  # role -> {"trust": doc, "attached": [policy ARNs]}
    backup_arn: str

    @property
    def table(self) -> str:
        return self.outputs["table_name"]

    @property
    def table_arn(self) -> str:
        return self.outputs["table_arn"]

    def client(self, service: str, who: str = "admin") -> Any:
        user = self.users[who]
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=user.key_id,
            aws_secret_access_key=user.secret,
        )

    def item(self) -> dict[str, Any]:
        """The counter item exactly as DynamoDB returns it, read by the admin."""
        return self.client("dynamodb").get_item(
            TableName=self.table, Key={"stat": {"S": "Quantity"}}, ConsistentRead=True
        )["Item"]


# ---- the server -----------------------------------------------------------------------------


def _start_enforcing_server(log_path: Path) -> tuple[subprocess.Popen, str]:
    port = sandbox.free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_REQUEST_BUDGET)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_BOOTSTRAP, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + sandbox.READY_TIMEOUT_S
    while not sandbox.is_alive(url, timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            sandbox.stop_pid(proc.pid)
            pytest.fail(f"the IAM-enforcing moto server did not start; see {log_path}")
        time.sleep(0.1)
    return proc, url


def _close_unauthenticated_window(url: str) -> None:
    """From now on every request must be signed by a known key and allowed by its policies."""
    req = urllib.request.Request(
        f"{url}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},  # not a form: moto reads the raw body
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read())["status"] == "ok"


def _document(raw: Any) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else raw


def _make_user(iam: Any, name: str, *, policy_arn: str | None = None) -> User:
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if policy_arn:
        iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)
    else:  # the admin: verification reads after the window closes
        everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        iam.put_user_policy(
            UserName=name,
            PolicyName="admin",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [everything]}),
        )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return User(name=name, arn=arn, key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])


def _setup(url: str) -> Stack:
    """Inside the unauthenticated window: the stack, its data, the users."""
    info = provision.provision(
        sandbox.SandboxInfo(url=url, pid=0), days=2, use_terraform=True, log=lambda _m: None
    )
    out = info.outputs
    session = boto3.session.Session(
        aws_access_key_id=sandbox.DUMMY_KEY_ID,
        aws_secret_access_key=sandbox.DUMMY_SECRET,
        region_name=REGION,
    )
    iam, ddb = session.client("iam", endpoint_url=url), session.client("dynamodb", endpoint_url=url)
    session.client("s3", endpoint_url=url).create_bucket(Bucket=REPORTS_BUCKET)
    ddb.create_table(
        TableName=OTHER_TABLE,
        KeySchema=[{"AttributeName": "stat", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "stat", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=OTHER_TABLE, Item={"stat": {"S": "Quantity"}, "viewCount": {"N": "7"}})
    policy_arns = {
        "report": out["runbook_report_policy_arn"],
        "operator": out["runbook_operator_policy_arn"],
    }
    users = {
        role: _make_user(iam, f"runbook-{role}", policy_arn=arn)
        for role, arn in policy_arns.items()
    }
    users["admin"] = _make_user(iam, "runbook-test-admin")
    policies, roles = {}, {}
    for role, arn in policy_arns.items():
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        policies[role] = _document(doc)
        role_name = out[f"runbook_{role}_role_arn"].rsplit("/", 1)[-1]
        attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        roles[role] = {
            "trust": _document(
                iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
            ),
            "attached": sorted(p["PolicyArn"] for p in attached),
        }
    (backup,) = ddb.list_backups(TableName=out["table_name"])["BackupSummaries"]
    return Stack(url, out, users, policies, roles, backup["BackupArn"])


@pytest.fixture(scope="module")
def stack(state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("iam-enforcement")
    proc, url = _start_enforcing_server(folder / "moto-iam.log")
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key in [k for k in os.environ if k.startswith("AWS_")]:
                mp.delenv(key)
            mp.setenv("AWS_ENDPOINT_URL", url)
            mp.setenv("TF_VAR_runbook_reports_bucket", REPORTS_BUCKET)
            mp.setenv("TF_VAR_runbook_reports_prefix", REPORTS_PREFIX)
            built = _setup(url)
        _close_unauthenticated_window(url)
        yield built
    finally:
        sandbox.stop_pid(proc.pid)


@pytest.fixture
def act_as(stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str], None]:
    """Point the environment (inherited by the notebook kernel) at one user's keys."""

    def use(who: str) -> None:
        user = stack.users[who]
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("AWS_ENDPOINT_URL", stack.url)
        monkeypatch.setenv("AWS_REGION", REGION)
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", user.key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", user.secret)
        monkeypatch.setenv("RUNBOOK_BACKUPS", str(tmp_path / "backups"))

    return use


# ---- the policies as Terraform created them ---------------------------------------------------


def _statements(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in doc["Statement"]}


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_the_server_enforces_iam(stack):
    dummy = boto3.client(
        "dynamodb",
        endpoint_url=stack.url,
        region_name=REGION,
        aws_access_key_id=sandbox.DUMMY_KEY_ID,
        aws_secret_access_key=sandbox.DUMMY_SECRET,
    )
    with pytest.raises(ClientError) as err:
        dummy.describe_table(TableName=stack.table)
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_roles_carry_the_policies_and_trust_the_account(stack):
    for role in ("report", "operator"):
        assert stack.roles[role]["attached"] == [stack.outputs[f"runbook_{role}_policy_arn"]]
        (trust,) = stack.roles[role]["trust"]["Statement"]
        assert trust["Action"] == "sts:AssumeRole"
        assert trust["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert stack.outputs["runbook_operator_role_arn"].endswith(
        ":role/resume-example-com-counter-operator"
    )


def test_report_policy_only_reads_and_publishes_reports(stack):
    report = _statements(stack.policies["report"])
    for sid, stmt in report.items():
        for action in _listed(stmt["Action"]):
            verb = action.split(":", 1)[1]
            assert verb.startswith(READ_VERBS) or sid == "PublishReports", (sid, action)
    assert report["CounterItemAndTable"]["Resource"] == stack.table_arn
    publish = report["PublishReports"]
    assert publish["Resource"] == f"arn:aws:s3:::{REPORTS_BUCKET}/{REPORTS_PREFIX}*"
    assert publish["Condition"] == {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}


def test_operator_policy_is_report_plus_scoped_writes(stack):
    report, operator = (_statements(stack.policies[r]) for r in ("report", "operator"))
    assert {sid: operator[sid] for sid in report} == report
    writes = operator["WriteCounterItem"]
    assert writes["Resource"] == stack.table_arn
    # moto ignores this condition (see the module docstring); AWS enforces it
    assert writes["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": "Quantity"}
    }
    restored = f"{stack.table_arn}-restored-*"
    assert restored in _listed(operator["RestoreFromBackup"]["Resource"])
    assert operator["RestoredTables"]["Resource"] == restored
    wildcard = {sid for sid, s in operator.items() if s["Resource"] == "*"}
    assert wildcard == {"ListBackups", "MetricsAndAlarms"}, "only actions without resources"
    assert (
        operator["DescribeAlarms"]["Resource"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"
    )
    actions = {sid: _listed(s["Action"]) for sid, s in operator.items()}
    assert not [a for acts in actions.values() for a in acts if a.startswith(("iam:", "sts:"))]
    deletes = {sid for sid, acts in actions.items() if any(":Delete" in a for a in acts)}
    assert deletes == {"RestoredTables"}, "nothing in the live table can be deleted"


# ---- the notebooks, as each user ------------------------------------------------------------


def test_02_status_passes_as_report_and_publishes_to_s3(stack, act_as):
    act_as("report")
    out = runner.run_notebook(
        "02_status",
        {"table_name": stack.table},
        f"s3://{REPORTS_BUCKET}/{REPORTS_PREFIX.rstrip('/')}",
    )

    assert out.exit_code == 0, out.summary()
    states = {c["name"]: c["state"] for c in out.result["checks"]}
    assert set(states.values()) == {"ok"}, out.summary()
    assert len(states) >= 8, "every read the check makes was allowed"
    stem = out.out_dir.removeprefix(f"s3://{REPORTS_BUCKET}/")
    listed = stack.client("s3").list_objects_v2(Bucket=REPORTS_BUCKET, Prefix=stem)["Contents"]
    assert {o["Key"] for o in listed} == {
        f"{stem}/02_status.ipynb",
        f"{stem}/02_status.html",
        f"{stem}/result.json",
    }


def test_06_history_passes_as_report(stack, act_as, tmp_path):
    act_as("report")
    params = {
        "days": 2,
        "table_name": stack.table,
        "function_name": stack.outputs["function_name"],
        "api_id": stack.outputs["api_id"],
    }
    out = runner.run_notebook("06_history", params, tmp_path / "reports", html=False)

    assert out.exit_code == 0, out.summary()
    assert out.result["points"] > 0 and out.result["resets"] == []


def _set_params(stack: Stack, live: int) -> dict[str, Any]:
    return {
        "table_name": stack.table,
        "new_value": live + 1000,
        "expected_current": live,
        "reason": "IAM enforcement test",
        "dry_run": False,
        "confirm": stack.table,
    }


def test_set_count_as_report_is_denied_and_writes_nothing(stack, act_as, tmp_path):
    before = stack.item()
    live = int(before["viewCount"]["N"])
    act_as("report")

    out = runner.run_notebook("03_set_count", _set_params(stack, live), tmp_path / "reports")

    assert out.exit_code == runner.EXIT_FAILED
    assert out.error.startswith("AccessDeniedError: Access denied for UpdateItem (set)"), out.error
    assert f"not authorized to perform: dynamodb:UpdateItem on resource: {stack.table_arn}" in (
        out.error
    )
    assert out.error.endswith(
        "Next step: use a role with the runbook's operator policy (see terraform/iam_runbook.tf)."
    )
    assert stack.item() == before, "the item is unchanged"
    backups = tmp_path / "backups"
    assert not (backups / auditlog.AUDIT_FILE).exists(), "no audit record for a write that failed"
    # The item backup is taken before the write is attempted: a copy of the unchanged item.
    copies = [p for p in backups.rglob("*.json") if not p.name.endswith(".meta.json")]
    assert all(json.loads(p.read_text()) == before for p in copies)


def test_set_count_as_operator_succeeds(stack, act_as, tmp_path):
    live = int(stack.item()["viewCount"]["N"])
    act_as("operator")

    out = runner.run_notebook("03_set_count", _set_params(stack, live), tmp_path / "reports")

    assert out.exit_code == 0, out.summary()
    assert (out.result["applied"], out.result["old"], out.result["new"]) == (
        True,
        live,
        live + 1000,
    )
    assert stack.item()["viewCount"] == {"N": str(live + 1000)}
    (record,) = auditlog.read_audit(tmp_path / "backups" / auditlog.AUDIT_FILE)
    assert record["actor"] == stack.users["operator"].arn


# ---- least privilege, call by call --------------------------------------------------------------

KEY = {"stat": {"S": "Quantity"}}
NEVER = "attribute_not_exists(#k)"  # the item exists: the write is authorized, then refused


def _update(table_of: Callable[[Stack], str]) -> Callable[[Stack, Any], Any]:
    def call(s: Stack, c: Any) -> Any:
        return c("dynamodb").update_item(
            TableName=table_of(s),
            Key=KEY,
            UpdateExpression="SET viewCount = :v",
            ConditionExpression=NEVER,
            ExpressionAttributeNames={"#k": "stat"},
            ExpressionAttributeValues={":v": {"N": "0"}},
        )

    return call


def _restore(target: str) -> Callable[[Stack, Any], Any]:
    def call(s: Stack, c: Any) -> Any:
        name = target.format(table=s.table)
        return c("dynamodb").restore_table_from_backup(TargetTableName=name, BackupArn=s.backup_arn)

    return call


def _pitr(target: str) -> Callable[[Stack, Any], Any]:
    def call(s: Stack, c: Any) -> Any:
        return c("dynamodb").restore_table_to_point_in_time(
            SourceTableName=s.table,
            TargetTableName=target.format(table=s.table),
            UseLatestRestorableTime=True,
        )

    return call


def _put_report(key: str) -> Callable[[Stack, Any], Any]:
    def call(s: Stack, c: Any) -> Any:
        return c("s3").put_object(
            Bucket=REPORTS_BUCKET, Key=key, Body=b"x", ACL="bucket-owner-full-control"
        )

    return call


LIVE: Callable[[Stack], str] = lambda s: s.table  # noqa: E731
OTHER: Callable[[Stack], str] = lambda s: OTHER_TABLE  # noqa: E731

CASES: list[tuple[str, str, bool, Callable[[Stack, Any], Any]]] = [
    # report: reads and report files, nothing else
    ("report", "GetItem", True, lambda s, c: c("dynamodb").get_item(TableName=s.table, Key=KEY)),
    (
        "report",
        "DescribeBackup",
        True,
        lambda s, c: c("dynamodb").describe_backup(BackupArn=s.backup_arn),
    ),
    ("report", "ListMetrics", True, lambda s, c: c("cloudwatch").list_metrics()),
    ("report", "DescribeAlarms", True, lambda s, c: c("cloudwatch").describe_alarms()),
    (
        "report",
        "GetMetricStatistics",
        True,
        lambda s, c: c("cloudwatch").get_metric_statistics(
            Namespace="VisitorCounter",
            MetricName="ViewCount",
            StartTime=time.time() - 3600,
            EndTime=time.time(),
            Period=300,
            Statistics=["Maximum"],
        ),
    ),
    (
        "report",
        "PutObject under the reports prefix",
        True,
        _put_report(f"{REPORTS_PREFIX}probe.html"),
    ),
    ("report", "PutObject elsewhere in the bucket", False, _put_report("elsewhere/probe.html")),
    ("report", "UpdateItem", False, _update(LIVE)),
    (
        "report",
        "PutItem",
        False,
        lambda s, c: c("dynamodb").put_item(
            TableName=s.table, Item={**KEY, "viewCount": {"N": "0"}}
        ),
    ),
    ("report", "Scan", False, lambda s, c: c("dynamodb").scan(TableName=s.table)),
    (
        "report",
        "CreateBackup",
        False,
        lambda s, c: c("dynamodb").create_backup(TableName=s.table, BackupName="iam-probe"),
    ),
    (
        "report",
        "UpdateContinuousBackups",
        False,
        lambda s, c: c("dynamodb").update_continuous_backups(
            TableName=s.table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
        ),
    ),
    ("report", "RestoreTableFromBackup", False, _restore("{table}-restored-by-report")),
    # operator: the runbook's writes on this table, restores into "-restored-*" only
    ("operator", "UpdateItem (conditional)", True, _update(LIVE)),
    ("operator", "Scan (export)", True, lambda s, c: c("dynamodb").scan(TableName=s.table)),
    (
        "operator",
        "CreateBackup",
        True,
        lambda s, c: c("dynamodb").create_backup(TableName=s.table, BackupName="iam-test"),
    ),
    ("operator", "RestoreTableFromBackup into -restored-*", True, _restore("{table}-restored-iam")),
    ("operator", "RestoreTableFromBackup elsewhere", False, _restore("{table}-copy")),
    (
        "operator",
        "RestoreTableToPointInTime into -restored-*",
        True,
        _pitr("{table}-restored-pitr"),
    ),
    ("operator", "RestoreTableToPointInTime elsewhere", False, _pitr("{table}-pitr")),
    (
        "operator",
        "DeleteItem",
        False,
        lambda s, c: c("dynamodb").delete_item(TableName=s.table, Key=KEY),
    ),
    ("operator", "DeleteTable", False, lambda s, c: c("dynamodb").delete_table(TableName=s.table)),
    ("operator", "UpdateItem on another table", False, _update(OTHER)),
    (
        "operator",
        "CreateBackup of another table",
        False,
        lambda s, c: c("dynamodb").create_backup(TableName=OTHER_TABLE, BackupName="iam-probe"),
    ),
    ("operator", "iam:CreateUser", False, lambda s, c: c("iam").create_user(UserName="escalate")),
]


@pytest.mark.parametrize(
    ("who", "allowed", "call"),
    [pytest.param(who, allowed, call, id=f"{who}-{what}") for who, what, allowed, call in CASES],
)
def test_least_privilege(stack, who, allowed, call):
    def client(service: str) -> Any:
        return stack.client(service, who)

    try:
        call(stack, client)
        code = None
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
    if allowed:
        assert code not in DENIED_CODES, f"{who} was refused"
    else:
        assert code in DENIED_CODES, f"{who} was not refused (error code {code!r})"
