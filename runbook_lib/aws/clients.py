"""The one factory for boto3 clients, and where the runbook points.

Uses the standard boto3 chain only: AWS_PROFILE, AWS_REGION/AWS_DEFAULT_REGION and
AWS_ENDPOINT_URL (which boto3 honours natively; the sandbox sets it). Nothing custom.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError

from runbook_lib.aws.errors import from_client_error
from runbook_lib.errors import InvalidInputError

# Standard mode: exponential backoff with jitter and retry quotas, the AWS SDK default
# for new code; 5 retries (6 attempts) ride out throttling bursts without hiding a dead
# endpoint.
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
    made = sess.client(service, config=RETRY_CONFIG, **kwargs)
    # made, not yet used: a refusal here comes before any request is sent
    refuse_sandbox_keys(made.meta.endpoint_url, _static_key_id(sess, kwargs))
    made.meta.events.register_first("needs-retry", _retry_cut_off_answers)
    # on the service's own event: botocore's retry handler sits there, and the more specific
    # event's handlers are asked first
    service = made.meta.service_model.service_id.hyphenize()
    made.meta.events.register_first(f"needs-retry.{service}", _no_retry_when_sandbox_down)
    return made


def _no_retry_when_sandbox_down(
    caught_exception: Any = None, request_dict: Any = None, **_: Any
) -> bool | None:
    """A refused connection on loopback is a sandbox that is not running: it will not be
    up in the seconds retries wait, so fail at once (False: botocore does not retry)."""
    if not isinstance(caught_exception, (EndpointConnectionError, ConnectTimeoutError)):
        return None
    url = (request_dict or {}).get("url") or ""
    return False if is_sandbox(url) else None


# RETRY_CONFIG's max_attempts counts retries; botocore makes one more attempt in all.
TOTAL_ATTEMPTS = RETRY_CONFIG.retries["max_attempts"] + 1
_BACKOFF_BASE_S, _BACKOFF_CAP_S = 0.1, 5.0
PARSE_ATTEMPTS = 3  # an unparseable (cut-off) answer to a read is asked again this often


def _retry_cut_off_answers(
    response: Any = None,
    attempts: int = 1,
    request_dict: Any = None,
    operation: Any = None,
    **_: Any,
) -> float | None:
    """Retry an answer whose body is shorter than its Content-Length.

    botocore reads bodies without enforcing Content-Length, so a connection cut mid-answer
    parses as a (wrong, often empty) success: CloudWatch's JSON becomes "no data", STS's XML
    a parser error. Returning a delay makes botocore retry; once the attempts are spent the
    cut answer is raised as a closed connection, never returned as data.
    """
    if not response or getattr(operation, "has_streaming_output", False):
        return None  # a streamed body (S3 GetObject) is read by the caller, not here
    if (getattr(operation, "http", None) or {}).get("method") == "HEAD":
        return None  # a HEAD answer has a Content-Length and, by definition, no body
    http = response[0]
    expected = http.headers.get("content-length") if http is not None else None
    if expected is None or not expected.isdigit() or len(http.content) >= int(expected):
        return None
    if attempts < TOTAL_ATTEMPTS:
        return random.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2**attempts))
    raise ConnectionClosedError(endpoint_url=(request_dict or {}).get("url", "the endpoint"))


def endpoint_url() -> str | None:
    """The endpoint override in force (AWS_ENDPOINT_URL), if any."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def is_sandbox(url: str | None = None) -> bool:
    """True when the endpoint is on loopback: the moto sandbox, never real AWS."""
    url = url if url is not None else endpoint_url()
    if not url:
        return False
    return (urlparse(url).hostname or "") in LOOPBACK_HOSTS


class SandboxCredentialsError(InvalidInputError):
    """The sandbox's dummy keys are still in force while the endpoint is not the sandbox:
    left over from `eval "$(runbook sandbox env)"`. Bad usage (exit 2); nothing was sent."""

    hint = ""  # the message says what to do: one line


UNSET_COMMAND = 'eval "$(runbook sandbox env --unset)"'


def _static_key_id(sess: boto3.session.Session, kwargs: dict[str, Any]) -> str:
    """The access key id a client signs with when it is a static one, as the sandbox's keys
    are: explicit, or what the session resolved; "" otherwise. Refreshable credentials
    (roles, SSO) are never the sandbox's and are left alone: reading them could refresh."""
    from botocore.credentials import RefreshableCredentials

    if kwargs.get("aws_access_key_id"):
        return str(kwargs["aws_access_key_id"])
    creds = sess.get_credentials()  # resolved (and cached) when the client was made
    if creds is None or isinstance(creds, RefreshableCredentials):
        return ""
    return creds.access_key or ""


def refuse_sandbox_keys(url: str | None = None, key_id: str | None = None) -> None:
    """Refuse the sandbox's dummy key id anywhere but on loopback. Defaults: the endpoint
    in force (AWS_ENDPOINT_URL; none is real AWS) and AWS_ACCESS_KEY_ID, the variables
    `runbook sandbox env` exports; the CLI calls this before a kernel starts."""
    from runbook_lib.sandbox.server import DUMMY_KEY_ID

    url = url if url is not None else endpoint_url()
    key_id = key_id if key_id is not None else os.environ.get("AWS_ACCESS_KEY_ID")
    if key_id != DUMMY_KEY_ID or is_sandbox(url):
        return
    where = urlparse(url).hostname if url else None
    raise SandboxCredentialsError(
        f"This shell still holds the sandbox's dummy AWS keys, but the endpoint "
        f"({where or 'real AWS'}) is not the sandbox: nothing was sent. Unset the sandbox's "
        f"variables with `{UNSET_COMMAND}`, then choose real credentials "
        "(e.g. export AWS_PROFILE=ops AWS_REGION=us-east-1) and run again."
    )


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    user_id: str


def caller_identity(sess: boto3.session.Session | None = None, sts: Any = None) -> Identity:
    """Who the runbook acts as (STS GetCallerIdentity); mapped errors on failure."""
    from botocore.parsers import ResponseParserError  # lazy: only identity reads need it

    sts = sts or client("sts", sess)
    for attempt in range(PARSE_ATTEMPTS):
        try:
            resp = sts.get_caller_identity()
            break
        except ResponseParserError as exc:
            # a cut-off XML answer fails in botocore's parser, before its retry logic sees it
            if attempt == PARSE_ATTEMPTS - 1:
                raise from_client_error(exc, action="sts:GetCallerIdentity") from exc
        except Exception as exc:
            raise from_client_error(exc, action="sts:GetCallerIdentity") from exc
    return Identity(account=resp["Account"], arn=resp["Arn"], user_id=resp["UserId"])
