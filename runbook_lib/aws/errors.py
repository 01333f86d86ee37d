"""The one place where botocore's exceptions and AWS error codes become runbook errors, so
notebooks and the CLI never show a raw botocore traceback for a situation an operator can fix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from runbook_lib.errors import (
    AccessDeniedError,
    ConditionFailedError,
    CredentialsError,
    EndpointError,
    InvalidInputError,
    RunbookError,
    TableMissingError,
    TableSchemaError,
    ThrottledError,
    unreachable,
)

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
    if isinstance(exc, ClientError):
        return _from_code(exc, table, action)
    return _from_transport(exc, action)


def _from_transport(exc: Exception, action: str) -> Exception:
    """Credentials, region and connection failures: nothing AWS answered with a code."""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsError(f"No AWS credentials found for {action}.")
    if isinstance(exc, NoRegionError):
        return CredentialsError(f"No AWS region configured for {action}.")
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return unreachable(exc.kwargs.get("endpoint_url"))
    from botocore.parsers import ResponseParserError  # lazy: ~60 ms on every CLI start

    if isinstance(exc, (BotoConnectionError, HTTPClientError, ResponseParserError)):
        # dropped or cut-off connections after every retry: the request may or may not
        # have been applied, so the operator re-reads before acting again
        return EndpointError(
            f"The connection to AWS failed during {action} after retries: {exc}.",
            hint="check the network or endpoint, then re-run; read the live state "
            "(02_status) first, since the last request may have been applied.",
        )
    return exc


def _from_code(exc: ClientError, table: str | None, action: str) -> RunbookError:
    """The error an AWS error code means, with the table and the action named."""
    err = exc.response.get("Error", {})
    code, msg = err.get("Code", ""), err.get("Message", "")
    where = f" (table {table})" if table else ""
    if code in _BACKUP_CODES:
        return _backup_error(code, msg, table=table, action=action)
    if code in ("ResourceNotFoundException", "TableNotFoundException"):
        return TableMissingError(f"Table not found{where} during {action}: {msg}")
    if code == "ConditionalCheckFailedException":
        item = exc.response.get("Item")  # ReturnValuesOnConditionCheckFailure's, if asked for
        return ConditionFailedError(
            f"The condition on {action}{where} failed: the item changed or is missing.",
            item=item if isinstance(item, dict) else None,
        )
    if code in _THROTTLE_CODES:
        return ThrottledError(f"Throttled during {action}{where}: {code}.")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _DENIED_CODES or (code == "403" or (status == 403 and not code)):
        return AccessDeniedError(f"Access denied for {action}{where}: {code}: {msg}")
    if code == "ValidationException" and _names_the_key_schema(msg.lower()):
        return TableSchemaError(
            f"The table's key schema does not match the target's key{where} during {action}: {msg}"
        )
    if code in _INVALID_CODES:  # DynamoDB says ValidationException, CloudWatch ValidationError
        return InvalidInputError(f"AWS rejected {action}{where} as invalid: {msg}")
    return RunbookError(
        f"{action}{where} failed with {code}: {msg}",
        hint="read the error code above; if it persists, check the AWS console or status page.",
    )


_BACKUP_CODES = {  # only DynamoDB's backup and restore calls answer with these
    "BackupNotFoundException",
    "TableAlreadyExistsException",
    "TableInUseException",
    "PointInTimeRecoveryUnavailableException",
    "InvalidRestoreTimeException",
    "BackupInUseException",
    "LimitExceededException",
}


def _backup_error(code: str, msg: str, *, table: str | None, action: str) -> RunbookError:
    if code == "BackupNotFoundException":
        return InvalidInputError(
            f"No such backup during {action}: {msg}",
            hint="list the backups (04_backup_restore action=list) and copy an ARN from there.",
        )
    if code in ("TableAlreadyExistsException", "TableInUseException"):
        return InvalidInputError(
            f"Table {table} already exists ({code}); nothing was restored.",
            hint="pick a new_table_name that does not exist yet.",
        )
    if code in ("PointInTimeRecoveryUnavailableException", "InvalidRestoreTimeException"):
        return InvalidInputError(f"{action} refused by DynamoDB ({code}): {msg}")
    return RunbookError(  # BackupInUseException, LimitExceededException
        f"{action} refused by DynamoDB ({code}): {msg}",
        hint="another backup or restore is running; wait a few minutes and run again.",
    )


def _names_the_key_schema(message: str) -> bool:
    return ("key" in message and "schema" in message) or "missing the key" in message


@contextmanager
def mapped(action: str, table: str | None = None) -> Iterator[None]:
    """Run AWS calls with their failures mapped to RunbookErrors: the one idiom aws/ modules
    use around a call, so no module above aws/ handles a ClientError itself.

        with mapped("GetItem", table=target.table):
            resp = ddb.get_item(...)
    """
    try:
        yield
    except RunbookError:
        raise
    except Exception as exc:
        translated = from_client_error(exc, table=table, action=action)
        if translated is exc:
            raise
        raise translated from exc
