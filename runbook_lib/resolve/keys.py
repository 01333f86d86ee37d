"""The check that a key value fits its type (pure); the wire format is `model.typed_value`."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from runbook_lib.errors import InvalidInputError
from runbook_lib.model import KEY_TYPES

_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")


def check_key_value(name: str, kind: str, value: Any) -> None:
    """A key value must be valid for its type: a number for N, base64 text for B."""
    if kind not in KEY_TYPES:
        raise InvalidInputError(f"{name}'s type must be S, N or B, got {kind!r}.")
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{name} must be a non-empty value, got {value!r}.")
    if kind == "N" and not _NUMBER_RE.match(value):
        raise InvalidInputError(
            f"{name} is a number key (N) in this table; {value!r} is not a number.",
            hint=f"pass the item's key as a number, e.g. -p key_value 0 ({name}).",
        )
    if kind == "B":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInputError(
                f"{name} is a binary key (B); pass its value as base64 text, got {value!r}."
            ) from exc
