"""The sandbox's stack in a freshly started moto server: `terraform/` applied (or, without
Terraform, its table built from the HCL) and the data every check needs seeded (counter
item, CloudWatch history, one native backup). `up` starts the server and does all this."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, overload

from runbook_lib.errors import SandboxError
from runbook_lib.sandbox.server import (
    DUMMY_KEY_ID,
    DUMMY_SECRET,
    Log,
    SandboxInfo,
    apply_stack,
    clear_state,
    read_info,
    start_server,
    stop_pid,
    write_state,
)

if TYPE_CHECKING:  # the model imports boto3: `sandbox env` and `down` need none of it
    from runbook_lib.aws.types import CloudWatchClient, DynamoDBClient
    from runbook_lib.model import Target


@overload
def sandbox_client(url: str, region: str, service: Literal["dynamodb"]) -> DynamoDBClient: ...
@overload
def sandbox_client(url: str, region: str, service: Literal["cloudwatch"]) -> CloudWatchClient: ...
def sandbox_client(
    url: str, region: str, service: Literal["dynamodb", "cloudwatch"]
) -> DynamoDBClient | CloudWatchClient:
    """A client of the moto server at url, signing with the dummy keys."""
    from runbook_lib import aws

    return aws.client(
        service,
        aws.session(region),
        endpoint_url=url,
        aws_access_key_id=DUMMY_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET,
    )


def table_from_definition(url: str, region: str) -> dict[str, Any]:
    """The counter table as terraform/*.tf defines it (python-hcl2), PITR as defined;
    returns the outputs `terraform output` would give (no Lambda, API or alarms)."""
    from runbook_lib.aws import backups, provision
    from runbook_lib.tf.tabledef import table_definition

    definition = table_definition()
    create = dict(definition["create_table"])
    ddb = sandbox_client(url, region, "dynamodb")
    provision.create_table(ddb, create)
    if definition.get("pitr"):
        backups.enable_pitr(ddb, create["TableName"])
    return {
        "table_name": create["TableName"],
        "function_name": definition.get("function_name"),
        "api_id": None,
        "metric_namespace": definition.get("metric_namespace", "VisitorCounter"),
        "metric_name": definition.get("metric_name", "ViewCount"),
    }


# The Lambda and API names the seeded history is published under when the stack has none
# (no Terraform: no Lambda, no API); `runbook sandbox drill` continues the same series.
SEED_FUNCTION_NAME = "visitor-counter"
SEED_API_ID = "sandbox"


def sandbox_target(url: str, region: str, outputs: dict[str, Any]) -> Target:
    """The sandbox's own counter, as `up` seeded it (the guide's key, the stack's names)."""
    from runbook_lib.model import Target

    return Target(
        table=outputs["table_name"],
        region=region,
        endpoint=url,
        function_name=outputs.get("function_name"),
        api_id=outputs.get("api_id"),
        metric_namespace=outputs.get("metric_namespace") or "VisitorCounter",
        metric_name=outputs.get("metric_name") or "ViewCount",
    )


def history_names(target: Target) -> dict[str, str]:
    """The Lambda and API names of the sandbox's seeded metrics."""
    return {
        "function_name": target.function_name or SEED_FUNCTION_NAME,
        "api_id": target.api_id or SEED_API_ID,
    }


def seed(
    url: str, region: str, outputs: dict[str, Any], *, days: int, log: Callable[[str], None]
) -> None:
    """Counter item, CloudWatch history and one native backup, so every check has data.
    The history ends `QUIET_BEFORE_UP` (3 h) before now: a quiet night, the room
    `runbook sandbox drill` plants a reset in (sandbox.drillplan)."""
    import pandas as pd

    from runbook_lib.aws import backups, counter
    from runbook_lib.sandbox import seed as history

    target = sandbox_target(url, region, outputs)
    ddb = sandbox_client(url, region, "dynamodb")
    last = 0
    if days > 0:
        end = pd.Timestamp.now(tz="UTC") - history.QUIET_BEFORE_UP
        frame = history.synthetic_history(days=days, end=end)
        last = int(frame["count"].iloc[-1])
        calls = history.seed_history(
            sandbox_client(url, region, "cloudwatch"),
            frame,
            table=target.table,
            namespace=target.metric_namespace,
            metric_name=target.metric_name,
            **history_names(target),
        )
        log(
            f"Seeded {days} days of CloudWatch history ({len(frame)} buckets, {calls} calls), "
            f"quiet since {frame.index[-1] + pd.Timedelta(seconds=history.BUCKET_S):%H:%M} UTC."
        )
    result = counter.init_counter(target, initial=last, ddb=ddb)
    state = "created" if result.created else "already present"
    log(f"Counter {target.key_label} {state} with {result.value}.")
    backups.create_backup(ddb, target.table, f"sandbox-seed-{int(time.time())}")
    log("Created one native backup so the backup-age check has something to find.")


def up(
    *,
    days: int = 14,
    use_terraform: bool | None = None,
    port: int | None = None,
    log: Log = print,
) -> SandboxInfo:
    """Start (or reuse) the sandbox, apply the stack, seed the counter and history."""
    running = read_info()
    if running:
        log(f"Sandbox already running at {running.url} (pid {running.pid}); reusing it.")
        return running
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 455:
        raise SandboxError(f"days must be a whole number from 0 to 455, got {days!r}.")
    pid, url = start_server(port)
    info = SandboxInfo(url=url, pid=pid)
    log(f"moto server started at {url} (pid {pid}).")
    try:
        provision(info, days=days, use_terraform=use_terraform, log=log)
    except BaseException:
        stop_pid(pid)
        clear_state()
        raise
    write_state(info)
    log('Sandbox ready. Point your shell at it with: eval "$(runbook sandbox env)"')
    return info


def provision(
    info: SandboxInfo, *, days: int = 14, use_terraform: bool | None = None, log: Log = print
) -> SandboxInfo:
    """Build the stack in a freshly started moto server and seed it. Fills info.outputs."""
    from runbook_lib.tf.binary import find_terraform

    tf = find_terraform()
    if use_terraform is None:
        use_terraform = tf is not None
    if use_terraform:
        if tf is None:
            raise SandboxError("use_terraform=True but no terraform binary is on PATH.")
        log("Applying terraform/ to the sandbox (a copy, with a generated override file)...")
        started = time.monotonic()
        info.outputs = apply_stack(info.url, info.region, log=log)
        info.terraform = True
        log(f"terraform apply done in {time.monotonic() - started:.1f}s.")
    else:
        why = "Terraform not used (--no-terraform)" if tf else "No terraform binary found"
        log(
            f"{why}: creating the same table from terraform/*.tf's definition "
            "(python-hcl2) instead. Lambda, API and alarms are skipped."
        )
        info.outputs = table_from_definition(info.url, info.region)
    seed(info.url, info.region, info.outputs, days=days, log=log)
    return info
