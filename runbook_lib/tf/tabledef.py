"""The counter table as terraform/*.tf defines it, as boto3 create_table kwargs: lets a
machine without the terraform binary build the SAME table from the same source."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError, TerraformError
from runbook_lib.tf.hclconfig import Scope, load_config, variable_values
from runbook_lib.tf.hcledit import resource_blocks
from runbook_lib.tf.stackmodel import TABLE_TYPE


def table_definition(
    src_dir: Path | None = None, variables: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The counter table as terraform/*.tf defines it, as boto3 create_table kwargs.

    Lets a machine without the terraform binary build the SAME table (name, keys, billing,
    SSE, deletion protection) from the same source. Returns {"create_table": kwargs,
    "pitr": bool, "resource": address, "function_name", "metric_namespace",
    "metric_name", "key_name", "key_value", "count_attribute"}.
    """
    src_dir = Path(src_dir) if src_dir else paths.terraform_dir()
    config = load_config(src_dir)
    tables = resource_blocks(config, TABLE_TYPE)
    if not tables:
        raise TerraformError(f"No {TABLE_TYPE} resource in {src_dir}/*.tf.")
    name, body = next(iter(tables.items()))
    locals_: dict[str, Any] = {}
    for block in config.get("locals", []):
        locals_.update(block)
    scope = Scope(variable_values(config, src_dir, variables), locals_, tables)
    create = create_table_kwargs(body, scope)
    return {
        "create_table": create,
        "pitr": bool(scope.strict(_first(body.get("point_in_time_recovery")).get("enabled"))),
        "resource": f"{TABLE_TYPE}.{name}",
        "function_name": scope.ev(locals_.get("function_name")),
        "key_name": scope.ev(locals_.get("key_name")) or create["KeySchema"][0]["AttributeName"],
        "key_value": scope.ev(locals_.get("key_value")),
        "count_attribute": scope.ev(locals_.get("count_attribute")),
        "metric_namespace": scope.variables.get("metric_namespace"),
        "metric_name": scope.variables.get("metric_name"),
    }


def create_table_kwargs(body: Mapping[str, Any], scope: Scope) -> dict[str, Any]:
    """An aws_dynamodb_table block as boto3 create_table kwargs; TerraformError when a
    value it needs cannot be evaluated outside Terraform."""
    ev = scope.strict
    table_name = ev(body.get("name"))
    if not isinstance(table_name, str) or not table_name:
        raise InvalidInputError(f"Table name resolved to {table_name!r}; set bucket_name.")
    key_schema = [{"AttributeName": ev(body["hash_key"]), "KeyType": "HASH"}]
    if body.get("range_key"):
        key_schema.append({"AttributeName": ev(body["range_key"]), "KeyType": "RANGE"})
    billing = ev(body.get("billing_mode")) or "PROVISIONED"
    create: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": ev(a["name"]), "AttributeType": ev(a["type"])}
            for a in body.get("attribute") or []
        ],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        create["ProvisionedThroughput"] = {
            "ReadCapacityUnits": int(ev(body.get("read_capacity")) or 1),
            "WriteCapacityUnits": int(ev(body.get("write_capacity")) or 1),
        }
    sse = _first(body.get("server_side_encryption"))
    if sse and ev(sse.get("enabled")):
        create["SSESpecification"] = {"Enabled": True}
    protection = ev(body.get("deletion_protection_enabled"))
    if protection is not None:
        create["DeletionProtectionEnabled"] = bool(protection)
    return create


def _first(block: Any) -> dict[str, Any]:
    if isinstance(block, list):
        return block[0] if block else {}
    return block or {}
