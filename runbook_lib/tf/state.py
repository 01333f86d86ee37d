"""The one reader of Terraform state: a raw terraform.tfstate or `terraform show -json`,
both in show -json's shape, and its resources walked through child modules (pure, but
for reading the folder's own state file)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.tf.stackmodel import STATE_FILE


def state_file_as_show(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw terraform.tfstate (format 4) in `terraform show -json`'s shape: addresses with
    module and instance key, attributes as values, outputs (pure)."""
    resources = []
    for res in raw.get("resources") or []:
        base = f"{res.get('type')}.{res.get('name')}"
        if res.get("mode", "managed") == "data":
            base = f"data.{base}"
        if res.get("module"):
            base = f"{res['module']}.{base}"
        for inst in res.get("instances") or []:
            key = f"[{json.dumps(inst['index_key'])}]" if "index_key" in inst else ""
            resources.append(
                {
                    "address": base + key,
                    "mode": res.get("mode", "managed"),
                    "type": res.get("type"),
                    "name": res.get("name"),
                    "values": inst.get("attributes") or {},
                }
            )
    outputs = raw.get("outputs") or {}
    return {"values": {"root_module": {"resources": resources}, "outputs": outputs}}


def read_local_state(folder: Path) -> dict[str, Any] | None:
    """The folder's own terraform.tfstate in show -json's shape; None when there is none."""
    return read_state_file(folder / STATE_FILE)


def read_state_file(path: Path) -> dict[str, Any] | None:
    """A local state file in show -json's shape; None when there is none."""
    if not path.is_file():
        return None
    try:
        return state_file_as_show(json.loads(path.read_text()))
    except ValueError as exc:
        raise TerraformError(f"Cannot read {path}: {exc}", hint="run terraform show") from exc


def state_resources(show: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every resource in a `show -json` document, child modules included (pure)."""
    found: list[dict[str, Any]] = []

    def walk(module: Mapping[str, Any]) -> None:
        found.extend(module.get("resources") or [])
        for child in module.get("child_modules") or []:
            walk(child)

    walk(((show or {}).get("values") or {}).get("root_module") or {})
    return found


def unwrap_outputs(raw: Mapping[str, Any]) -> dict[str, Any]:
    """{name: {"value": v, "type": ..., "sensitive": ...}} -> {name: v} (pure)."""
    return {name: (spec or {}).get("value") for name, spec in raw.items()}
