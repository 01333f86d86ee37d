"""The target's region in words: where it came from (a parameter, the stack's provider or
state ARN, the shell), and, when a table is not found there, the other region the shell or
the stack names, so the reader sees both before creating anything."""

from __future__ import annotations

import os
from collections.abc import Mapping

from runbook_lib import aws


def shell_region() -> tuple[str, str]:
    """The region of the shell: AWS_REGION, AWS_DEFAULT_REGION (as Terraform and the AWS
    CLI read them), else the profile's, else us-east-1; with where it came from."""
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(var):
            return os.environ[var], f"shell {var}"
    region = aws.session().region_name
    if region == aws.DEFAULT_REGION:
        return region, f"default {region} (no region in the shell)"
    return region, "shell AWS config"


def region_story(region: str, sources: Mapping[str, str]) -> str:
    """ "us-east-2 (from stack crc provider aws (variable aws_region default); the shell's
    region is us-east-1)": the region tried, where it came from, and the others named."""
    where = sources.get("region", "")
    parts = [f"from {where}"] if where else []
    if "stack_region" in sources:
        parts.append(f"the stack says {sources['stack_region']}")
    shell, _ = shell_region()
    if where and shell != region and not where.startswith(("shell", "default")):
        parts.append(f"the shell's region is {shell}")
    return f"{region} ({'; '.join(parts)})" if parts else region
