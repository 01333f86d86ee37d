"""The first thing every notebook shows: where it points, before it does anything."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib import aws
from runbook_lib.aws.types import STSClient
from runbook_lib.model import Target


@dataclass(frozen=True)
class Banner:
    where: str  # "sandbox at http://127.0.0.1:PORT" or "AWS account N, region R"
    table: str
    key: str
    attribute: str
    identity: str | None
    sandbox: bool
    sources: str = ""  # where each field came from: "table: stack crc (terraform.tfstate); ..."

    def __str__(self) -> str:
        who = f" as {self.identity}" if self.identity else ""
        text = (
            f"Target: {self.where}{who} | table {self.table} | key {self.key} | "
            f"attribute {self.attribute}"
        )
        return f"{text}\n  from: {self.sources}" if self.sources else text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Beside the HTML and text (IPython adds those): the target as data, which the
        runner puts in the report's header and <title>."""
        from runbook_lib.notebook.report import TARGET_MIME

        fields = ("where", "table", "key", "attribute", "sandbox")
        return {TARGET_MIME: {name: getattr(self, name) for name in fields}}

    def _repr_html_(self) -> str:
        colour = "#2b7a0b" if self.sandbox else "#b00020"
        label = "SANDBOX" if self.sandbox else "REAL AWS"
        who = f"<br>acting as <code>{html.escape(self.identity)}</code>" if self.identity else ""
        return (
            f'<div style="border-left:6px solid {colour};padding:6px 12px;margin:4px 0">'
            f'<b style="color:{colour}">{label}</b> {html.escape(self.where)}{who}<br>'
            f"table <code>{html.escape(self.table)}</code> · key <code>{html.escape(self.key)}"
            f"</code> · attribute <code>{html.escape(self.attribute)}</code>"
            + (f"<br><small>from: {html.escape(self.sources)}</small>" if self.sources else "")
            + "</div>"
        )


def target_banner(target: Target, sts: STSClient | None = None) -> Banner:
    """Describe the target. Real AWS is named by account and region (STS GetCallerIdentity);
    the sandbox needs no call, its endpoint says it all."""
    key = f"{target.key_label} ({'/'.join(_key_types(target))})"
    attribute = target.count_attribute
    if target.count_type == "S":  # the site writes str(n): every write keeps it a string
        attribute += " (S: a count stored as a string)"
    if target.is_sandbox:
        return Banner(
            where=f"sandbox at {target.endpoint} (moto, region {target.region})",
            table=target.table,
            key=key,
            attribute=attribute,
            identity=None,
            sandbox=True,
            sources=sources_text(target),
        )
    ident = aws.caller_identity(sts=sts, region=target.region)
    where = f"AWS account {ident.account}, region {target.region}"
    if target.endpoint:
        where += f", endpoint {target.endpoint}"
    return Banner(
        where=where,
        table=target.table,
        key=key,
        attribute=attribute,
        identity=ident.arn,
        sandbox=False,
        sources=sources_text(target),
    )


def _key_types(target: Target) -> list[str]:
    return [target.key_type, *([target.range_key_type] if target.range_key_name else [])]


_SHOWN = (
    "table",
    "key_name",
    "key_type",
    "key_value",
    "range_key_name",
    "count_attribute",
    "count_type",
)


def sources_text(target: Target) -> str:
    """Where the table, key, attribute and region came from, and what the resolution
    noted (the stack's other counter items, a region the stack names but this run does
    not use, the var files the stack was read with)."""
    by_source: dict[str, list[str]] = {}
    for name in _SHOWN:
        if name in target.sources and (name != "count_type" or target.count_type != "N"):
            by_source.setdefault(target.sources[name], []).append(name)
    parts = [f"{', '.join(names)}: {where}" for where, names in by_source.items()]
    if "region" in target.sources:  # said whole: the region is what users check first
        parts.append(f"region {target.region}: {target.sources['region']}")
    if "stack_region" in target.sources:
        parts.append(f"the stack says region {target.sources['stack_region']}")
    if target.var_files:
        parts.append(f"var files: {', '.join(Path(p).name for p in target.var_files)}")
    return "; ".join([*parts, *target.notes])
