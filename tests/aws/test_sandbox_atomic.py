"""The sandbox's moto server as `start_server` starts it (sandbox.motoserver): moto one
request at a time, its reset endpoint kept, and a client slow to send its request stalling
nobody else (the body is read before the lock is taken).

The load proof (rounds of 8 threads x 250 visits counted exactly, the guide's
read-modify-write certainly losing visits) is in tests/aws/test_lambda.py; the lock's
exclusion, deterministically and in-process, in tests/unit/test_motoserver.py.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from runbook_lib import aws
from runbook_lib.sandbox import server as sandbox
from tests.conftest import make_table

# Ends a socket wait only when the server is broken (the test would hang otherwise); a
# healthy server answers in milliseconds.
HANG_GUARD_S = 60


@pytest.fixture(scope="module")
def own_server(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A sandbox server of this module's own: the reset below would empty a shared one
    (moto_url only for the sandbox credentials it puts in the environment)."""
    log = tmp_path_factory.mktemp("atomic") / "moto.log"
    pid, url = sandbox.start_server(log_path=log)
    try:
        yield {"url": url, "log": log, "ddb": aws.client("dynamodb", endpoint_url=url)}
    finally:
        sandbox.stop_pid(pid)


def test_the_sandbox_is_moto_one_request_at_a_time_with_its_reset(own_server):
    assert "moto (one request at a time)" in Path(own_server["log"]).read_text()
    ddb = own_server["ddb"]
    table = make_table(ddb)
    assert table in ddb.list_tables()["TableNames"]
    sandbox.reset_server(own_server["url"])  # moto's /moto-api/reset, through the lock
    assert ddb.list_tables()["TableNames"] == []


def _dynamodb_request(host: str, body: bytes) -> bytes:
    """The head of a DynamoDB ListTables request (moto routes it by its credential scope
    and reads its JSON body; it does not check signatures)."""
    return (
        "POST / HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        "X-Amz-Target: DynamoDB_20120810.ListTables\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=sandbox/20250101/us-east-1/dynamodb/"
        "aws4_request, SignedHeaders=host, Signature=0\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()


def test_a_client_slow_to_send_its_body_stalls_nobody_else(own_server):
    url = urlsplit(own_server["url"])
    body = json.dumps({"Limit": 10}).encode()
    with socket.create_connection((url.hostname, url.port), timeout=HANG_GUARD_S) as slow:
        # GIVEN a request whose body has not all arrived (moto would wait for the rest)
        slow.sendall(_dynamodb_request(url.netloc, body) + body[:1])
        # WHEN another client asks meanwhile THEN it is answered: nobody holds the lock
        table = make_table(own_server["ddb"])
        assert table in own_server["ddb"].list_tables()["TableNames"]
        # and the slow request, once whole, gets moto's answer too
        slow.sendall(body[1:])
        answer = b""
        while chunk := slow.recv(65536):  # werkzeug closes the connection after its answer
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert table in json.loads(payload)["TableNames"]
