"""The backup and restore error codes in aws/errors.py's one mapping, without a server."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from runbook_lib.aws.errors import mapped
from runbook_lib.errors import InvalidInputError, RunbookError


def _raise(code: str, message: str = "said AWS") -> None:
    raise ClientError({"Error": {"Code": code, "Message": message}}, "Op")


@pytest.mark.parametrize(
    ("code", "kind", "message"),
    [
        ("BackupNotFoundException", InvalidInputError, "No such backup during Restore: said AWS"),
        ("TableAlreadyExistsException", InvalidInputError, "Table new-t already exists"),
        ("TableInUseException", InvalidInputError, "nothing was restored"),
        ("InvalidRestoreTimeException", InvalidInputError, r"Restore refused by DynamoDB \(Inv"),
        ("PointInTimeRecoveryUnavailableException", InvalidInputError, "refused by DynamoDB"),
        ("BackupInUseException", RunbookError, "another backup or restore is running"),
        ("LimitExceededException", RunbookError, "another backup or restore is running"),
    ],
)
def test_backup_codes_say_what_to_do(code, kind, message):
    with pytest.raises(kind, match=message) as caught, mapped("Restore", table="new-t"):
        _raise(code)
    assert isinstance(caught.value.__cause__, ClientError)


def test_other_codes_keep_the_shared_mapping():
    expected = pytest.raises(RunbookError, match="failed with SomethingElse")
    with expected as caught, mapped("Restore", table="new-t"):
        _raise("SomethingElse")
    assert not isinstance(caught.value, InvalidInputError)
