"""Reports to S3 (`runbook run --out s3://bucket/prefix`).

The bucket is proven writable before the notebook runs (an empty marker put under the
prefix, with only the permission the upload itself needs, and deleted where allowed), so a
scheduler's typo fails in a second, before anything runs. The report is written locally
first and uploaded afterwards; the machine's paths in its files (the report folder, the
project's folder) are rewritten before upload, so the copy in S3 names S3 locations only.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from runbook_lib import paths
from runbook_lib.aws.types import S3Client
from runbook_lib.errors import InvalidInputError, RunbookError
from runbook_lib.notebook.outcome import EXIT_FAILED, RunOutcome

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".ipynb": "application/x-ipynb+json",
    ".csv": "text/csv; charset=utf-8",
}


class ReportUploadError(RunbookError):
    """The report could not be written to S3 (before the run: nothing ran)."""

    hint = (
        "check the bucket name and that these credentials may s3:PutObject and "
        "s3:DeleteObject under the prefix, or give a local --out folder."
    )


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # without leading or trailing slash; may be empty

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)


def is_s3(out: str | Path | None) -> bool:
    return isinstance(out, str) and out.startswith("s3://")


def parse(url: str) -> S3Location:
    """s3://bucket/prefix, checked for shape (bad usage, exit 2, when it has none)."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket or any(c in bucket for c in " \\") or bucket != bucket.strip("."):
        raise InvalidInputError(
            f"--out {url!r} names no bucket.", hint="give --out s3://BUCKET/PREFIX."
        )
    return S3Location(bucket=bucket, prefix=prefix.strip("/"))


# One fixed marker key, overwritten by every check: a role that may put but not delete
# (the report role) leaves one empty object, never one per run.
WRITE_CHECK = ".runbook-write-check"


def check_writable(where: S3Location, s3: S3Client | None = None) -> None:
    """Put an empty marker where the report will go (the upload's own permission, nothing
    more: the report role may not list or delete), then delete it where allowed."""
    from runbook_lib.aws import s3 as aws_s3

    s3 = s3 or _client()
    marker = where.key(WRITE_CHECK)
    try:
        aws_s3.put_object(where.bucket, marker, b"", s3=s3)
    except aws_s3.S3WriteError as exc:  # any failure means the upload would fail too
        raise ReportUploadError(
            f"Cannot write reports to {where.url} ({exc.brief}); nothing ran."
        ) from None
    with contextlib.suppress(aws_s3.S3WriteError):  # s3:DeleteObject is not the report role's
        aws_s3.delete_object(where.bucket, marker, s3=s3)


def _client() -> S3Client:
    from runbook_lib import aws

    return aws.client("s3")


def _scrubbed(text: str, replacements: dict[str, str]) -> str:
    for local, shown in replacements.items():
        text = text.replace(local, shown)
    return text


def upload(
    folder: Path, where: S3Location, replacements: dict[str, str], s3: S3Client | None = None
) -> str:
    """Upload every file of the report folder under where/<folder name>; returns its URL.

    Text files get `replacements` (local path -> what the reader sees) applied first; longer
    paths are replaced before their parents.
    """
    from runbook_lib.aws import s3 as aws_s3

    s3 = s3 or _client()
    ordered = dict(sorted(replacements.items(), key=lambda kv: -len(kv[0])))
    for local in sorted(p for p in folder.iterdir() if p.is_file()):
        body = local.read_bytes()
        with contextlib.suppress(UnicodeDecodeError):  # binary: no paths to rewrite in it
            body = _scrubbed(body.decode("utf-8"), ordered).encode("utf-8")
        content_type = CONTENT_TYPES.get(local.suffix, "application/octet-stream")
        key = where.key(folder.name, local.name)
        aws_s3.put_object(where.bucket, key, body, content_type=content_type, s3=s3)
    return f"{where.url}/{folder.name}"


def publish_report(outcome: RunOutcome, remote: S3Location, made: list[Path]) -> RunOutcome:
    """Upload the report folder, then remove the local copy. If the upload fails, the
    local report stays where it is, the summary says where, and the run exits 1."""
    from runbook_lib.aws.s3 import S3WriteError

    folder = Path(outcome.out_dir)
    shown = {str(folder): f"{remote.url}/{folder.name}", str(paths.project_root()): "<runbook>"}
    try:
        prefix = upload(folder, remote, shown)
    except Exception as exc:  # any failure: the report must not be lost with it
        brief = exc.brief if isinstance(exc, S3WriteError) else f"{type(exc).__name__}: {exc}"
        outcome.exit_code = EXIT_FAILED
        outcome.error = (
            f"upload to {remote.url} failed ({brief}); the report is kept at {folder}"
            + (f" (the notebook's own outcome: {outcome.error})" if outcome.error else "")
        )
        return outcome
    shutil.rmtree(folder, ignore_errors=True)
    paths.remove_empty_folders(made[1:])  # reports/ itself, if this run made it
    for attr in ("notebook_path", "html_path", "result_path"):
        if getattr(outcome, attr):
            setattr(outcome, attr, f"{prefix}/{Path(getattr(outcome, attr)).name}")
    outcome.out_dir = prefix
    return outcome
