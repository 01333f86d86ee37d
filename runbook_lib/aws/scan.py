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
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import ijson

from runbook_lib.formats.itemfile import item_to_json

RAW_BODY = "RunbookRawPage"  # where the kept body travels in the parsed response
_EVENT = "before-parse.dynamodb.Scan"
_HANDLER_ID = "counter-runbook-raw-scan-pages"
_ITEMS_PREFIX = "Items.item"

_active = threading.local()  # botocore runs handlers in the calling thread


def install(ddb: Any) -> None:
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


def page_of(response: dict[str, Any]) -> bytes | list[dict[str, Any]]:
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
