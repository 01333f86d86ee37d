"""`runbook guard-plan PLAN`: stop a count-resetting `terraform apply` before it runs.

For CI: `terraform plan -out tfplan`, then `runbook guard-plan tfplan`, then apply only on
exit 0. PLAN is a saved plan (read with `terraform show -json`, in the plan's folder or
`--chdir DIR`, which must be the initialised working directory) or that JSON already
(`terraform show -json tfplan > plan.json`). Which changes are unsafe is decided by
`planrules`, the same rules 05_migrate's proof uses.

Exit 0: no table item is created, updated, replaced or deleted and no table is deleted or
replaced. Exit 3: each such change named, with what the apply would do to the count when
the live item can be read (the standard boto3 chain, AWS_ENDPOINT_URL, in the region the
plan's provider, the stack (with --var-file) or the prior state's ARN names, else the
shell's; said beside the verdict); a failure to read is said beside the change, never
fatal. Exit 2: PLAN is not a plan, or a --var-file is not a file. Exit 1: Terraform could
not read a saved plan.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib import aws, paths
from runbook_lib.aws import tables
from runbook_lib.errors import RunbookError, TableMissingError
from runbook_lib.model import typed_value
from runbook_lib.steps.common.result import Result, exit_code_of
from runbook_lib.steps.guard.planfile import load_plan
from runbook_lib.steps.guard.region import Regions, region_lines
from runbook_lib.tf import stackconfig, stackmodel
from runbook_lib.tf.hcledit import ITEM_TYPE
from runbook_lib.tf.planrules import is_unsafe, saved_plan_changes
from runbook_lib.tf.varfiles import parse_var_files

# (found, live item, why it was not read)
Live = tuple[bool, dict[str, Any] | None, str | None]
MIGRATE_HINT = "runbook run 05_migrate -p terraform_dir {stack}"
UNKNOWN_STACK = "DIR"  # a plan's folder holding no .tf files: the stack is elsewhere


@dataclass
class GuardResult:
    """What a plan would do to the counter."""

    plan: str  # the plan file's name (no machine path in a CI log)
    stack: str = UNKNOWN_STACK  # the stack's folder as given, for the 05_migrate command
    checked: int = 0  # managed resource changes looked at
    unsafe: list[dict[str, Any]] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    live: bool = True  # the live items were read (not --no-live)

    @property
    def safe(self) -> bool:
        return not self.unsafe

    @property
    def exit_code(self) -> int:
        return exit_code_of({"problem": not self.safe})

    def verdict(self) -> str:
        if self.safe:
            n = len(self.forgotten)
            forgot = f", {n} item(s) forgotten and left in place" if n else ""
            return (
                f"OK: {self.plan} writes no aws_dynamodb_table_item and deletes or replaces "
                f"no table ({self.checked} resource change(s) checked{forgot})."
            )
        items = any(c["type"] == ITEM_TYPE for c in self.unsafe)
        fix = (
            f"take the item out of Terraform first: {MIGRATE_HINT.format(stack=self.stack)}"
            if items
            else "find why the table is recreated (a changed name or key schema) and back it "
            "up first: runbook run 04_backup_restore -p action backup -p kind native"
        )
        return (
            f"FAILED: {len(self.unsafe)} planned change(s) in {self.plan} would write, delete "
            f"or replace the counter. Do not apply this plan; {fix}"
        )

    def lines(self) -> list[str]:
        """One line per unsafe change, the region(s) live items were read in, the verdict."""
        shown = [
            f"UNSAFE {c['action']:<7} {c['address']}: {'; '.join(c['effects'])}"
            for c in self.unsafe
        ]
        return [*shown, *region_lines(self.unsafe if self.live else []), self.verdict()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "safe": self.safe,
            "exit_code": self.exit_code,
            "checked": self.checked,
            "unsafe": self.unsafe,
            "forgotten": self.forgotten,
            "verdict": self.verdict(),
        }


# --------------------------------------------------------------------------- live count


def read_live(table: str, key: dict[str, Any], region: str | None = None) -> Live:
    """The live item, consistently read (in `region`, else the shell's); a failure is
    returned as its reason."""
    try:
        # the plan's item JSON holds B values as base64 text; the wire format wants bytes
        wire = {name: typed_value(*next(iter(v.items()))) for name, v in key.items()}
        item = tables.get_item(aws.client("dynamodb", region=region), table, wire)
    except TableMissingError:
        return True, None, None  # no table yet: no live item either
    except Exception as exc:  # any failure to look is said, never fatal
        reason = exc.args[0] if isinstance(exc, RunbookError) and exc.args else str(exc)
        return False, None, str(reason) or type(exc).__name__
    return True, item, None


def _number(item: dict[str, Any] | None, attr: str) -> str | None:
    """The count as the item holds it: "57" for a number, '"57"' for a string count."""
    value = (item or {}).get(attr)
    if not isinstance(value, dict):  # a typed scalar ({"N": "57"}) or nothing
        return None
    if stackmodel.scalar_type(value) == "N":
        return str(value["N"])
    return f'"{value["S"]}"' if stackmodel.string_count(value) else None


def item_effects(
    change: Mapping[str, Any], live: bool = True, region: str | None = None
) -> list[str]:
    """What the apply would do to the counter item, in words ("would set viewCount in T
    from 1234 (live) to 0"); the live item is read, in `region`, when `live`."""
    action = change["action"]
    conf = change["before"] if action == "delete" else change["after"]
    table, hash_key = conf.get("table_name"), conf.get("hash_key")
    item = stackconfig.item_json(conf.get("item"))
    key = stackmodel.typed_key(item, hash_key, conf.get("range_key")) if hash_key else None
    if not isinstance(table, str) or not key:
        return ["the item's table or key is not known until apply, so the live count was not read"]
    label = stackmodel.key_label(key)
    found, now, why = (
        read_live(table, key, region) if live else (False, None, "skipped (--no-live)")
    )
    if action == "delete":
        return [
            f"would delete the item {label} from {table} ({_live_numbers(found, now, why, key)})"
        ]
    configured = _numbers(item, key)
    out = [_set_line(a, table, label, _number(item, a), found, now, why) for a in configured]
    old = _numbers(stackconfig.item_json(change["before"].get("item")), key)
    dropped = _numbers(now, key) if action in ("create", "replace") else old
    out += [
        f"would remove {a} ({_number(now, a)} live) from the item {label} in {table}"
        for a in dropped
        if a not in configured and _number(now, a) is not None
    ]
    return out or [f"would write the item {label} in {table} (it configures no number)"]


def _live_numbers(found: bool, now: Any, why: str | None, key: dict[str, Any]) -> str:
    if not found:
        return f"live item not read: {why}"
    if now is None:
        return "no live item"
    held = ", ".join(f"{a} = {_number(now, a)} live" for a in _numbers(now, key))
    return held or "the live item holds no number"


def _numbers(item: dict[str, Any] | None, key: dict[str, Any]) -> list[str]:
    return stackmodel.count_attributes(item, set(key))


def _set_line(
    attr: str, table: str, label: str, to: str | None, found: bool, now: Any, why: str | None
) -> str:
    if not found:
        return f"would set {attr} in {table} to {to} (live value not read: {why})"
    if now is None:
        return f"would create the item {label} in {table} with {attr} = {to} (no live item)"
    was = _number(now, attr)
    if was is None:
        return f"would set {attr} in {table} to {to} (the live item {label} has no {attr})"
    return f"would set {attr} in {table} from {was} (live) to {to}"


def table_effects(change: Mapping[str, Any]) -> list[str]:
    name = change["before"].get("name") or change["after"].get("name") or "?"
    if change["action"] == "delete":
        return [f"would delete table {name} and every item in it, the count included"]
    return [f"would delete table {name} and create it again empty: the count is lost"]


# --------------------------------------------------------------------------- the guard


def judge(
    doc: Mapping[str, Any],
    plan: str,
    *,
    live: bool = True,
    stack: str = UNKNOWN_STACK,
    regions: Regions | None = None,
) -> GuardResult:
    """The guard's verdict on a plan's JSON document; live items are read in the region
    `regions` finds for each (the plan's provider, the stack, the prior state's ARN)."""
    changes = saved_plan_changes(doc)
    regions = regions or Regions(doc)
    result = GuardResult(plan=plan, stack=stack, checked=len(changes), live=live)
    for c in changes:
        if c["type"] == ITEM_TYPE and c["action"] == "remove":
            result.forgotten.append(c["address"])
        if not is_unsafe(c["type"], c["action"]):
            continue
        region = regions.of(c) if c["type"] == ITEM_TYPE else (None, "")
        effects = item_effects(c, live, region[0]) if c["type"] == ITEM_TYPE else table_effects(c)
        result.unsafe.append(
            {k: c[k] for k in ("address", "type", "action", "actions")}
            | {"effects": effects, "region": region}
        )
    return result


def run(
    plan: str | Path,
    *,
    chdir: str | Path | None = None,
    live: bool = True,
    env: Mapping[str, str] | None = None,
    var_files: Sequence[str] = (),
) -> Result:
    """`runbook guard-plan`'s one entry: `guard_plan`'s verdict as the step's Result (a plan
    that would write, delete or replace the counter is a problem: exit 3). Its fields are
    what `--json` prints; its message is the lines a terminal shows."""
    found = guard_plan(plan, chdir=chdir, live=live, env=env, var_files=var_files)
    verdict = "OK" if found.safe else "FAILED"
    message = "\n".join(found.lines())
    return Result("guard", verdict, not found.safe, message, found.to_dict(), detail=found)


def guard_plan(
    plan: str | Path,
    *,
    chdir: str | Path | None = None,
    live: bool = True,
    env: Mapping[str, str] | None = None,
    var_files: Sequence[str] = (),
) -> GuardResult:
    """Read PLAN (a saved plan or its JSON) and judge it (see the module docstring).
    `var_files`: the stack's -var-file files, read (with the stack in --chdir or the plan's
    folder) for the region when the plan's own provider configuration does not give it."""
    here = Path(chdir) if chdir else Path(plan).parent
    folder = here if any(here.glob("*.tf")) else None
    files = parse_var_files(list(var_files), folder)
    doc = load_plan(plan, chdir=chdir, env=env)
    regions = Regions(doc, folder, files)
    # the verdict names the file, not where it sits on this machine (CI logs are shared)
    name, stack = Path(plan).name, stack_folder(plan, chdir)
    return judge(doc, name, live=live, stack=stack, regions=regions)


def stack_folder(plan: str | Path, chdir: str | Path | None = None) -> str:
    """The folder 05_migrate should be pointed at, spelt as it was given: --chdir, else
    the plan's own folder (`infra/tfplan` -> `infra`, `tfplan` -> `.`). A folder holding
    no .tf files is not the stack (a plan.json copied elsewhere): DIR, for the user."""
    folder = Path(chdir) if chdir else Path(plan).parent
    if not any(folder.glob("*.tf")):
        return UNKNOWN_STACK
    return shlex.quote(paths.shown(folder))  # a folder with a space still pastes whole
