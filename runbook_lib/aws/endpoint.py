"""Where the runbook points, and the sandbox-key refusal: environment variables only, no
boto3, so the runner can check them in its own process without importing the SDK."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from runbook_lib.errors import SandboxCredentialsError
from runbook_lib.model import is_loopback

SANDBOX_KEY_ID = "SANDBOXDUMMYKEYID000"  # the dummy key id `runbook sandbox env` exports


def endpoint_url() -> str | None:
    """The endpoint override in force (AWS_ENDPOINT_URL), if any."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def is_sandbox(url: str | None = None) -> bool:
    """True when the endpoint is on loopback: the moto sandbox, never real AWS."""
    url = url if url is not None else endpoint_url()
    return is_loopback(url)


UNSET_COMMAND = 'eval "$(runbook sandbox env --unset)"'


def refuse_sandbox_keys(url: str | None = None, key_id: str | None = None) -> None:
    """Refuse the sandbox's dummy key id anywhere but on loopback. Defaults: the endpoint
    in force (AWS_ENDPOINT_URL; none is real AWS) and AWS_ACCESS_KEY_ID, the variables
    `runbook sandbox env` exports; the CLI calls this before a kernel starts."""
    url = url if url is not None else endpoint_url()
    key_id = key_id if key_id is not None else os.environ.get("AWS_ACCESS_KEY_ID")
    if key_id != SANDBOX_KEY_ID or is_sandbox(url):
        return
    where = urlparse(url).hostname if url else None
    raise SandboxCredentialsError(
        f"This shell still holds the sandbox's dummy AWS keys, but the endpoint "
        f"({where or 'real AWS'}) is not the sandbox: nothing was sent. Unset the sandbox's "
        f"variables with `{UNSET_COMMAND}`, then choose real credentials "
        "(e.g. export AWS_PROFILE=ops AWS_REGION=us-east-1) and run again."
    )
