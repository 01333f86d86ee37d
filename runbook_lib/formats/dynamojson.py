"""DynamoDB JSON: the one codec between boto3's wire items and the files the runbook writes.

Two spellings of the same item:

- wire format, as boto3's low-level client takes and returns it: `{"B": b"..."}` as bytes;
- JSON format, as the AWS CLI prints it and the runbook's files hold it: binary as base64 text.

Numbers stay strings (or `Decimal`) end to end, never float, so 38-digit N values round-trip.
`check_item` holds DynamoDB's rules (types, number limits, nesting, unique sets): every item
read from a file passes it before anything is written to a table. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from runbook_lib.errors import BackupFileError

MAX_NUMBER_DIGITS = 38  # DynamoDB limit: significant digits of a number
MIN_NUMBER_EXPONENT = -130  # DynamoDB limit: smallest magnitude 1E-130
MAX_NUMBER_EXPONENT = 125  # DynamoDB limit: largest magnitude 9.99...E+125
MAX_DEPTH = 32  # DynamoDB limit: nesting levels of L and M
SCALAR_TYPES = ("S", "N", "B", "BOOL", "NULL")
SET_TYPES = ("SS", "NS", "BS")
TYPE_TAGS = (*SCALAR_TYPES, *SET_TYPES, "L", "M")
# DynamoDB's number syntax: no underscores, spaces, NaN or Infinity (which Decimal accepts).
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


# ---- codec ----------------------------------------------------------------------------------


def item_to_json(item: dict[str, Any]) -> dict[str, Any]:
    """A boto3 wire item as JSON format (bytes -> base64 text, as the AWS CLI writes)."""
    return {name: encode_value(value) for name, value in item.items()}


def item_from_json(obj: Any) -> dict[str, Any]:
    """JSON format -> wire format, checked first (check_item), so a damaged file fails here
    and never half-way through a write."""
    check_item(obj)
    return decode_item(obj)


def decode_item(item_json: dict[str, Any]) -> dict[str, Any]:
    """An already checked JSON-format item -> wire format (base64 -> bytes)."""
    return {name: decode_value(value) for name, value in item_json.items()}


def encode_value(value: dict[str, Any]) -> dict[str, Any]:
    ((tag, inner),) = value.items()
    if tag == "B":
        return {"B": _b64(inner)}
    if tag == "BS":
        return {"BS": [_b64(v) for v in inner]}
    if tag == "L":
        return {"L": [encode_value(v) for v in inner]}
    if tag == "M":
        return {"M": {k: encode_value(v) for k, v in inner.items()}}
    return {tag: inner}


def decode_value(value: dict[str, Any]) -> dict[str, Any]:
    ((tag, inner),) = value.items()
    if tag == "B":
        return {"B": base64.b64decode(inner)}
    if tag == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if tag == "L":
        return {"L": [decode_value(v) for v in inner]}
    if tag == "M":
        return {"M": {k: decode_value(v) for k, v in inner.items()}}
    return {tag: inner}


def _b64(data: bytes | str) -> str:
    return data if isinstance(data, str) else base64.b64encode(data).decode("ascii")


# ---- keys and digests ---------------------------------------------------------------------


def key_of(item_json: dict[str, Any], key_names: Iterable[str]) -> dict[str, Any]:
    return {name: item_json[name] for name in key_names}


def key_text(key: dict[str, Any]) -> str:
    """A key as one comparable string (attributes sorted)."""
    return json.dumps(key, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical_value(value: dict[str, Any]) -> Any:
    ((tag, inner),) = value.items()
    if tag in SET_TYPES:  # DynamoDB sets have no order
        return {tag: sorted(inner)}
    if tag == "L":
        return {"L": [_canonical_value(v) for v in inner]}
    if tag == "M":
        return {"M": {k: _canonical_value(v) for k, v in inner.items()}}
    return value


def item_digest(item_json: dict[str, Any]) -> int:
    """sha256 of the item's canonical JSON (sets sorted, keys sorted), as an int."""
    canon = {k: _canonical_value(v) for k, v in item_json.items()}
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")


# ---- checks -------------------------------------------------------------------------------


def check_number(text: Any, where: str) -> Decimal:
    """An N value: a string that parses as a finite Decimal DynamoDB can store."""
    if not isinstance(text, str):
        raise _bad(where, f"a number must be written as a string, got {type(text).__name__}")
    if not _NUMBER_RE.match(text):
        raise _bad(where, f"{_preview(text)} is not a number DynamoDB accepts")
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise _bad(where, f"{_preview(text)} is not a number") from None
    digits = len(number.as_tuple().digits) if number else 1
    if digits > MAX_NUMBER_DIGITS:
        raise _bad(
            where,
            f"{text[:20]}… has {digits} significant digits; DynamoDB numbers hold at most "
            f"{MAX_NUMBER_DIGITS}",
        )
    if number and not MIN_NUMBER_EXPONENT <= number.adjusted() <= MAX_NUMBER_EXPONENT:
        raise _bad(where, f"{text[:20]} is outside DynamoDB's number range (1E-130 to 1E+126)")
    return number


def check_value(value: Any, where: str, depth: int = 1) -> None:
    """One typed attribute value, recursively: {"S": ...}, {"N": ...}, {"M": {...}}, ..."""
    if depth > MAX_DEPTH:
        raise _bad(where, f"nested deeper than DynamoDB's {MAX_DEPTH} levels")
    if not isinstance(value, dict) or len(value) != 1:
        raise _bad(
            where,
            f"must be a typed value with exactly one of {', '.join(TYPE_TAGS)} "
            f'(like {{"N": "5"}}), got {_preview(value)}',
        )
    ((tag, inner),) = value.items()
    if tag not in TYPE_TAGS:
        raise _bad(where, f"unknown type {tag!r}; valid types: {', '.join(TYPE_TAGS)}")
    here = f"{where}.{tag}"
    if tag in SET_TYPES:
        _check_set(tag, inner, here)
    elif tag in ("L", "M"):
        _check_nested(tag, inner, here, depth)
    else:
        _check_scalar(tag, inner, here)


def _check_scalar(tag: str, inner: Any, here: str) -> None:
    if tag == "S" and not isinstance(inner, str):
        raise _bad(here, f"must be a string, got {_preview(inner)}")
    elif tag == "N":
        check_number(inner, here)
    elif tag == "B":
        _check_base64(inner, here)
    elif tag == "BOOL" and not isinstance(inner, bool):
        raise _bad(here, f"must be true or false, got {_preview(inner)}")
    elif tag == "NULL" and inner is not True:
        raise _bad(here, f"must be true, got {_preview(inner)}")


def _check_nested(tag: str, inner: Any, here: str, depth: int) -> None:
    if tag == "L":
        if not isinstance(inner, list):
            raise _bad(here, f"must be a list, got {_preview(inner)}")
        for i, element in enumerate(inner):
            check_value(element, f"{here}[{i}]", depth + 1)
        return
    if not isinstance(inner, dict):
        raise _bad(here, f"must be an object, got {_preview(inner)}")
    for name, element in inner.items():
        check_value(element, f"{here}.{name}", depth + 1)


def check_item(item: Any) -> None:
    """A whole item: a non-empty object of attribute name -> typed value."""
    if not isinstance(item, dict):
        raise BackupFileError(
            f"the item must be a JSON object of attributes, got {type(item).__name__}"
        )
    if not item:
        raise BackupFileError("the item holds no attributes ({})")
    for name, value in item.items():
        if not name:
            raise BackupFileError("an attribute has an empty name")
        check_value(value, name)


def looks_typed(value: dict[str, Any]) -> bool:
    """True for {"S": "x"}-like values: one known type tag."""
    return len(value) == 1 and next(iter(value)) in TYPE_TAGS


def _check_set(tag: str, inner: Any, where: str) -> None:
    if not isinstance(inner, list) or not inner:
        raise _bad(where, f"must be a non-empty list, got {_preview(inner)}")
    for i, element in enumerate(inner):
        if tag == "SS" and not isinstance(element, str):
            raise _bad(f"{where}[{i}]", f"must be a string, got {_preview(element)}")
        if tag == "NS":
            check_number(element, f"{where}[{i}]")
        if tag == "BS":
            _check_base64(element, f"{where}[{i}]")
    if len(set(map(str, inner))) != len(inner):
        raise _bad(where, "holds duplicate members; DynamoDB sets are unique")


def _check_base64(inner: Any, where: str) -> None:
    if not isinstance(inner, str):
        raise _bad(where, f"binary must be base64 text, got {_preview(inner)}")
    try:
        base64.b64decode(inner, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(where, "is not valid base64") from None


def _bad(where: str, problem: str) -> BackupFileError:
    return BackupFileError(f"attribute {where}: {problem}")


def _preview(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:40] + "…"
