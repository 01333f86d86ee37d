"""A fault-injecting HTTP proxy on loopback, between the runbook and a moto server.

Why a helper and not a library: toxiproxy needs its Go server binary (PyPI's
`toxiproxy-python` is only a client), and mitmproxy is a heavy interactive tool whose
addons still cannot say "moto applied this write, now lose the answer". Both work at the
wrong level for the question the fault tests ask. This is ~450 lines of stdlib
(`http.server` + `http.client`), speaking just enough of the three AWS protocols the
runbook's clients use here (botocore 1.44):

- DynamoDB and CloudWatch: JSON 1.0 (`X-Amz-Target`), errors as HTTP 4xx/5xx with
  `{"__type": "...#Code", "message": ...}`. CloudWatch's model lists smithy-rpc-v2-cbor
  first, but botocore 1.44 resolves it to JSON; CloudWatch is `awsQueryCompatible`, so
  its errors also carry `x-amzn-query-error: Throttling;Sender`, where botocore reads
  the code. (If a later botocore picks CBOR, the proxy answers in CBOR.)
- STS: the query protocol, errors as `<ErrorResponse>` XML.

Faults (`FAULTS`):
- `error500`: an InternalServerError (DynamoDB's docs: the request "may or may not" have
  been applied).
- `throttle`: DynamoDB `ProvisionedThroughputExceededException` or `ThrottlingException`
  (alternating), CloudWatch/STS `Throttling`; HTTP 400. Always BEFORE forwarding: AWS
  throttles a request instead of applying it.
- `delay`: the answer comes `delay_s` late (not an error).
- `drop`: the connection dies mid-response: BEFORE = closed with no answer at all; AFTER =
  moto's status line, headers and half of its body, then the socket is shut.

`when`: BEFORE = the request never reaches moto; AFTER = moto applied it and the answer is
lost (the case that matters for "no write is applied twice"). "mixed" picks either.

Decisions are reproducible: the fate of the n-th request of an operation depends only on
(seed, operation, n), so concurrent callers or an extra call elsewhere do not shift the
faults another operation sees. `max_streak` caps consecutive faults for one identical
request body (a botocore retry resends the same bytes), so with `max_streak` below the
client's attempts every call completes; None leaves pure chance.

Beyond chance: `script()` queues exact faults for an operation, `rule` decides per request
(e.g. every request naming one table), `on_request` runs before each request is handled
(kill the server after N pages, let visits land during a retry's backoff). If moto is
unreachable the proxy answers 502, as a load balancer in front of a dead backend does.
`serialize=True` forwards one request at a time: moto handles concurrent requests on
threads with no per-table lock and can lose an ADD; DynamoDB serializes writes per item.
Everything it did is counted in `stats`, `requests` and `forwarded`.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import random
import re
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

FAULTS = ("error500", "throttle", "delay", "drop")
BEFORE, AFTER, MIXED = "before", "after", "mixed"
UPSTREAM_TIMEOUT_S = 30.0  # one forwarded request; moto answers in milliseconds
IDLE_CONNECTION_TIMEOUT_S = 10.0  # a keep-alive connection with no request is closed
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "server",
    "date",
}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_CBOR_PATH = re.compile(r"/service/([^/]+)/operation/([^/?]+)")


@dataclass(frozen=True)
class Fault:
    kind: str  # one of FAULTS
    when: str = BEFORE  # BEFORE or AFTER
    alt: bool = False  # throttle only: DynamoDB's ThrottlingException instead of PTEE

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {FAULTS}")
        if self.when not in (BEFORE, AFTER):
            raise ValueError(f"when must be {BEFORE!r} or {AFTER!r}, got {self.when!r}")
        if self.kind == "throttle" and self.when == AFTER:
            raise ValueError("AWS throttles instead of applying: a throttle is always BEFORE")


@dataclass(frozen=True)
class RequestInfo:
    """One request as the proxy saw it."""

    service: str  # signing name: dynamodb, monitoring, sts
    operation: str  # Scan, GetMetricData, GetCallerIdentity
    protocol: str  # json, cbor, query
    body: bytes
    n: int  # 0-based index among the requests of this operation

    @property
    def op(self) -> str:
        return f"{self.service}:{self.operation}"

    def names(self, text: str) -> bool:
        """True if the request body mentions `text` (a table name, say). CBOR and JSON
        both carry strings as plain UTF-8, so a byte search is enough."""
        return text.encode("utf-8") in self.body


Rule = Callable[[RequestInfo], "Fault | None"]
Hook = Callable[[RequestInfo], None]


# ---- pure: request classification and error bodies ---------------------------------------


def classify(path: str, headers: Any, body: bytes) -> tuple[str, str, str]:
    """(service, operation, protocol) of a botocore request."""
    scope = _CREDENTIAL_SCOPE.search(headers.get("Authorization", ""))
    service = scope.group(1) if scope else "unknown"
    target = headers.get("X-Amz-Target")
    if target:
        return service, target.rsplit(".", 1)[-1], "json"
    cbor = _CBOR_PATH.search(path)
    if cbor:
        return service, cbor.group(2), "cbor"
    form = parse_qs(body.decode("utf-8", "replace"))
    return service, (form.get("Action") or ["unknown"])[0], "query"


def cbor_text_map(data: dict[str, str]) -> bytes:
    """A CBOR map of text to text (RFC 8949 major types 5 and 3): all an error body needs."""

    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        for extra, size in ((24, 1), (25, 2), (26, 4)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | extra]) + n.to_bytes(size, "big")
        raise ValueError("string too long for this encoder")

    out = bytearray(head(5, len(data)))
    for key, value in data.items():
        for text in (key, value):
            raw = text.encode("utf-8")
            out += head(3, len(raw)) + raw
    return bytes(out)


# kind -> (HTTP status, DynamoDB __type, CloudWatch __type, query code, fault side)
_ERRORS = {
    "error500": (
        500,
        "com.amazonaws.dynamodb.v20120810#InternalServerError",
        "com.amazonaws.cloudwatch#InternalServiceFault",
        "InternalServiceError",
        "Receiver",
    ),
    "throttle": (
        400,
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "com.amazonaws.cloudwatch#ThrottlingException",
        "Throttling",
        "Sender",
    ),
}
_DDB_THROTTLE_ALT = "com.amazonaws.dynamodb.v20120810#ThrottlingException"


def error_response(fault: Fault, info: RequestInfo) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of an AWS error in the protocol the client speaks."""
    status, ddb_type, cw_type, query_code, side = _ERRORS[fault.kind]
    message = f"injected by faultproxy: {fault.kind}"
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    if info.protocol == "query":
        body = (
            "<ErrorResponse><Error>"
            f"<Type>{side}</Type><Code>{query_code}</Code><Message>{message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        return status, {**headers, "Content-Type": "text/xml"}, body
    if info.service == "dynamodb":
        kind = _DDB_THROTTLE_ALT if fault.alt else ddb_type
        body = json.dumps({"__type": kind, "message": message}).encode()
        return status, {**headers, "Content-Type": "application/x-amz-json-1.0"}, body
    # CloudWatch is awsQueryCompatible: botocore takes the query code from this header.
    headers["x-amzn-query-error"] = f"{query_code};{side}"
    if info.protocol == "cbor":
        body = cbor_text_map({"__type": cw_type, "message": message})
        return (
            status,
            {**headers, "Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"},
            body,
        )
    body = json.dumps({"__type": cw_type, "message": message}).encode()
    return status, {**headers, "Content-Type": "application/x-amz-json-1.0"}, body


# ---- the proxy ----------------------------------------------------------------------------


class FaultProxy:
    """Start with `with FaultProxy(upstream, rate=0.3, seed=1) as proxy:`; point boto3 at
    `proxy.url`."""

    def __init__(
        self,
        upstream: str,
        *,
        rate: float = 0.0,
        kinds: tuple[str, ...] = FAULTS,
        when: str = MIXED,
        seed: int = 0,
        delay_s: float = 0.05,
        max_streak: int | None = None,
        rule: Rule | None = None,
        on_request: Hook | None = None,
        serialize: bool = False,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {rate}")
        if unknown := set(kinds) - set(FAULTS):
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; choose from {FAULTS}")
        if when not in (BEFORE, AFTER, MIXED):
            raise ValueError(f"when must be before, after or mixed, got {when!r}")
        self.upstream = upstream
        self.rate, self.kinds, self.when, self.seed = rate, tuple(kinds), when, seed
        self.delay_s, self.max_streak = delay_s, max_streak
        self.rule, self.on_request = rule, on_request
        # moto's server runs requests on concurrent threads without a per-table lock, so two
        # UpdateItem ADDs can interleave inside moto and one is lost (DynamoDB serializes
        # writes to an item). serialize=True forwards one request at a time, restoring that.
        self._upstream_lock = threading.Lock() if serialize else contextlib.nullcontext()
        self.stats: Counter[str] = Counter()  # "requests", "forwarded", "drop:after", ...
        self.requests: Counter[str] = Counter()  # op -> requests received
        self.forwarded: Counter[str] = Counter()  # op -> requests that reached moto
        self.log: list[tuple[str, Fault | None]] = []
        self._scripts: dict[str, deque[Fault]] = {}
        self._streaks: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- control

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not running: call start()")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def retarget(self, upstream: str) -> None:
        """Send further requests to another server (a restarted moto, say)."""
        with self._lock:
            self.upstream = upstream

    def script(self, op: str, *faults: Fault) -> None:
        """Give the next requests of `op` ("dynamodb:UpdateItem") exactly these faults,
        before any chance or rule; `Fault` instances, one per request."""
        with self._lock:
            self._scripts.setdefault(op, deque()).extend(faults)

    def faults(self, kind: str | None = None, when: str | None = None) -> int:
        """How many faults were injected (of a kind, on a side)."""
        return sum(
            n
            for key, n in self.stats.items()
            if ":" in key
            and (kind is None or key.split(":")[0] == kind)
            and (when is None or key.split(":")[1] == when)
        )

    # ---- decisions

    def _register(self, service: str, operation: str, protocol: str, body: bytes) -> RequestInfo:
        with self._lock:
            op = f"{service}:{operation}"
            info = RequestInfo(service, operation, protocol, body, self.requests[op])
            self.requests[op] += 1
            self.stats["requests"] += 1
        return info

    def decide(self, info: RequestInfo) -> Fault | None:
        """The fault for this request: a scripted one first, else the rule or chance,
        capped by max_streak."""
        with self._lock:
            script = self._scripts.get(info.op)
            if script:
                fault: Fault | None = script.popleft()
            else:
                fault = self._capped(info, self.rule(info) if self.rule else self._chance(info))
            self.log.append((info.op, fault))
            if fault is not None:
                self.stats[f"{fault.kind}:{fault.when}"] += 1
        return fault

    def _capped(self, info: RequestInfo, fault: Fault | None) -> Fault | None:
        """No more than max_streak failures in a row for one request body (lock held)."""
        key = f"{info.op}:{hashlib.sha256(info.body).hexdigest()}"
        failing = fault is not None and fault.kind != "delay"
        if failing and self.max_streak is not None and self._streaks[key] >= self.max_streak:
            fault, failing = None, False
        if failing:
            self._streaks[key] += 1
        else:
            self._streaks.pop(key, None)
        return fault

    def _chance(self, info: RequestInfo) -> Fault | None:
        rng = random.Random(f"{self.seed}:{info.op}:{info.n}")
        if rng.random() >= self.rate:
            return None
        kind = rng.choice(self.kinds)
        if kind == "throttle":
            return Fault(kind, BEFORE, alt=rng.random() < 0.5)
        when = self.when if self.when != MIXED else rng.choice((BEFORE, AFTER))
        return Fault(kind, when)

    def _forward(self, info: RequestInfo, method: str, path: str, headers: Any) -> tuple | None:
        """Send the request to moto: (status, headers, body), or None if moto is gone."""
        with self._lock:
            upstream = urlparse(self.upstream)
        conn = http.client.HTTPConnection(
            upstream.hostname, upstream.port, timeout=UPSTREAM_TIMEOUT_S
        )
        sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        sent["Content-Length"] = str(len(info.body))
        try:
            with self._upstream_lock:
                conn.request(method, path, body=info.body, headers=sent)
                resp = conn.getresponse()
                data = resp.read()
        except OSError:
            return None
        finally:
            conn.close()
        kept = {k: v for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP}
        with self._lock:
            self.stats["forwarded"] += 1
            self.forwarded[info.op] += 1
        return resp.status, kept, data


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    timeout = IDLE_CONNECTION_TIMEOUT_S
    # each answer in one write, as sandbox.motoserver sends it: headers and body in two
    # segments let the AWS provider's Go client close its connection between them and
    # retry (a real lost answer the test did not ask for)
    wbufsize = -1

    def handle_expect_100(self) -> bool:
        ok = super().handle_expect_100()
        self.wfile.flush()  # the client waits for "100 Continue" before it sends the body
        return ok

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        proxy = self.owner
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        info = proxy._register(*classify(self.path, self.headers, body), body)
        if proxy.on_request:
            proxy.on_request(info)
        fault = proxy.decide(info)
        if fault and fault.kind == "delay" and fault.when == BEFORE:
            time.sleep(proxy.delay_s)
        if fault and fault.when == BEFORE and fault.kind != "delay":
            self._inject(fault, info)
            return
        answer = proxy._forward(info, self.command, self.path, self.headers)
        if answer is None:
            self._send(502, {"Content-Type": "text/plain"}, b"502 Bad Gateway: moto is gone")
            return
        if fault and fault.kind == "delay":
            time.sleep(proxy.delay_s)
        elif fault and fault.kind == "drop":
            self._send_partial(*answer)
            return
        elif fault:
            self._inject(fault, info)
            return
        self._send(*answer)

    def _inject(self, fault: Fault, info: RequestInfo) -> None:
        if fault.kind == "drop":  # BEFORE: hang up without a word
            self._hang_up()
            return
        self._send(*error_response(fault, info))

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:  # the client went away (killed, timed out): nothing to answer
            self.close_connection = True

    def _send_partial(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Status, headers and half the body, then the connection dies."""
        declared = max(len(body), 2)
        with contextlib.suppress(OSError):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(declared))
            self.end_headers()
            self.wfile.write(body[: declared // 2])
            self.wfile.flush()
        self._hang_up()

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
