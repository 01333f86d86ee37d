"""moto's server, applying one request at a time, as DynamoDB applies each write atomically.

    python -m runbook_lib.sandbox.motoserver -H 127.0.0.1 -p PORT

The same application `python -m moto.server` serves (moto's DomainDispatcherApplication
over create_backend_app, moto's request handler, werkzeug's threaded server), with one
difference: each request runs to completion under one lock before the next one touches
moto's data. moto's threaded server does not do that, and its backends are plain Python
objects: two UpdateItem ADDs on one item can read the same old value, both return N+1 and
lose a visit that DynamoDB would never lose (seen: 1999 of 2000, two answers of 1902).

Why one global lock, not one per service or per table: moto's backends read and write
each other (DynamoDB streams, IAM policies consulted on every request once authentication
is on, CloudWatch metrics fed by other services) and `/moto-api/reset` empties all of them,
so a finer lock would have to know moto's internals to stay correct. The cost is small:
moto's request handling is pure Python under the GIL, so requests never really ran in
parallel; the socket I/O, where a thread does wait, stays outside the lock (the request
body is read before taking it, the answer sent after releasing it), so a slow client never
stalls the others.

What a global lock cannot serve is a request that waits on other requests to the same
server: it would hold the lock they wait for. moto's recorder replay does that (it sends
each recorded request back to this server over HTTP; tests/aws/test_faults.py uses it), so
it runs outside the lock, and each request it replays takes the lock on its own: applied
one at a time, as any other. moto's other calls back to itself come from Docker-run Lambda
and Batch containers, Step Functions, CloudFormation custom resources, and SNS, EventBridge
or API Gateway deliveries to an HTTP endpoint that is moto; the sandbox uses none of them.

A second difference: each answer leaves in one write (`one_write_handler`). werkzeug
writes the status line and headers, then the body, so every answer crossed loopback as two
TCP segments, up to ~30 ms apart on a loaded machine. The AWS provider's Go HTTP client
(hashicorp/aws 5.100.0) now and then closes its own connection between the two: its body
read fails with "use of closed network connection", its SDK retries the call, and the
retry meets what the first attempt did ("Table already exists", the item's conditional
PutItem failing, a DeleteTable finding no table). A packet capture matched each retry in
114 applies (8 retries, 3 failed applies or destroys) to such a close; with one write, 0
retries in 76 applies under the same load. It narrows the race without closing it (an
answer larger than the client's 4 KiB read can still be cut), so tf.lostanswer stays.

One more difference: GetMetricData answers in one pass over the window instead of one per
period (`metricindex`: the same answers; 06_history's read from 17.7 s of the server's CPU
to 0.04 s). `--plain-get-metric-data` keeps moto's own method (its comparison test, the bench).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

from werkzeug.wsgi import get_input_stream

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Requests that only send other requests back to this server (see above): never locked.
CALLS_BACK = frozenset({"/moto-api/recorder/replay-recording"})


class OneAtATime:
    """A WSGI application that runs `app` for one request at a time, to completion: the
    answer's body is produced under the lock too, since a body iterator may still read
    moto's data after `app` returned."""

    def __init__(self, app: WSGIApp, lock: AbstractContextManager[Any] | None = None) -> None:
        self.app = app
        # Any context manager works (tests pass an instrumented one); a plain Lock here:
        # a request never re-enters the application from the thread that holds it.
        self.lock = lock if lock is not None else threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        read_body_now(environ)  # outside the lock: waiting on a client must not stall others
        if environ.get("PATH_INFO") in CALLS_BACK:
            return self.app(environ, start_response)
        with self.lock:
            answer = self.app(environ, start_response)
            try:
                return list(answer)
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()


def read_body_now(environ: dict[str, Any]) -> None:
    """Replace the request's input stream by its whole body, read now from the socket:
    moto then reads it from memory while it holds the lock. Content-Length, chunked and
    bodiless requests read exactly as werkzeug would give them to moto."""
    body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)


def build_app(indexed_metrics: bool = True) -> OneAtATime:
    """moto's own server application (as moto.server.main builds it), one request at a
    time, GetMetricData from `metricindex` unless told otherwise. moto is imported here: it
    loads Flask and every service's URL map, which only the server process needs."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from runbook_lib.sandbox import metricindex

    if indexed_metrics:
        metricindex.install()

    return OneAtATime(DomainDispatcherApplication(create_backend_app))


def one_write_handler() -> type[Any]:
    """moto's request handler (MotoRequestHandler), sending each answer's status line,
    headers and body in one write (see above). moto is imported here, as in build_app."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class OneWriteRequestHandler(MotoRequestHandler):
        # a buffered wfile: werkzeug flushes it once per body chunk, after the headers
        wbufsize = -1

        def make_environ(self) -> dict[str, Any]:
            # werkzeug has just written "100 Continue" if the client asked: it must go now,
            # as the client waits for it before it sends the body
            self.wfile.flush()
            environ: dict[str, Any] = super().make_environ()
            return environ

    return OneWriteRequestHandler


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m runbook_lib.sandbox.motoserver",
        description="moto's server, applying one request at a time (as DynamoDB does).",
    )
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to bind")
    parser.add_argument(
        "-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)), help="port"
    )
    parser.add_argument(
        "--plain-get-metric-data",
        action="store_true",
        help="moto's own GetMetricData (one scan per period), not sandbox.metricindex's",
    )
    return parser.parse_args(argv)


def _exit_on_signal(signum: int, frame: Any) -> None:
    sys.exit(0)  # as moto.server does: `sandbox down` sends SIGTERM, a clean exit follows


def main(argv: list[str] | None = None) -> None:
    """Serve moto on host:port, threaded, with moto's request handler answering in one
    write, until SIGTERM."""
    from werkzeug.serving import make_server

    args = parse_args(argv)
    # moto reads MOTO_PORT to build URLs that point back at this server (as moto.server).
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGINT, _exit_on_signal)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    server = make_server(
        args.host,
        args.port,
        build_app(indexed_metrics=not args.plain_get_metric_data),
        threaded=True,
        request_handler=one_write_handler(),
    )
    method = "moto's own" if args.plain_get_metric_data else "one pass (sandbox.metricindex)"
    print(
        f" * moto (one request at a time) on http://{args.host}:{args.port}, "
        f"GetMetricData: {method}",
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
