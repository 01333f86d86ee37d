"""The AWS boundary: the one client factory, the one ClientError mapping, and every
DynamoDB, CloudWatch, STS and S3 call the runbook makes. Nothing above this folder imports
boto3 or botocore."""

from runbook_lib.aws.clients import (
    DEFAULT_REGION,
    RETRY_CONFIG,
    SandboxCredentialsError,
    caller_identity,
    client,
    endpoint_url,
    is_sandbox,
    refuse_sandbox_keys,
    session,
)

__all__ = [
    "DEFAULT_REGION",
    "RETRY_CONFIG",
    "SandboxCredentialsError",
    "caller_identity",
    "client",
    "endpoint_url",
    "is_sandbox",
    "refuse_sandbox_keys",
    "session",
]
