"""The AWS boundary: the one client factory, the one ClientError mapping, and every
DynamoDB, CloudWatch, STS and S3 call the runbook makes. Nothing above this folder imports
boto3 or botocore.

The factory's names are loaded on first use (PEP 562): `runbook_lib.aws.endpoint` stays
importable without boto3, which the runner's own process never needs."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names __getattr__ loads, typed for mypy; nothing imported at run time
    from runbook_lib.aws.clients import DEFAULT_REGION as DEFAULT_REGION
    from runbook_lib.aws.clients import RETRY_CONFIG as RETRY_CONFIG
    from runbook_lib.aws.clients import caller_identity as caller_identity
    from runbook_lib.aws.clients import client as client
    from runbook_lib.aws.clients import session as session
    from runbook_lib.aws.endpoint import SandboxCredentialsError as SandboxCredentialsError
    from runbook_lib.aws.endpoint import endpoint_url as endpoint_url
    from runbook_lib.aws.endpoint import is_sandbox as is_sandbox
    from runbook_lib.aws.endpoint import refuse_sandbox_keys as refuse_sandbox_keys

_HOME = {
    "DEFAULT_REGION": "clients",
    "RETRY_CONFIG": "clients",
    "caller_identity": "clients",
    "client": "clients",
    "session": "clients",
    "SandboxCredentialsError": "endpoint",
    "endpoint_url": "endpoint",
    "is_sandbox": "endpoint",
    "refuse_sandbox_keys": "endpoint",
}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
