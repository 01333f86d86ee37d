"""The one factory for boto3 clients, and where the runbook points.

Uses the standard boto3 chain only: AWS_PROFILE, AWS_REGION/AWS_DEFAULT_REGION and
AWS_ENDPOINT_URL (which boto3 honours natively; the sandbox sets it). Nothing custom.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from .errors import from_client_error

# Standard mode: exponential backoff with jitter and retry quotas, the AWS SDK default
# for new code; 5 attempts rides out throttling bursts without hiding a dead endpoint.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="counter-runbook",
)
DEFAULT_REGION = "us-east-1"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def session(region: str | None = None, profile: str | None = None) -> boto3.session.Session:
    """A boto3 session from the standard chain; region falls back to us-east-1."""
    sess = boto3.session.Session(profile_name=profile or None, region_name=region or None)
    if sess.region_name is None:
        sess = boto3.session.Session(profile_name=profile or None, region_name=DEFAULT_REGION)
    return sess


def client(service: str, sess: boto3.session.Session | None = None, **kwargs: Any) -> Any:
    """A boto3 client with the runbook's retry policy."""
    sess = sess or session()
    return sess.client(service, config=RETRY_CONFIG, **kwargs)


def endpoint_url() -> str | None:
    """The endpoint override in force (AWS_ENDPOINT_URL), if any."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def is_sandbox(url: str | None = None) -> bool:
    """True when the endpoint is on loopback: the moto sandbox, never real AWS."""
    url = url if url is not None else endpoint_url()
    if not url:
        return False
    return (urlparse(url).hostname or "") in LOOPBACK_HOSTS


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    user_id: str


def caller_identity(sess: boto3.session.Session | None = None, sts: Any = None) -> Identity:
    """Who the runbook acts as (STS GetCallerIdentity); mapped errors on failure."""
    sts = sts or client("sts", sess)
    try:
        resp = sts.get_caller_identity()
    except Exception as exc:
        raise from_client_error(exc, action="sts:GetCallerIdentity") from exc
    return Identity(account=resp["Account"], arn=resp["Arn"], user_id=resp["UserId"])
