"""sandbox.motoserver's OneAtATime in-process, no server: a request runs to the end of its
answer before the next one starts, and its body is read before the lock is taken.

Deterministic: the first request holds between its read and its write until the second
has found the lock taken (the lock tells), so the test never relies on a thread switch
happening, or not, at some moment. The load test on the sandbox itself is in
tests/aws/test_lambda.py; the server as started, in tests/aws/test_sandbox_atomic.py.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from runbook_lib.sandbox.motoserver import CALLS_BACK, OneAtATime, one_write_handler

# Ends a wait only when the code under test is broken (it would hang otherwise); a healthy
# run never comes near it.
HANG_GUARD_S = 30


class TellingLock:
    """A lock that tells when a second caller has found it taken (and is about to wait),
    and what the request body stream's position was each time it was taken."""

    def __init__(self, stream: io.BytesIO | None = None) -> None:
        self._lock = threading.Lock()
        self.contended = threading.Event()
        self.stream = stream
        self.positions: list[int] = []

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            self.contended.set()
            self._lock.acquire()
        if self.stream is not None:
            self.positions.append(self.stream.tell())

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _call(app: OneAtATime, environ: dict[str, Any]) -> bytes:
    return b"".join(app(environ, lambda *args: None))


def test_a_request_waits_until_the_answer_before_it_is_complete():
    lock = TellingLock()
    count = {"n": 0}
    first_has_read = threading.Event()

    def counter_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        """A read-modify-write done lazily, in the answer's body (a generator, as a WSGI
        body may be): the first request waits between its read and its write until the
        second request has found the lock taken."""
        start_response("200 OK", [("Content-Type", "text/plain")])
        seen = count["n"]
        if environ["PATH_INFO"] == "/first":
            first_has_read.set()
            assert lock.contended.wait(HANG_GUARD_S), "the second request was not held back"
        count["n"] = seen + 1
        yield str(seen + 1).encode()

    app = OneAtATime(counter_app, lock)
    answers: dict[str, bytes] = {}

    def request(path: str) -> None:
        answers[path] = _call(app, EnvironBuilder(path=path).get_environ())

    first = threading.Thread(target=request, args=("/first",))
    first.start()
    assert first_has_read.wait(HANG_GUARD_S)
    second = threading.Thread(target=request, args=("/second",))
    second.start()
    first.join()
    second.join()
    # the second read what the first wrote: no update was lost
    assert answers == {"/first": b"1", "/second": b"2"}
    assert count["n"] == 2


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_the_body_is_read_before_the_lock_and_given_whole_to_moto(chunked):
    payload = b'{"TableName": "t", "Limit": 10}'
    environ = EnvironBuilder(method="POST", data=payload).get_environ()
    socket_stream = io.BytesIO(payload)
    environ["wsgi.input"] = socket_stream
    if chunked:  # what werkzeug's server gives for Transfer-Encoding: chunked
        del environ["CONTENT_LENGTH"]
        environ["wsgi.input_terminated"] = True
    lock = TellingLock(stream=socket_stream)

    def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [])
        return [environ["wsgi.input"].read()]

    assert _call(OneAtATime(echo, lock), environ) == payload
    assert lock.positions == [len(payload)], "the socket was read while the lock was held"


def test_moto_s_recorder_replay_sends_requests_back_to_the_server_outside_the_lock():
    """moto's replay sends each recorded request to this same server and waits for its
    answer: under the lock, that request would wait for the replay forever."""
    (replay,) = CALLS_BACK
    lock = TellingLock()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [])
        if environ["PATH_INFO"] != replay:
            return [b"replayed"]
        with ThreadPoolExecutor(1) as http:  # the request moto sends back, as a client would
            answer = http.submit(_call, served, EnvironBuilder(path="/").get_environ())
            return [answer.result(timeout=HANG_GUARD_S)]

    served = OneAtATime(app, lock)
    assert _call(served, EnvironBuilder(path=replay, method="POST").get_environ()) == b"replayed"
    assert not lock.contended.is_set()


# ---- one write per answer -------------------------------------------------------------------

ANSWER = b'{"TableDescription": {"TableName": "t", "TableStatus": "DELETING"}}' * 8


class CountingSocket(socket.socket):
    """An accepted connection that records each send the server makes on it."""

    sends: list[bytes]

    def send(self, data: Any, *args: Any) -> int:
        self.sends.append(bytes(data))
        return super().send(data, *args)

    def sendall(self, data: Any, *args: Any) -> None:
        self.sends.append(bytes(data))
        super().sendall(data, *args)


def _sends_of_one_answer(handler: type[Any], headers: dict[str, str]) -> list[bytes]:
    """What the server sent, send by send, answering one POST (after reading its body):
    the server handles the one request in a thread the test joins, so every send is recorded
    before the test reads them."""
    from werkzeug.serving import make_server

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        # with its length, as moto's answers (a chunked body ends in a send of its own)
        length = str(len(ANSWER))
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", length)])
        return [ANSWER]

    # threaded, as the sandbox's (werkzeug speaks HTTP/1.1 only then), but this one request
    # is handled in the serving thread itself, so joining it waits for every send
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler)
    server.process_request = server.process_request_thread  # type: ignore[method-assign]
    accepted: list[CountingSocket] = []

    def get_request() -> tuple[CountingSocket, Any]:
        conn, address = server.socket.accept()
        counted = CountingSocket(conn.family, conn.type, conn.proto, fileno=conn.detach())
        counted.sends = []
        accepted.append(counted)
        return counted, address

    server.get_request = get_request  # type: ignore[method-assign]
    serving = threading.Thread(target=server.handle_request)
    serving.start()
    try:
        client = http.client.HTTPConnection(*server.server_address[:2], timeout=HANG_GUARD_S)
        client.request("POST", "/", body=b'{"TableName": "t"}', headers=headers)
        assert client.getresponse().read() == ANSWER
        client.close()
        serving.join(HANG_GUARD_S)
        assert not serving.is_alive(), "the server never finished the request"
    finally:
        server.server_close()
    return accepted[0].sends


@pytest.mark.parametrize("expect_continue", [False, True])
def test_the_sandbox_sends_each_answer_in_one_write(expect_continue):
    """The AWS provider's client can close its connection between the headers and the
    body when they come in two segments (sandbox.motoserver's docstring): the sandbox's
    handler sends status line, headers and body in one write. With `Expect: 100-continue`
    the interim answer goes first, alone, as the client waits for it."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    headers = {"Expect": "100-continue"} if expect_continue else {}
    sends = _sends_of_one_answer(one_write_handler(), headers)
    if expect_continue:
        # (Python's http.server and werkzeug each write one: a client reads past both)
        interim = sends.pop(0).split(b"\r\n\r\n")
        assert set(interim) == {b"HTTP/1.1 100 Continue", b""}, interim
    (answer,) = sends
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\n" + ANSWER)
    # moto's own handler, as werkzeug sends: headers, then the body (what the test catches)
    assert len(_sends_of_one_answer(MotoRequestHandler, headers)) > len(sends)
