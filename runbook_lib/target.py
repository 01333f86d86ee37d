"""What the runbook points at: the counter's table, key and attribute, and where it lives.

Resolution order, per field: notebook parameter, then environment (RUNBOOK_*), then
`terraform output -json` of the stack, then the guide's defaults. The sources are kept so
the banner can say where each value came from.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import aws
from .errors import InvalidInputError

DEFAULTS: dict[str, str] = {
    "key_name": "stat",
    "key_value": "Quantity",
    "count_attribute": "viewCount",
    "metric_namespace": "VisitorCounter",
    "metric_name": "ViewCount",
}
ENV_VARS: dict[str, str] = {
    "table": "RUNBOOK_TABLE",
    "key_name": "RUNBOOK_KEY_NAME",
    "key_value": "RUNBOOK_KEY_VALUE",
    "count_attribute": "RUNBOOK_COUNT_ATTRIBUTE",
    "function_name": "RUNBOOK_FUNCTION_NAME",
    "api_id": "RUNBOOK_API_ID",
    "metric_namespace": "RUNBOOK_METRIC_NAMESPACE",
    "metric_name": "RUNBOOK_METRIC_NAME",
}
# terraform output names that feed each field.
TF_OUTPUTS: dict[str, str] = {
    "table": "table_name",
    "key_name": "key_name",
    "key_value": "key_value",
    "count_attribute": "count_attribute",
    "function_name": "function_name",
    "api_id": "api_id",
    "metric_namespace": "metric_namespace",
    "metric_name": "metric_name",
}
# DynamoDB's own limits on table names.
_TABLE_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,255}$")


@dataclass(frozen=True)
class Target:
    """A resolved reference to the counter item and its neighbours."""

    table: str
    key_name: str = "stat"
    key_value: str = "Quantity"
    count_attribute: str = "viewCount"
    region: str = aws.DEFAULT_REGION
    endpoint: str | None = None
    function_name: str | None = None
    api_id: str | None = None
    metric_namespace: str = "VisitorCounter"
    metric_name: str = "ViewCount"
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> dict[str, dict[str, str]]:
        """The item's primary key in DynamoDB's wire format."""
        return {self.key_name: {"S": self.key_value}}

    @property
    def is_sandbox(self) -> bool:
        """No endpoint override means real AWS, whatever the process environment says."""
        return self.endpoint is not None and aws.is_sandbox(self.endpoint)


def _validate(values: dict[str, Any]) -> None:
    table = values["table"]
    if not isinstance(table, str) or not _TABLE_RE.match(table):
        raise InvalidInputError(
            f"table_name {table!r} is not a valid DynamoDB table name "
            "(3-255 characters of letters, digits, '_', '-', '.')."
        )
    for name in ("key_name", "key_value", "count_attribute"):
        if not isinstance(values[name], str) or not values[name]:
            raise InvalidInputError(f"{name} must be a non-empty string, got {values[name]!r}.")
    if values["key_name"] == values["count_attribute"]:
        raise InvalidInputError("count_attribute must differ from key_name.")


def resolve_target(
    table_name: str | None = None,
    key_name: str | None = None,
    key_value: str | None = None,
    count_attribute: str | None = None,
    *,
    function_name: str | None = None,
    api_id: str | None = None,
    metric_namespace: str | None = None,
    metric_name: str | None = None,
    terraform_dir: str | Path | None = None,
    region: str | None = None,
) -> Target:
    """Resolve every field: parameter, environment, terraform output, default.

    Empty strings count as "not given" so a notebook parameter left at "" falls through.
    `terraform output` is only run when a field is still missing after the environment,
    because it costs a second or more.
    """
    given = {
        "table": table_name,
        "key_name": key_name,
        "key_value": key_value,
        "count_attribute": count_attribute,
        "function_name": function_name,
        "api_id": api_id,
        "metric_namespace": metric_namespace,
        "metric_name": metric_name,
    }
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, value in given.items():
        if value not in (None, ""):
            values[name], sources[name] = value, "parameter"
        elif os.environ.get(ENV_VARS[name]):
            values[name], sources[name] = os.environ[ENV_VARS[name]], f"env {ENV_VARS[name]}"
    missing = [n for n in given if n not in values]
    if missing:
        outputs = _terraform_outputs(terraform_dir)
        for name in missing:
            value = outputs.get(TF_OUTPUTS[name])
            if value not in (None, ""):
                values[name], sources[name] = str(value), "terraform output"
    for name, value in DEFAULTS.items():
        if name not in values:
            values[name], sources[name] = value, "default"
    if "table" not in values:
        raise InvalidInputError(
            "No table to point at.",
            hint=(
                "pass table_name (-p table_name NAME), set RUNBOOK_TABLE, run "
                "`terraform apply` in terraform/ so `terraform output table_name` answers, "
                'or start the sandbox: runbook sandbox up && eval "$(runbook sandbox env)".'
            ),
        )
    _validate(values)
    sess = aws.session(region)
    return Target(
        table=values["table"],
        key_name=values["key_name"],
        key_value=values["key_value"],
        count_attribute=values["count_attribute"],
        region=sess.region_name,
        endpoint=aws.endpoint_url(),
        function_name=values.get("function_name"),
        api_id=values.get("api_id"),
        metric_namespace=values["metric_namespace"],
        metric_name=values["metric_name"],
        sources=sources,
    )


def _terraform_outputs(terraform_dir: str | Path | None) -> dict[str, Any]:
    """Outputs of the stack in terraform_dir, or {} when there is no state to ask."""
    from . import paths, terraform

    folder = Path(terraform_dir) if terraform_dir else paths.terraform_dir()
    has_state = (folder / "terraform.tfstate").exists() or (folder / ".terraform").is_dir()
    if not has_state or terraform.find_terraform() is None:
        return {}
    try:
        return terraform.output_json(folder)
    except Exception:  # an unreadable state must not stop a read-only status check
        return {}
