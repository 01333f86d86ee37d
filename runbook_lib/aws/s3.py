"""S3 calls: the report upload of `runbook run --out s3://` (notebook/publish.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from runbook_lib.aws.clients import client
from runbook_lib.aws.errors import mapped
from runbook_lib.aws.types import S3Client
from runbook_lib.errors import RunbookError


class S3WriteError(RunbookError):
    """A put or delete under the report prefix failed. `brief` is what AWS answered (its
    error code and message) or the exception's type and text: the report's messages quote
    it as it is, so an operator can search for the code."""

    def __init__(self, brief: str) -> None:
        self.brief = brief
        super().__init__(brief, hint="")


def _brief(exc: BaseException) -> str:
    code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
    return f"{code}: {exc}" if code else f"{type(exc).__name__}: {exc}"


@contextmanager
def _s3_call(action: str) -> Iterator[None]:
    """`mapped`, with any failure raised as an S3WriteError quoting AWS's own answer."""
    try:
        with mapped(action):
            yield
    except Exception as exc:  # any failure means the report is not (all) in S3
        original = exc.__cause__ if isinstance(exc, RunbookError) and exc.__cause__ else exc
        raise S3WriteError(_brief(original)) from exc


def put_object(
    bucket: str,
    key: str,
    body: bytes,
    *,
    content_type: str | None = None,
    s3: S3Client | None = None,
) -> None:
    s3 = s3 or client("s3")
    # Any: a `**` of dict[str, str] is checked against every keyword of put_object (stubs)
    extra: dict[str, Any] = {"ContentType": content_type} if content_type else {}
    with _s3_call("s3:PutObject"):
        s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)


def delete_object(bucket: str, key: str, *, s3: S3Client | None = None) -> None:
    s3 = s3 or client("s3")
    with _s3_call("s3:DeleteObject"):
        s3.delete_object(Bucket=bucket, Key=key)
