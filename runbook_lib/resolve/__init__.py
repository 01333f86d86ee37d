"""What the runbook points at: the counter's table, typed key and attribute, and where it lives.

One model for every notebook, every call and the Lambda. Resolution, per field, first source
that answers wins (`resolve.sources` holds each source):

1. the notebook parameter;
2. the stack given as `terraform_dir` (configuration and state, child modules included);
3. the `RUNBOOK_*` environment (only while it names the same table);
4. the project's own `terraform/`, where it has been applied (its outputs);
5. the live table: key names and types always come from `DescribeTable`, never a guess;
6. the addressed item, or the table's only item: the count attribute and its type (a
   number, or a whole number written as a string), the key value;
7. the guide's defaults.

The region: the `region` argument, else the stack's (its provider's `region`, else its
state's ARNs), else the shell's (AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1).

The source of each field is kept, so the banner says where every value came from.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from runbook_lib import aws
from runbook_lib.aws.types import Session
from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target
from runbook_lib.resolve import sources as src
from runbook_lib.resolve.fromstack import from_stack
from runbook_lib.resolve.keys import check_key_value
from runbook_lib.resolve.region import shell_region
from runbook_lib.tf import stackread
from runbook_lib.tf.varfiles import parse_var_files

DEFAULTS: dict[str, str] = {
    "key_name": "stat",
    "key_value": "Quantity",
    "count_attribute": "viewCount",
    "metric_namespace": "VisitorCounter",
    "metric_name": "ViewCount",
}
ENV_VARS = src.ENV_VARS
TF_OUTPUTS = src.TF_OUTPUTS
# DynamoDB's own limits on table names.
_TABLE_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,255}$")


def _validate_table(table: Any) -> None:
    if not isinstance(table, str) or not _TABLE_RE.match(table):
        raise InvalidInputError(
            f"table_name {table!r} is not a valid DynamoDB table name "
            "(3-255 characters of letters, digits, '_', '-', '.')."
        )


def _validate(values: dict[str, Any]) -> None:
    _validate_table(values["table"])
    for name in ("key_name", "count_attribute"):
        if not isinstance(values[name], str) or not values[name]:
            raise InvalidInputError(f"{name} must be a non-empty string, got {values[name]!r}.")
    check_key_value(values["key_name"], values.get("key_type", "S"), values["key_value"])
    if values.get("range_key_name"):
        if values.get("range_key_value") in (None, ""):
            raise InvalidInputError(
                f"{values['table']} has a range key {values['range_key_name']!r}: the counter "
                "item needs its value too.",
                hint="pass -p range_key_value VALUE, or terraform_dir of the stack that writes it.",
            )
        check_key_value(
            values["range_key_name"], values.get("range_key_type", "S"), values["range_key_value"]
        )
    if values["count_attribute"] in (values["key_name"], values.get("range_key_name")):
        raise InvalidInputError("count_attribute must differ from the key's attributes.")


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
    range_key_value: str | None = None,
    var_files: str | list[str] | tuple[str, ...] | None = None,
    live: bool = True,
) -> Target:
    """Resolve every field from the sources in the module docstring's order.

    Empty strings count as "not given", so a notebook parameter left at "" falls through.
    `live=False` skips the reads of the table (a caller that only needs the names).
    """
    given = {
        "region": region,
        "table": table_name,
        "key_name": key_name,
        "key_value": key_value,
        "count_attribute": count_attribute,
        "function_name": function_name,
        "api_id": api_id,
        "metric_namespace": metric_namespace,
        "metric_name": metric_name,
        "range_key_value": range_key_value,
    }
    found = src.Resolution()
    found.take({k: v for k, v in given.items() if v not in (None, "")}, "parameter")
    files = _stack(found, terraform_dir, var_files, live)
    found.take(*src.from_environment(found))
    if "table" not in found.values or found.missing(src.TF_OUTPUTS):
        found.take(*src.from_own_terraform(found))
    if "table" not in found.values:
        raise InvalidInputError(
            "No table to point at.",
            hint=(
                "pass table_name (-p table_name NAME) or terraform_dir (-p terraform_dir "
                "STACK), set RUNBOOK_TABLE, or start the sandbox: runbook sandbox up && "
                'eval "$(runbook sandbox env)".'
            ),
        )
    _validate_table(found.values["table"])
    if "region" not in found.values:
        shell, where = shell_region()
        found.take({"region": shell}, where)
    sess = aws.session(found.values["region"])
    if live:
        src.from_live_table(found, sess)
    for name, value in DEFAULTS.items():
        found.take({name: value}, "default")
    found.take({"count_type": "N"}, "default")
    _validate(found.values)
    return _target(found, sess, files)


def _stack(
    found: src.Resolution,
    terraform_dir: str | Path | None,
    var_files: str | list[str] | tuple[str, ...] | None,
    live: bool = True,
) -> tuple[Path, ...]:
    """The stack's fields (terraform_dir), read with its var files (and, when `live`, its
    backend's state through Terraform); the files, absolute."""
    folder = None
    if terraform_dir not in (None, ""):
        folder = stackread.resolve_dir(str(terraform_dir))
    files = parse_var_files(var_files, folder)
    if folder is not None:
        found.take(from_stack(folder, found, files, remote=live), None)
    return files


def _target(found: src.Resolution, sess: Session, files: tuple[Path, ...] = ()) -> Target:
    values = found.values
    return Target(
        table=values["table"],
        key_name=values["key_name"],
        key_value=str(values["key_value"]),
        count_attribute=values["count_attribute"],
        region=sess.region_name,
        endpoint=aws.endpoint_url(),
        function_name=values.get("function_name"),
        api_id=values.get("api_id"),
        metric_namespace=values["metric_namespace"],
        metric_name=values["metric_name"],
        sources=dict(found.sources),
        key_type=values.get("key_type", "S"),
        range_key_name=values.get("range_key_name"),
        range_key_value=values.get("range_key_value"),
        range_key_type=values.get("range_key_type", "S"),
        notes=tuple(found.notes),
        count_type=values.get("count_type", "N"),
        var_files=tuple(str(p) for p in files),
    )
