"""aws/errors.py, the one place AWS failures become RunbookErrors: the mapping table checked
without a server, on botocore's own exception classes built as botocore builds them."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from runbook_lib.aws.errors import from_client_error, mapped
from runbook_lib.errors import (
    AccessDeniedError,
    ConditionFailedError,
    CountConflictError,
    CredentialsError,
    EndpointError,
    EndpointUnreachableError,
    InvalidInputError,
    RunbookError,
    TableMissingError,
    TableSchemaError,
    ThrottledError,
)

TABLE = "resume-VisitorCount"


def client_error(code: str, message: str = "msg", status: int = 400, **extra: object):
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
        **extra,
    }
    return ClientError(response, "PutItem")


@pytest.mark.parametrize(
    ("code", "message", "status", "expected", "says"),
    [
        ("ResourceNotFoundException", "no table", 400, TableMissingError, "Table not found"),
        ("TableNotFoundException", "no table", 400, TableMissingError, "Table not found"),
        ("ThrottlingException", "slow", 400, ThrottledError, "Throttled during"),
        ("ProvisionedThroughputExceededException", "", 400, ThrottledError, "Throttled"),
        ("RequestLimitExceeded", "", 400, ThrottledError, "Throttled"),
        ("Throttling", "", 400, ThrottledError, "Throttled"),
        ("AccessDeniedException", "no", 400, AccessDeniedError, "Access denied for"),
        ("ExpiredTokenException", "old", 400, AccessDeniedError, "Access denied"),
        ("UnrecognizedClientException", "who", 400, AccessDeniedError, "Access denied"),
        ("", "", 403, AccessDeniedError, "Access denied"),
        ("403", "", 403, AccessDeniedError, "Access denied"),
        (
            "ValidationException",
            "The provided key element does not match the schema",
            400,
            TableSchemaError,
            "key schema does not match",
        ),
        (
            "ValidationException",
            "One of the required keys was not given a value: missing the key id",
            400,
            TableSchemaError,
            "key schema",
        ),
        ("ValidationException", "bad value", 400, InvalidInputError, "AWS rejected"),
        ("ValidationError", "bad period", 400, InvalidInputError, "AWS rejected"),
        ("InvalidParameterValue", "bad", 400, InvalidInputError, "as invalid"),
        ("InternalServerError", "boom", 500, RunbookError, "failed with InternalServerError"),
    ],
)
def test_every_code_becomes_the_error_an_operator_can_act_on(code, message, status, expected, says):
    mapped_error = from_client_error(
        client_error(code, message, status), table=TABLE, action="PutItem"
    )
    assert type(mapped_error) is expected
    assert says in str(mapped_error)
    if code:
        assert f"(table {TABLE})" in str(mapped_error)
    assert str(mapped_error).count("Next step:") <= 1


def test_a_failed_condition_carries_the_item_aws_handed_back():
    item = {"stat": {"S": "Quantity"}, "viewCount": {"N": "9"}}
    err = from_client_error(
        client_error("ConditionalCheckFailedException", Item=item), action="UpdateItem"
    )
    assert isinstance(err, ConditionFailedError) and isinstance(err, CountConflictError)
    assert err.item == item and err.live_value == item
    bare = from_client_error(client_error("ConditionalCheckFailedException"))
    assert isinstance(bare, ConditionFailedError) and bare.item is None


@pytest.mark.parametrize(
    ("exc", "expected", "says"),
    [
        (NoCredentialsError(), CredentialsError, "No AWS credentials found for GetItem"),
        (PartialCredentialsError(provider="env", cred_var="x"), CredentialsError, "credentials"),
        (NoRegionError(), CredentialsError, "No AWS region configured for GetItem"),
        (ConnectionClosedError(endpoint_url="http://x"), EndpointError, "may have been applied"),
        (ReadTimeoutError(endpoint_url="http://x"), EndpointError, "after retries"),
        (ResponseParserError("cut"), EndpointError, "connection to AWS failed during GetItem"),
    ],
)
def test_transport_failures_say_what_to_check(exc, expected, says):
    err = from_client_error(exc, action="GetItem")
    assert type(err) is expected
    assert says in str(err)


def test_errors_that_are_not_aws_failures_pass_through_unchanged():
    own = TableMissingError("already mapped")
    assert from_client_error(own) is own
    other = KeyError("a bug")
    assert from_client_error(other) is other
    with pytest.raises(KeyError), mapped("GetItem", table=TABLE):
        raise other


def test_mapped_raises_the_translation_from_the_original():
    with (
        pytest.raises(ThrottledError, match="Throttled during GetItem") as caught,
        mapped("GetItem", table=TABLE),
    ):
        raise client_error("ThrottlingException")
    assert isinstance(caught.value.__cause__, ClientError)


@pytest.mark.parametrize(
    ("url", "endpoint_env", "says"),
    [
        ("http://localhost:4566/", "http://localhost:4566", "the sandbox is not running"),
        ("https://ddb.corp.example:8443/", "https://ddb.corp.example:8443", "AWS_ENDPOINT_URL"),
        ("https://dynamodb.eu-west-1.amazonaws.com/", None, "check the network"),
    ],
)
def test_an_unreachable_endpoint_says_what_to_do_wherever_it_is(
    url, endpoint_env, says, monkeypatch
):
    if endpoint_env:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_env)
    else:
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    base = url.rstrip("/")
    for exc in (EndpointConnectionError(endpoint_url=url), ConnectTimeoutError(endpoint_url=url)):
        mapped_error = from_client_error(exc, action="DescribeTable")
        assert isinstance(mapped_error, EndpointUnreachableError)
        assert str(mapped_error).startswith(f"cannot reach {base}: ") and says in str(mapped_error)
        assert "Next step" not in str(mapped_error), "one line: the message says what to do"
