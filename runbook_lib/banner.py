"""The first thing every notebook shows: where it points, before it does anything."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from . import aws
from .target import Target


@dataclass(frozen=True)
class Banner:
    where: str  # "sandbox at http://127.0.0.1:PORT" or "AWS account N, region R"
    table: str
    key: str
    attribute: str
    identity: str | None
    sandbox: bool

    def __str__(self) -> str:
        who = f" as {self.identity}" if self.identity else ""
        return (
            f"Target: {self.where}{who} | table {self.table} | key {self.key} | "
            f"attribute {self.attribute}"
        )

    def _repr_html_(self) -> str:
        colour = "#2b7a0b" if self.sandbox else "#b00020"
        label = "SANDBOX" if self.sandbox else "REAL AWS"
        who = f"<br>acting as <code>{html.escape(self.identity)}</code>" if self.identity else ""
        return (
            f'<div style="border-left:6px solid {colour};padding:6px 12px;margin:4px 0">'
            f'<b style="color:{colour}">{label}</b> {html.escape(self.where)}{who}<br>'
            f"table <code>{html.escape(self.table)}</code> · key <code>{html.escape(self.key)}"
            f"</code> · attribute <code>{html.escape(self.attribute)}</code></div>"
        )


def target_banner(target: Target, sts: Any = None) -> Banner:
    """Describe the target. Real AWS is named by account and region (STS GetCallerIdentity);
    the sandbox needs no call, its endpoint says it all."""
    key = f"{target.key_name}={target.key_value}"
    if target.is_sandbox:
        return Banner(
            where=f"sandbox at {target.endpoint} (moto, region {target.region})",
            table=target.table,
            key=key,
            attribute=target.count_attribute,
            identity=None,
            sandbox=True,
        )
    ident = aws.caller_identity(sts=sts or aws.client("sts", aws.session(target.region)))
    where = f"AWS account {ident.account}, region {target.region}"
    if target.endpoint:
        where += f", endpoint {target.endpoint}"
    return Banner(
        where=where,
        table=target.table,
        key=key,
        attribute=target.count_attribute,
        identity=ident.arn,
        sandbox=False,
    )
