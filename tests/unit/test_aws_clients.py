"""aws/clients.py without a server: the one retry helper for answers botocore cannot parse,
and the factory's region argument."""

from __future__ import annotations

import pytest
from botocore.parsers import ResponseParserError

from runbook_lib import aws
from runbook_lib.aws.clients import PARSE_ATTEMPTS, asked_again_if_unparsed


def calls_failing(times: int) -> tuple[list[int], object]:
    made: list[int] = []

    def call() -> dict[str, str]:
        made.append(1)
        if len(made) <= times:
            raise ResponseParserError("cut-off XML")
        return {"Account": "1"}

    return made, call


def test_an_unparsed_answer_is_asked_again_until_one_parses():
    made, call = calls_failing(PARSE_ATTEMPTS - 1)
    assert asked_again_if_unparsed(call) == {"Account": "1"}
    assert len(made) == PARSE_ATTEMPTS


def test_the_last_unparsed_answer_is_raised_after_every_attempt():
    made, call = calls_failing(PARSE_ATTEMPTS)
    with pytest.raises(ResponseParserError):
        asked_again_if_unparsed(call)
    assert len(made) == PARSE_ATTEMPTS


def test_other_errors_are_not_asked_again():
    made: list[int] = []

    def call() -> None:
        made.append(1)
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        asked_again_if_unparsed(call)
    assert made == [1]


def test_the_factory_makes_a_client_in_the_region_asked_for(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    made = aws.client("dynamodb", region="eu-west-1")
    assert made.meta.region_name == "eu-west-1"
    assert aws.client("sts", region=None).meta.region_name  # the chain's, else us-east-1


def test_sessions_share_the_parsed_models_and_still_read_the_environment_afresh(monkeypatch):
    """One model loader for the process (a client was ~85 ms of CPU, parsing botocore's JSON
    again in every session); what a session reads from the environment is still read anew."""
    from runbook_lib.aws import clients

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    first, paths = clients.session(), list(clients._LOADER.search_paths)
    assert first._session.get_component("data_loader") is clients._LOADER
    assert first.region_name == "eu-west-1"

    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE11")
    later = clients.session()
    assert later._session.get_component("data_loader") is clients._LOADER
    assert later.region_name == "ap-southeast-2"
    assert later.get_credentials().access_key == "AKIAEXAMPLEEXAMPLE11"
    assert clients._LOADER.search_paths == paths, "the search path grows with each session"
