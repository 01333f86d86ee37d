"""05_migrate's first step: every `aws_dynamodb_table_item` in the configuration
(python-hcl2, local child modules followed) and in the state (the shadow workspace's state:
`count` and `for_each` instances one by one, and state-only leftovers whose block was
deleted by hand), with the configured, recorded and live counts side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.tf import binary, siblings, stackconfig, stackmodel, stackread
from runbook_lib.tf import version as tfversion
from runbook_lib.tf.process import Stream
from runbook_lib.tf.stackmodel import Finding
from runbook_lib.tf.state import read_local_state
from runbook_lib.tf.workspace import Workspace


def detect_config(
    terraform_dir: str | Path, *, count_attribute: str = "viewCount"
) -> list[Finding]:
    """Every aws_dynamodb_table_item block of the root module and its local child modules
    (python-hcl2 only, no binary); table and key resolved where the configuration allows."""
    _, items, _ = stackconfig.read_config(Path(terraform_dir))
    return stackread.with_counts(items, count_attribute)


def merge_state(
    config: Sequence[Finding], show: Mapping[str, Any], *, count_attribute: str = "viewCount"
) -> list[Finding]:
    """Config findings joined with the state's instances (`terraform show -json`) (pure)."""
    merged = stackread.merge_state(list(config), dict(show))
    return stackread.with_counts(merged, count_attribute)


def _detect_in(ws: Workspace, count_attribute: str) -> list[Finding]:
    """Configuration joined with the shadow's state; registry modules' items marked."""
    config = detect_config(ws.source, count_attribute=count_attribute)
    found = merge_state(config, ws.state(), count_attribute=count_attribute)
    return _mark_remote(found, stackconfig.remote_modules(ws.source))


def _mark_remote(findings: list[Finding], remote: Mapping[str, str]) -> list[Finding]:
    """Items of registry or git modules: known from the state only, never editable."""
    out = []
    for f in findings:
        top = ".".join(f.module.split(".")[:2]) if f.module else ""
        if top in remote:
            f = replace(f, module_local=False, module_source=remote[top])
        out.append(f)
    return out


def _detect_without_terraform(source: Path, count_attribute: str) -> list[Finding]:
    """Without a terraform binary: the configuration and a local terraform.tfstate only.
    Enough to say "already safe"; anything to migrate needs Terraform (migrate says so)."""
    config = detect_config(source, count_attribute=count_attribute)
    findings = merge_state(config, read_local_state(source) or {}, count_attribute=count_attribute)
    if findings:
        raise TerraformError(
            f"{source} has {', '.join(f.address for f in findings)}: migrating it needs the "
            "terraform binary, and none is on PATH.",
            hint="install Terraform >= 1.7 on PATH (or set RUNBOOK_TERRAFORM), then run again.",
        )
    return findings


def detect_all(ws: Workspace, count_attribute: str) -> list[Finding]:
    """Step 1 of 05_migrate: the shadow synced and initialised (a refused version pin said
    as such), then every item found; without a terraform binary, what can be read alone."""
    if binary.find_terraform() is None:
        return _detect_without_terraform(ws.source, count_attribute)
    ws.sync()
    try:
        ws.init()
    except TerraformError as exc:
        raise tfversion.pin_error_from_init(exc, ws.source) from exc
    return _detect_in(ws, count_attribute)


def counts(f: Finding) -> bool:
    """An item that writes a count into any table (a number, or a whole number as a string):
    it resets that count on every apply."""
    return bool(stackmodel.count_attributes(f.recorded or f.item, set(f.key or {})))


def report_others(findings: Sequence[Finding], mine: Sequence[Finding], say: Stream) -> None:
    """Items of other tables that write no number: reported, never silently skipped."""
    for f in findings:
        if f not in mine:
            say(
                f"Reported, not changed: {f.address} writes {f.table}'s item {f.key_label}, "
                "which holds no number (not a counter)."
            )


def findings_table(
    findings: Sequence[Finding],
    live: int | Mapping[str, int | None] | None,
    attribute: str = "viewCount",
) -> str:
    """Each finding's configured and recorded count beside the live one (pure). `live` is
    the one live count, or each counter item's by address ("-": the item holds no count)."""
    rows = [("resource", f"configured {attribute}", "in state", f"live {attribute}", "note")]
    for f in findings:
        note = []
        if f.protected:
            note.append("ignore_changes already")
        if not f.in_config:
            note.append("block deleted: apply would DELETE the item")
        if f.repetition:
            note.append(f.repetition)
        rows.append(
            (
                f.address,
                "?" if f.configured_count is None else str(f.configured_count),
                "yes" if f.in_state else "no",
                _live_cell(live, f.address),
                ", ".join(note),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def _live_cell(live: int | Mapping[str, int | None] | None, address: str) -> str:
    if isinstance(live, Mapping):
        if address not in live:
            return "-"
        live = live[address]
    return "missing" if live is None else str(live)


def protected_in_shared_module(source: Path, acting: Sequence[Finding]) -> str:
    """Where every item is one ignore_changes already protects, in a module another stack
    calls too: what makes `removed` wrong there ("" otherwise). Taking the block out of the
    shared file would make that stack's next apply delete its own counter item (siblings)."""
    if not acting or not all(f.protected for f in acting):
        return ""
    callers = siblings.shared_module_callers(source, acting)
    if not callers:
        return ""
    return (
        f"The module is called by another stack too ({siblings.where_called(callers, source)}), "
        "so taking it out of Terraform (removed, state_rm) is not done here: deleting the block "
        "from the shared file would make that stack's next apply delete its own counter item."
    )


def safe_message(source: Path, table: str, findings: Sequence[Finding], shared: str = "") -> str:
    """05_migrate's "Already safe" (exit 0): what protects the count, or that nothing manages
    it; `shared` (protected_in_shared_module) says why `removed` is not offered."""
    if findings:
        protected = (
            f"Already safe: {', '.join(f.address for f in findings)} ignore(s) changes to the "
            f"item, so `terraform apply` does not write {table}'s count back. Nothing to do"
        )
        if shared:
            return f"{protected}. {shared}"
        return (
            f"{protected} for ignore_changes; strategy removed would take it out of "
            "Terraform entirely."
        )
    return (
        f"Already safe: no aws_dynamodb_table_item in {source} (configuration or state) "
        f"manages {table}. Nothing to migrate: `terraform apply` there cannot reset "
        "the count."
    )
