"""Domain errors. Every message says what went wrong and what to do next.

Pure: no botocore here. `runbook_lib.aws.errors` is the one place where AWS error codes
become these errors.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse


class RunbookError(Exception):
    """Base class: a problem the operator can act on. `hint` is the next step.

    `exit_code` is what `runbook run` exits with when a notebook raises it: 1 (execution
    failed) unless a class says 2 (bad usage: nothing was read or written) or 3 (a finding).
    A subclass inherits its parent's: a class that means otherwise says so.
    """

    hint: str = ""
    exit_code: int = 1

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


class ConditionFailedError(CountConflictError):
    """A conditional write's condition failed (DynamoDB's ConditionalCheckFailedException).
    `item` is the item as the service handed it back (None when it did not): aws/ reads it to
    tell a real conflict from its own write whose answer was lost."""

    def __init__(self, message: str, item: dict | None = None, hint: str | None = None) -> None:
        self.item = item
        super().__init__(message, live_value=item, hint=hint)


class DecreaseRefusedError(InvalidInputError):
    """A restore would lower the live count: visits since the backup would be lost."""

    hint = "if lowering is intended, run again with allow_decrease=True."
    live_value: object = None  # the live count a refused set saw (its result's `old`)


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


class EndpointUnreachableError(EndpointError):
    """No connection could be made at all: nothing was sent, so nothing was looked at.

    Its message is the whole story (what to do included), so it has no separate hint and
    the runner prints it as one line.
    """

    hint = ""


# Error class names the runner shows as their one-line message, with no "error in cell N".
ONE_LINE_ERRORS = ("EndpointUnreachableError", "SandboxCredentialsError")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def unreachable(url: str | None) -> EndpointUnreachableError:
    """The one line for an endpoint that refuses or never answers a connection."""
    parts = urlparse(url or "")
    base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else (url or "the AWS endpoint")
    if (parts.hostname or "") in LOOPBACK_HOSTS:
        # a loopback endpoint is the sandbox (or a stale AWS_ENDPOINT_URL pointing at one)
        return EndpointUnreachableError(
            f"cannot reach {base}: the sandbox is not running; run `runbook sandbox up` "
            "or unset AWS_ENDPOINT_URL"
        )
    if os.environ.get("AWS_ENDPOINT_URL"):
        return EndpointUnreachableError(
            f"cannot reach {base}: nothing answers there; check AWS_ENDPOINT_URL (unset it "
            "for real AWS) and the network"
        )
    return EndpointUnreachableError(
        f"cannot reach {base}: check the network (VPN, proxy, firewall) and AWS_REGION, "
        "then run again"
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


class TargetConflictError(InvalidInputError):
    """Two things the user passed name different counters (a table_name the stack given
    as terraform_dir does not manage). Nothing was read or written: bad usage, exit 2."""

    hint = "pass only terraform_dir, or a table_name that stack manages; nothing was written."
    exit_code = 2


class StackMismatchError(RunbookError):
    """The live table disagrees with the stack that manages it (exit 3: a finding)."""

    hint = "the stack and the live table differ: check the stack's state and the table."
    exit_code = 3


class TerraformPinError(InvalidInputError):
    """The stack pins a Terraform or provider version that cannot be had here."""

    hint = "install a Terraform version the stack's required_version allows; nothing was written."
    exit_code = 2


# Raised by aws/endpoint.py and formats/countvalue.py; defined here with every other class
# that has an exit code of its own, so `exit_code_for` finds each in any process that
# imported this module (a notebook's exception reaches the runner by its name only).


class SandboxCredentialsError(InvalidInputError):
    """The sandbox's dummy keys are still in force while the endpoint is not the sandbox:
    left over from `eval "$(runbook sandbox env)"`. Bad usage (exit 2); nothing was sent."""

    hint = ""  # the message says what to do: one line
    exit_code = 2


class CountTypeError(RunbookError):
    """A write would change the count's type (N <-> S): refused, nothing written (exit 3).
    `count_type`: the type the item holds, the one a write may use."""

    hint = ""
    exit_code = 3

    def __init__(self, message: str, count_type: str, hint: str | None = None) -> None:
        self.count_type = count_type
        super().__init__(message, hint)


class CountElsewhereError(RunbookError):
    """The item has no count under the target's attribute but holds one under another:
    writing the target's would give the item a second count (exit 3: a finding)."""

    hint = ""
    exit_code = 3


class CountAttributeError(CountElsewhereError, InvalidInputError):
    """The same, with a count_attribute the user passed: bad usage (exit 2)."""

    hint = ""
    exit_code = 2


def exit_code_for(ename: str) -> int:
    """The exit code of the RunbookError class named `ename`: a notebook's exception lives in
    its kernel, and the runner gets its class name only (papermill's `ename`). Any other name
    (a plain bug, a KeyError) is 1. Every class with a code of its own is defined in this
    module (tests/unit/test_runner_exit_codes.py holds it so), so importing it is enough."""
    pending: list[type[RunbookError]] = [RunbookError]
    while pending:
        cls = pending.pop()
        if cls.__name__ == ename:
            return cls.exit_code
        pending += cls.__subclasses__()
    return RunbookError.exit_code
