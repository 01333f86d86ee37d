"""The counter model: what the runbook points at, as a value. The bottom layer: it imports
nothing of the project, so `formats/`, `aws/` and `tf/` take a `Target` without pulling in how
one is resolved (that is `runbook_lib.resolve`, above them).

The key's wire format lives here too: a key value typed as the table defines it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

DEFAULT_REGION = "us-east-1"
# An endpoint on one of these hosts is the moto sandbox, never real AWS.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
KEY_TYPES = ("S", "N", "B")
# Attributes the runbook itself writes beside the count: never the count.
RUNBOOK_ATTRIBUTES = frozenset({"runbookWriteId"})


def typed_value(kind: str, value: str) -> dict[str, Any]:
    """A key value in the wire format: {"S": "x"}, {"N": "1"}, {"B": b"..."} (pure)."""
    if kind == "B":
        return {"B": base64.b64decode(value)}
    return {kind: str(value)}


def is_loopback(url: str | None) -> bool:
    """True when the endpoint URL is on loopback (the sandbox)."""
    return bool(url) and (urlparse(url).hostname or "") in LOOPBACK_HOSTS


@dataclass(frozen=True)
class Target:
    """A resolved reference to the counter item and its neighbours."""

    table: str
    key_name: str = "stat"
    key_value: str = "Quantity"
    count_attribute: str = "viewCount"
    region: str = DEFAULT_REGION
    endpoint: str | None = None
    function_name: str | None = None
    api_id: str | None = None
    metric_namespace: str = "VisitorCounter"
    metric_name: str = "ViewCount"
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    key_type: str = "S"  # S, N or B (B values are base64 text)
    range_key_name: str | None = None
    range_key_value: str | None = None
    range_key_type: str = "S"
    notes: tuple[str, ...] = field(default=(), compare=False)
    # the count's DynamoDB type as the item (or the stack) holds it: "N", or "S" for a site
    # that writes str(n); no write may change it
    count_type: str = "N"
    # the .tfvars files the stack was read with (-p var_files): every Terraform command the
    # runbook starts for this target gets them too
    var_files: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> dict[str, dict[str, Any]]:
        """The item's primary key in DynamoDB's wire format, typed as the table defines it."""
        key = {self.key_name: typed_value(self.key_type, self.key_value)}
        if self.range_key_name and self.range_key_value is not None:
            key[self.range_key_name] = typed_value(self.range_key_type, self.range_key_value)
        return key

    @property
    def key_names(self) -> list[str]:
        return [self.key_name, *([self.range_key_name] if self.range_key_name else [])]

    @property
    def key_label(self) -> str:
        """How people read the key: `id=0`, or `pk=site, sk=home` with a range key."""
        label = f"{self.key_name}={self.key_value}"
        if self.range_key_name:
            label += f", {self.range_key_name}={self.range_key_value}"
        return label

    @property
    def is_sandbox(self) -> bool:
        """No endpoint override means real AWS, whatever the process environment says."""
        return self.endpoint is not None and is_loopback(self.endpoint)
