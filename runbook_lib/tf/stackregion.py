"""Which region a stack's counter lives in, as the stack says it: the `provider "aws"`
block's `region` (a literal, a variable with its default, a .tfvars or -var-file value,
TF_VAR_*, a local), the aliased provider a resource names (`provider = aws.west`), the
provider a child module is given (`providers = { aws = aws.west }`) or declares itself;
and, for a stack already applied, the region in its state's ARNs (pure).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runbook_lib.tf.hclconfig import Scope
from runbook_lib.tf.hcleval import is_meta
from runbook_lib.tf.state import state_resources

Region = tuple[str | None, str]  # (region or None, how the stack says it)
Providers = dict[str, Region]  # "aws", "aws.west" -> Region
_VAR = re.compile(r"^\$\{var\.([\w-]+)\}$")
_LOCAL = re.compile(r"^\$\{local\.([\w-]+)\}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


def _ref(value: Any) -> str:
    """`${aws.west}` -> "aws.west" (a provider reference as python-hcl2 gives it)."""
    return str(value).strip().removeprefix("${").removesuffix("}").strip()


def module_providers(
    merged: Mapping[str, list[Any]], scope: Scope, inherited: Providers
) -> Providers:
    """The aws provider configurations a module's resources can use: those it was given
    (or inherits), replaced by any it declares itself."""
    out = dict(inherited)
    for block in merged.get("provider", []):
        body = (block or {}).get("aws")
        if not isinstance(body, dict):
            continue
        alias = scope.ev(body.get("alias"))
        key = f"aws.{alias}" if isinstance(alias, str) and alias else "aws"
        raw = body.get("region")
        if raw is None:
            out[key] = (None, f"provider {key} sets no region")
            continue
        region = scope.ev(raw)
        valid = isinstance(region, str) and _REGION.match(region)
        how = f"provider {key} ({describe(raw, scope)})"
        out[key] = (region if valid else None, how if valid else f"{how}: not read")
    return out


def child_providers(module_body: Mapping[str, Any], parent: Providers) -> Providers:
    """What a `module` block hands its child: its `providers` map when it has one (which
    replaces inheritance, as in Terraform), else the parent's default aws provider."""
    mapping = module_body.get("providers")
    if isinstance(mapping, dict):
        out: Providers = {}
        for name, value in mapping.items():
            ref = _ref(value)
            if not is_meta(name) and ref in parent:
                region, how = parent[ref]
                out[_ref(name)] = (region, how)
        return out
    return {"aws": parent["aws"]} if "aws" in parent else {}


def resource_region(body: Mapping[str, Any], providers: Providers) -> Region:
    """The region of the provider a resource block uses (`provider = aws.west`, else the
    module's default aws provider); (None, "") when the stack does not say."""
    key = _ref(body["provider"]) if body.get("provider") else "aws"
    return providers.get(key, (None, ""))


def describe(raw: Any, scope: Scope, depth: int = 0) -> str:
    """How a value was set, for people: "literal", "variable aws_region default",
    "TF_VAR_aws_region", "variable aws_region from prod.tfvars", "local region = ..."."""
    if not isinstance(raw, str) or "${" not in raw:
        return "literal"
    text = raw.strip()
    var = _VAR.match(text)
    if var:
        name = var.group(1)
        where = scope.var_sources.get(name, "default")
        if where.startswith("TF_VAR_"):
            return where
        if where == "default":
            return f"variable {name} default"
        return (
            f"variable {name} {'as a module input' if where == 'module input' else f'from {where}'}"
        )
    local = _LOCAL.match(text)
    if local and depth < 4:
        inner = describe(scope.locals.get(local.group(1)), scope, depth + 1)
        return f"local {local.group(1)}" + ("" if inner == "literal" else f" = {inner}")
    return f"expression {text[2:-1][:60]}"


def arn_region(arn: Any) -> str | None:
    """arn:aws:dynamodb:eu-west-1:123:table/x -> eu-west-1; None for anything else."""
    parts = str(arn or "").split(":")
    if len(parts) >= 6 and parts[0] == "arn" and _REGION.match(parts[3]):
        return parts[3]
    return None


def state_region(show: Mapping[str, Any]) -> str | None:
    """The one region every ARN of the state's resources names; None when they name none
    or several (a state that spans regions says nothing about the counter's)."""
    regions = set()
    for res in state_resources(show):
        found = arn_region((res.get("values") or {}).get("arn"))
        if found:
            regions.add(found)
    return regions.pop() if len(regions) == 1 else None
