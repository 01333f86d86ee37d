"""Scan pages kept as the server's JSON bytes, their items streamed one at a time (ijson).

botocore turns a Scan answer into Python objects twice over (json.loads, then a walk that
copies the result against the service model), and a 1 MB page of small items is tens of MB
of objects: that was most of a whole-table export's memory. For the export's own Scans
(and only inside `raw_pages()`), a before-parse handler hands botocore just the page's
LastEvaluatedKey and keeps the body; the export then reads the items from those bytes one
by one. They arrive in DynamoDB JSON exactly as the server sent them (binary as base64),
which is already the export's line format, so nothing converts them back.

Everything else about the call is botocore's: signing, retries, the CRC32 and length
checks (they read the HTTP response, not the parsed dict), error answers (left untouched).
A client with no HTTP behind it (botocore's Stubber) gets the usual parsed page.

`scan_pages` is the export's one Scan: consistent, paginated (boto3's Scan paginator, one per
segment), segments scanned in parallel threads and handed over through a bounded queue.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Generator, Iterator, Mapping
from typing import Any

import ijson

from runbook_lib.aws.errors import mapped
from runbook_lib.aws.types import DynamoDBClient, PaginatorConfigTypeDef
from runbook_lib.formats.dynamojson import item_to_json

RAW_BODY = "RunbookRawPage"  # where the kept body travels in the parsed response
_EVENT = "before-parse.dynamodb.Scan"
_HANDLER_ID = "counter-runbook-raw-scan-pages"
_ITEMS_PREFIX = "Items.item"
MAX_TOTAL_SEGMENTS = 1_000_000  # DynamoDB limit for Scan TotalSegments
PAGES_BUFFERED_PER_SEGMENT = 2  # pages (<= 1 MB each) queued between scanners and the reader
QUEUE_POLL_S = 0.1  # how often a blocked scanner checks whether the reader went away

Page = bytes | list[dict[str, Any]]  # the server's JSON (raw_pages), or parsed Items

_active = threading.local()  # botocore runs handlers in the calling thread


def install(ddb: DynamoDBClient) -> None:
    """Let `raw_pages()` work on this client (idempotent; other calls are unaffected)."""
    ddb.meta.events.register(_EVENT, _keep_body, unique_id=_HANDLER_ID)


@contextlib.contextmanager
def raw_pages() -> Iterator[None]:
    """Scans made by this thread inside the block return RAW_BODY instead of Items."""
    _active.on = True
    try:
        yield
    finally:
        _active.on = False


def _keep_body(
    response_dict: dict[str, Any] | None = None,
    customized_response_dict: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    if not getattr(_active, "on", False) or response_dict is None:
        return
    if customized_response_dict is None or response_dict.get("status_code") != 200:
        return  # an error answer: botocore maps it as usual
    body = response_dict.get("body")
    if not isinstance(body, bytes) or not body:
        return
    try:
        # one extra tokenising pass (C backend): no item is built, only the small key
        last = next(iter(ijson.items(body, "LastEvaluatedKey")), None)
    except ijson.JSONError:
        return  # damaged: botocore's own parse reports it (and the retry rules apply)
    response_dict["body"] = json.dumps({"LastEvaluatedKey": last} if last else {}).encode()
    customized_response_dict[RAW_BODY] = body


# Mapping, not the stub's ScanOutputTypeDef: a raw page carries RAW_BODY, a key of our own
def page_of(response: Mapping[str, Any]) -> bytes | list[dict[str, Any]]:
    """A Scan response's page: the kept bytes, or the parsed Items when there are none."""
    raw = response.get(RAW_BODY)
    return raw if raw is not None else response.get("Items", [])


def items_json(page: bytes | list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The page's items in DynamoDB JSON (B as base64), one at a time."""
    if isinstance(page, bytes):
        yield from ijson.items(page, _ITEMS_PREFIX)
    else:
        for item in page:
            yield item_to_json(item)


# ---- the export's Scan ------------------------------------------------------------------


def scan_request(
    table: str, *, segment: int | None = None, total: int | None = None
) -> dict[str, Any]:
    """Scan parameters (pure): always ConsistentRead, so the export sees every acknowledged
    write made before it started."""
    req: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if total is not None and total > 1:
        req.update(Segment=segment, TotalSegments=total)
    return req


def segment_pages(
    ddb: DynamoDBClient, request: dict[str, Any], page_size: int | None = None
) -> Iterator[Page]:
    """Pages of one scan (segment), through boto3's Scan paginator (it follows
    LastEvaluatedKey; Segment/TotalSegments pass through it to each call)."""
    config: PaginatorConfigTypeDef = {"PageSize": page_size} if page_size else {}
    responses = iter(ddb.get_paginator("scan").paginate(**request, PaginationConfig=config))
    with raw_pages():
        while True:
            with mapped("Scan", table=request["TableName"]):
                response = next(responses, None)
            if response is None:
                return
            page = page_of(response)
            del response  # hold the page, not the page and its response
            yield page


_DONE = object()


def scan_pages(
    ddb: DynamoDBClient, table: str, *, segments: int = 1, page_size: int | None = None
) -> Generator[Page, None, None]:
    """Every page of the table, each segment scanned by a thread of its own.

    One segment too: its thread asks for the next page while this one's items are written,
    so the writing hides behind the server's time instead of adding to it. Pages flow
    through a bounded queue, so at most PAGES_BUFFERED_PER_SEGMENT pages per segment are in
    memory at once whatever the table's size. Closing the iterator early (an error in the
    reader) stops the scanners. The paginator has no parallel mode, hence the threads.
    """
    install(ddb)
    handoff = _Handoff(segments)
    threads = [
        threading.Thread(
            target=handoff.run,
            args=(segment_pages(ddb, scan_request(table, segment=s, total=segments), page_size),),
            name=f"scan-{table}-{s}",
            daemon=True,
        )
        for s in range(segments)
    ]
    for t in threads:
        t.start()
    try:
        yield from handoff.pages(segments)
    finally:
        handoff.stop.set()
        for t in threads:
            t.join(timeout=5)


class _Handoff:
    """The bounded queue between scanner threads and the one reader."""

    def __init__(self, segments: int) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=segments * PAGES_BUFFERED_PER_SEGMENT)
        self.stop = threading.Event()

    def put(self, obj: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(obj, timeout=QUEUE_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def run(self, pages: Iterator[Page]) -> None:
        """A scanner thread: every page of its segment, then _DONE (or the error)."""
        try:
            for page in pages:
                if not self.put(page):
                    return
            self.put(_DONE)
        except BaseException as exc:
            self.put(exc)

    def pages(self, segments: int) -> Iterator[Page]:
        done = 0
        while done < segments:
            obj = self.queue.get()
            if obj is _DONE:
                done += 1
            elif isinstance(obj, BaseException):
                raise obj
            else:
                yield obj
