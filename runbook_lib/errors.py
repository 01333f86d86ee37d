"""Domain errors. Every message says what went wrong and what to do next.

`from_client_error` is the one place where botocore's `ClientError` codes become
runbook errors, so notebooks and the CLI never show a raw botocore traceback for a
situation an operator can fix.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError


class RunbookError(Exception):
    """Base class: a problem the operator can act on. `hint` is the next step."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.hint = hint if hint is not None else type(self).hint
        super().__init__(message)

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} Next step: {self.hint}" if self.hint else base


class InvalidInputError(RunbookError, ValueError):
    """A parameter or file is not acceptable. Nothing was written."""

    hint = "fix the parameter and run again; nothing was written."


class TableMissingError(RunbookError):
    hint = "run terraform apply, or runbook sandbox up, then run again."


class TableSchemaError(RunbookError):
    hint = "check table_name and key_name: the table's key schema differs from the target's."


class ItemMissingError(RunbookError):
    hint = "run 01_init (runbook run 01_init) to create the counter item."


class CountConflictError(RunbookError):
    """A conditional write lost: the live value is not what the caller expected."""

    hint = "read the live count (02_status), then retry with expected_current set to it."

    def __init__(self, message: str, live_value: object = None, hint: str | None = None) -> None:
        self.live_value = live_value
        super().__init__(message, hint)


class DecreaseRefusedError(InvalidInputError):
    """A restore would lower the live count: visits since the backup would be lost."""

    hint = "if lowering is intended, run again with allow_decrease=True."


class RestoreVerificationError(RunbookError):
    """Items were written but reading them back does not match the backup."""

    hint = (
        "something else wrote to the table during the restore, or the write was partial: "
        "compare with 02_status, then re-run the restore (puts are idempotent)."
    )


class ConfirmationError(RunbookError):
    hint = "pass dry_run=False and confirm=<the table name> to apply the change."


class CredentialsError(RunbookError):
    hint = (
        "set AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and AWS_REGION; "
        'for the local sandbox run: eval "$(runbook sandbox env)".'
    )


class AccessDeniedError(RunbookError):
    hint = "use a role with the runbook's operator policy (see terraform/iam_runbook.tf)."


class EndpointError(RunbookError):
    hint = (
        "check AWS_ENDPOINT_URL; for the sandbox run `runbook sandbox up` and "
        'eval "$(runbook sandbox env)".'
    )


class ThrottledError(RunbookError):
    hint = "AWS throttled the request after retries: wait a minute and run again."


class BackupFileError(RunbookError):
    hint = "pick an intact backup file (04_backup_restore with action=list); nothing was written."


class TerraformError(RunbookError):
    hint = "read Terraform's output above; fix the configuration or state, then run again."


class SandboxError(RunbookError):
    hint = "run `runbook sandbox down` then `runbook sandbox up`."


class NotebookNotFoundError(RunbookError):
    hint = "run `runbook list` to see the notebooks."


_THROTTLE_CODES = {
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
}
_INVALID_CODES = {
    "ValidationException",
    "ValidationError",
    "InvalidParameterValue",
    "InvalidParameterCombination",
}
_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
}


def from_client_error(
    exc: Exception, *, table: str | None = None, action: str = "the AWS call"
) -> Exception:
    """Translate a botocore exception into a RunbookError; return other errors unchanged.

    Callers `raise from_client_error(exc, ...) from exc` so the original stays attached.
    """
    if isinstance(exc, RunbookError):
        return exc
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsError(f"No AWS credentials found for {action}.")
    if isinstance(exc, NoRegionError):
        return CredentialsError(f"No AWS region configured for {action}.")
    if isinstance(exc, EndpointConnectionError):
        return EndpointError(f"Cannot reach the AWS endpoint for {action}: {exc}.")
    from botocore.parsers import ResponseParserError  # lazy: ~60 ms on every CLI start

    if isinstance(exc, (BotoConnectionError, HTTPClientError, ResponseParserError)):
        # dropped or cut-off connections after every retry: the request may or may not
        # have been applied, so the operator re-reads before acting again
        return EndpointError(
            f"The connection to AWS failed during {action} after retries: {exc}.",
            hint="check the network or endpoint, then re-run; read the live state "
            "(02_status) first, since the last request may have been applied.",
        )
    if not isinstance(exc, ClientError):
        return exc
    err = exc.response.get("Error", {})
    code = err.get("Code", "")
    msg = err.get("Message", "")
    where = f" (table {table})" if table else ""
    if code == "ResourceNotFoundException":
        return TableMissingError(f"Table not found{where} during {action}: {msg}")
    if code == "ConditionalCheckFailedException":
        live = exc.response.get("Item")
        return CountConflictError(
            f"The condition on {action}{where} failed: the item changed or is missing.",
            live_value=live,
        )
    if code in _THROTTLE_CODES:
        return ThrottledError(f"Throttled during {action}{where}: {code}.")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _DENIED_CODES or (code == "403" or (status == 403 and not code)):
        return AccessDeniedError(f"Access denied for {action}{where}: {code}: {msg}")
    low = msg.lower()
    if code == "ValidationException" and (
        ("key" in low and "schema" in low) or "missing the key" in low
    ):
        return TableSchemaError(
            f"The table's key schema does not match the target's key{where} during {action}: {msg}"
        )
    if code in _INVALID_CODES:  # DynamoDB says ValidationException, CloudWatch ValidationError
        return InvalidInputError(f"AWS rejected {action}{where} as invalid: {msg}")
    if code == "TableNotFoundException":
        return TableMissingError(f"Table not found{where} during {action}: {msg}")
    return RunbookError(
        f"{action}{where} failed with {code}: {msg}",
        hint="read the error code above; if it persists, check the AWS console or status page.",
    )
