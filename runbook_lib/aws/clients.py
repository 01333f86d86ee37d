"""The one factory for boto3 clients, and where the runbook points.

Uses the standard boto3 chain only: AWS_PROFILE, AWS_REGION/AWS_DEFAULT_REGION and
AWS_ENDPOINT_URL (which boto3 honours natively; the sandbox sets it). Nothing custom.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError

from runbook_lib import model
from runbook_lib.aws.endpoint import (  # noqa: F401 - part of the factory's API
    SANDBOX_KEY_ID,
    UNSET_COMMAND,
    SandboxCredentialsError,
    endpoint_url,
    is_sandbox,
    refuse_sandbox_keys,
)
from runbook_lib.aws.errors import mapped

if TYPE_CHECKING:
    from runbook_lib.aws.types import CloudWatchClient, DynamoDBClient, S3Client, STSClient

# Standard mode: exponential backoff with jitter and retry quotas, the AWS SDK default
# for new code; 5 retries (6 attempts) ride out throttling bursts without hiding a dead
# endpoint.
MAX_RETRIES = 5
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": MAX_RETRIES},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="counter-runbook",
)
DEFAULT_REGION = model.DEFAULT_REGION
# The access key id the sandbox hands out (sandbox/server.py): refused anywhere but loopback.


# One model loader for every session of the process: botocore's JSON files (endpoints, each
# service's API) are parsed once instead of once per session, which made a client cost about
# 85 ms of CPU (9 ms now). Only that immutable data is shared: each session still resolves
# its region, profile and credentials afresh from the environment, as a new one always did.
_LOADER = botocore.loaders.create_loader()
_LOADER_LOCK = threading.Lock()


def session(region: str | None = None, profile: str | None = None) -> boto3.session.Session:
    """A boto3 session from the standard chain; region falls back to us-east-1."""
    sess = _session(profile, region)
    if sess.region_name is None:
        sess = _session(profile, DEFAULT_REGION)
    return sess


def _session(profile: str | None, region: str | None) -> boto3.session.Session:
    with _LOADER_LOCK:
        core = botocore.session.Session()
        core.register_component("data_loader", _LOADER)
        sess = boto3.session.Session(
            profile_name=profile or None, region_name=region or None, botocore_session=core
        )
        # boto3 appends its own data folder to the loader's search path on every session
        _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))
    return sess


# One overload per service the runbook calls: each returns boto3-stubs' client class, so a
# wrong request key or answer field fails mypy. Another service needs its overload here.
@overload
def client(
    service: Literal["dynamodb"],
    sess: boto3.session.Session | None = ...,
    *,
    region: str | None = ...,
    **kwargs: Any,
) -> DynamoDBClient: ...
@overload
def client(
    service: Literal["cloudwatch"],
    sess: boto3.session.Session | None = ...,
    *,
    region: str | None = ...,
    **kwargs: Any,
) -> CloudWatchClient: ...
@overload
def client(
    service: Literal["s3"],
    sess: boto3.session.Session | None = ...,
    *,
    region: str | None = ...,
    **kwargs: Any,
) -> S3Client: ...
@overload
def client(
    service: Literal["sts"],
    sess: boto3.session.Session | None = ...,
    *,
    region: str | None = ...,
    **kwargs: Any,
) -> STSClient: ...
def client(
    service: str,
    sess: boto3.session.Session | None = None,
    *,
    region: str | None = None,
    **kwargs: Any,
) -> Any:
    """A boto3 client with the runbook's retry policy: from `sess`, or from a session of
    the standard chain in `region` (None: the chain's region, else us-east-1). Other
    keyword arguments go to boto3 (endpoint_url, credentials)."""
    sess = sess or session(region)
    # cast: boto3-stubs type Session.client with one overload per literal service name; a
    # name known only at run time matches none (callers get their type from the overloads)
    made = sess.client(cast(Any, service), config=RETRY_CONFIG, **kwargs)
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
TOTAL_ATTEMPTS = MAX_RETRIES + 1
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


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    user_id: str


def caller_identity(
    sess: boto3.session.Session | None = None,
    sts: STSClient | None = None,
    *,
    region: str | None = None,
) -> Identity:
    """Who the runbook acts as (STS GetCallerIdentity); mapped errors on failure."""
    sts = sts or client("sts", sess, region=region)
    with mapped("sts:GetCallerIdentity"):
        resp = asked_again_if_unparsed(sts.get_caller_identity)
    return Identity(account=resp["Account"], arn=resp["Arn"], user_id=resp["UserId"])


T = TypeVar("T")


def asked_again_if_unparsed(call: Callable[[], T], attempts: int = PARSE_ATTEMPTS) -> T:
    """`call()`, asked again when its answer could not be parsed: a cut-off XML answer
    fails in botocore's parser, before its retry logic sees it (a cut-off JSON answer is
    retried by `_retry_cut_off_answers`). Only for reads: a write is never sent twice here.
    The last failure is raised for `mapped` to translate."""
    from botocore.parsers import ResponseParserError  # lazy: only identity reads need it

    for _ in range(attempts - 1):
        try:
            return call()
        except ResponseParserError:
            continue
    return call()
