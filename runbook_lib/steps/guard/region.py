"""Where `guard-plan` reads a planned item's live count: the region the plan's own provider
configuration gives (a literal, or a variable whose value the plan holds), else the stack's
configuration read with its var files (a local, a .tfvars), else the region in the ARN of
the table in the plan's prior state, else the shell's. The region is named beside the
verdict whenever it is not simply the shell's, so a "no live item" is never read from the
wrong region unsaid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runbook_lib.errors import RunbookError
from runbook_lib.resolve.region import shell_region
from runbook_lib.tf import stackread
from runbook_lib.tf.stackmodel import StackFacts
from runbook_lib.tf.stackregion import arn_region
from runbook_lib.tf.state import state_resources

Region = tuple[str | None, str]
_MODULE = re.compile(r"^module\.([^.\[]+)(\[[^\]]*\])?\.")
_INDEX = re.compile(r"\[[^\[\]]*\]$")


class Regions:
    """The region of each planned change, looked up once per plan."""

    def __init__(
        self, doc: Mapping[str, Any], folder: Path | None = None, var_files: Sequence[Path] = ()
    ) -> None:
        self.doc, self.folder, self.var_files = doc, folder, tuple(var_files)
        self._stack: StackFacts | None = None
        self._stack_read = False

    def of(self, change: Mapping[str, Any]) -> Region:
        """(region, how) for one item change; (None, "") means the shell's."""
        conf = change.get("after") or change.get("before") or {}
        table = conf.get("table_name")
        found = self._from_plan(str(change.get("address", "")))
        if found[0] is None:
            found = self._from_stack(table)
        if found[0] is None:
            found = self._from_prior_state(table)
        return found

    def _from_plan(self, address: str) -> Region:
        config = self.doc.get("configuration") or {}
        resource = _resource_config(config.get("root_module") or {}, address)
        key = (resource or {}).get("provider_config_key") or "aws"
        expr = (
            ((config.get("provider_config") or {}).get(key) or {}).get("expressions") or {}
        ).get("region") or {}
        if isinstance(expr.get("constant_value"), str):
            return expr["constant_value"], f"the plan's provider {key} (literal)"
        refs = [r for r in expr.get("references") or [] if r.startswith("var.")]
        if len(refs) == 1:
            name = refs[0][4:]
            value = ((self.doc.get("variables") or {}).get(name) or {}).get("value")
            if isinstance(value, str) and value:
                return value, f"the plan's provider {key} (variable {name})"
        return None, ""

    def _from_stack(self, table: Any) -> Region:
        if self.folder is None:
            return None, ""
        if not self._stack_read:
            self._stack_read = True
            try:
                self._stack = stackread.read_stack(self.folder, show={}, var_files=self.var_files)
            except RunbookError:  # a stack that cannot be read only costs this source
                self._stack = None
        facts = self._stack
        if facts is None:
            return None, ""
        said = [(t.region, t.region_source) for t in facts.tables if t.name == table]
        said += [(f.region, f.region_source) for f in facts.findings if f.table == table]
        region, how = next(((r, h) for r, h in said if r), (None, ""))
        return (region, f"stack {self.folder.name} {how}") if region else (None, "")

    def _from_prior_state(self, table: Any) -> Region:
        prior = self.doc.get("prior_state") or {}
        for res in state_resources(prior):
            values = res.get("values") or {}
            if res.get("type") == "aws_dynamodb_table" and values.get("name") == table:
                region = arn_region(values.get("arn"))
                if region:
                    return region, "the plan's prior state (the table's ARN)"
        return None, ""


def _resource_config(module: Mapping[str, Any], address: str) -> Mapping[str, Any] | None:
    """The configuration block of a resource instance's address, through module calls."""
    match = _MODULE.match(address)
    while match:
        calls = module.get("module_calls") or {}
        module = (calls.get(match.group(1)) or {}).get("module") or {}
        address = address[match.end() :]
        match = _MODULE.match(address)
    base = _INDEX.sub("", address)
    return next((r for r in module.get("resources") or [] if r.get("address") == base), None)


def region_lines(unsafe: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per region the live items were read in, where that region came from, when
    the plan or the stack named it (nothing to say when it is simply the shell's)."""
    shell, _ = shell_region()
    said: dict[str, str] = {}
    for change in unsafe:
        region, how = change.get("region") or (None, "")
        if region:
            said.setdefault(region, how)
    return [
        f"Live items read in {region}: {how}"
        + (f" (the shell's is {shell})" if region != shell else "")
        for region, how in said.items()
    ]
