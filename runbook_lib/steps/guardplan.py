"""`runbook guard-plan PLAN`: stop a count-resetting `terraform apply` before it runs.

For CI: `terraform plan -out tfplan`, then `runbook guard-plan tfplan`, then apply only on
exit 0. PLAN is a saved plan (read with `terraform show -json`, in the plan's folder or
`--chdir DIR`, which must be the initialised working directory) or that JSON already
(`terraform show -json tfplan > plan.json`). Which changes are unsafe is decided by
`planguard`, the same rules 05_migrate's proof uses.

Exit 0: no table item is created, updated, replaced or deleted and no table is deleted or
replaced. Exit 3: each such change named, with what the apply would do to the count when
the live item can be read (the standard boto3 chain, AWS_ENDPOINT_URL); a failure to read
is said beside the change, never fatal. Exit 2: PLAN is not a plan. Exit 1: Terraform could
not read a saved plan.
"""

from __future__ import annotations

import json
import shlex
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib import aws, paths
from runbook_lib.aws import tables
from runbook_lib.errors import InvalidInputError, RunbookError, TableMissingError, TerraformError
from runbook_lib.target.keys import typed_value
from runbook_lib.tf import stackconfig, stackmodel
from runbook_lib.tf.environment import terraform_env
from runbook_lib.tf.hcledit import ITEM_TYPE
from runbook_lib.tf.planguard import is_plan_json, is_unsafe, saved_plan_changes
from runbook_lib.tf.process import error_tail, run

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

    @property
    def safe(self) -> bool:
        return not self.unsafe

    @property
    def exit_code(self) -> int:
        return 0 if self.safe else 3

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
        """One line per unsafe change, then the verdict."""
        shown = [
            f"UNSAFE {c['action']:<7} {c['address']}: {'; '.join(c['effects'])}"
            for c in self.unsafe
        ]
        return [*shown, self.verdict()]

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


# --------------------------------------------------------------------------- reading PLAN


def _not_a_plan(plan: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"{plan} is not a Terraform plan: {why}.",
        hint="pass the file of `terraform plan -out tfplan`, or its JSON "
        "(`terraform show -json tfplan > plan.json`).",
    )


def load_plan(
    plan: str | Path, *, chdir: str | Path | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The plan's JSON document: read from a JSON file, or from a saved plan through
    `terraform show -json` run in `chdir` (default: the plan's folder)."""
    path, shown = Path(plan), str(plan)
    if not path.is_file():
        raise InvalidInputError(f"{shown}: no such file.", hint="pass the plan file's path.")
    if zipfile.is_zipfile(path):  # a saved plan is a zip archive holding "tfplan"
        with zipfile.ZipFile(path) as archive:
            if "tfplan" not in archive.namelist():
                raise _not_a_plan(shown, "a zip archive without a tfplan entry")
        return _show_saved(path, shown, Path(chdir) if chdir else path.parent, env)
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _not_a_plan(shown, "neither a saved plan nor JSON") from None
    if not is_plan_json(doc):
        raise _not_a_plan(shown, "JSON without format_version and resource_changes")
    return doc


def _show_saved(
    path: Path, shown: str, folder: Path, env: Mapping[str, str] | None
) -> dict[str, Any]:
    if not folder.is_dir():
        raise InvalidInputError(f"--chdir {folder}: not a folder.", hint="pass the plan's stack.")
    args = ["show", "-json", "-no-color", str(path.resolve())]
    proc = run(args, folder, env=terraform_env(env), ok_codes=tuple(range(256)))
    if proc.returncode != 0:
        said = " ".join(error_tail(proc.stderr or proc.stdout or "", 3).split())
        raise TerraformError(
            f"terraform show -json could not read {shown}: {said.rstrip('.')}.",
            hint="run guard-plan in the plan's initialised working directory (or give it as "
            "--chdir DIR, after `terraform init`), or pass `terraform show -json` output.",
        )
    try:
        doc = json.loads(proc.stdout or "")
    except ValueError:
        raise _not_a_plan(shown, "terraform show -json printed no JSON for it") from None
    if not is_plan_json(doc):
        raise _not_a_plan(shown, "terraform show reads it as a state, not a plan")
    return doc


# --------------------------------------------------------------------------- live count


def read_live(table: str, key: dict[str, Any]) -> Live:
    """The live item, consistently read; a failure is returned as its reason."""
    try:
        # the plan's item JSON holds B values as base64 text; the wire format wants bytes
        wire = {name: typed_value(*next(iter(v.items()))) for name, v in key.items()}
        item = tables.get_item(aws.client("dynamodb"), table, wire)
    except TableMissingError:
        return True, None, None  # no table yet: no live item either
    except Exception as exc:  # any failure to look is said, never fatal
        reason = exc.args[0] if isinstance(exc, RunbookError) and exc.args else str(exc)
        return False, None, str(reason) or type(exc).__name__
    return True, item, None


def _number(item: dict[str, Any] | None, attr: str) -> str | None:
    value = (item or {}).get(attr)
    return str(value["N"]) if stackmodel.scalar_type(value) == "N" else None


def item_effects(change: Mapping[str, Any], live: bool = True) -> list[str]:
    """What the apply would do to the counter item, in words ("would set viewCount in T
    from 1234 (live) to 0"); the live item is read when `live`."""
    action = change["action"]
    conf = change["before"] if action == "delete" else change["after"]
    table, hash_key = conf.get("table_name"), conf.get("hash_key")
    item = stackconfig.item_json(conf.get("item"))
    key = stackmodel.typed_key(item, hash_key, conf.get("range_key")) if hash_key else None
    if not isinstance(table, str) or not key:
        return ["the item's table or key is not known until apply, so the live count was not read"]
    label = stackmodel.key_label(key)
    found, now, why = read_live(table, key) if live else (False, None, "skipped (--no-live)")
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
    return stackmodel.numeric_attributes(item, set(key))


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
    doc: Mapping[str, Any], plan: str, *, live: bool = True, stack: str = UNKNOWN_STACK
) -> GuardResult:
    """The guard's verdict on a plan's JSON document."""
    changes = saved_plan_changes(doc)
    result = GuardResult(plan=plan, stack=stack, checked=len(changes))
    for c in changes:
        if c["type"] == ITEM_TYPE and c["action"] == "remove":
            result.forgotten.append(c["address"])
        if not is_unsafe(c["type"], c["action"]):
            continue
        effects = item_effects(c, live) if c["type"] == ITEM_TYPE else table_effects(c)
        result.unsafe.append(
            {k: c[k] for k in ("address", "type", "action", "actions")} | {"effects": effects}
        )
    return result


def guard_plan(
    plan: str | Path,
    *,
    chdir: str | Path | None = None,
    live: bool = True,
    env: Mapping[str, str] | None = None,
) -> GuardResult:
    """Read PLAN (a saved plan or its JSON) and judge it (see the module docstring)."""
    doc = load_plan(plan, chdir=chdir, env=env)
    # the verdict names the file, not where it sits on this machine (CI logs are shared)
    return judge(doc, Path(plan).name, live=live, stack=stack_folder(plan, chdir))


def stack_folder(plan: str | Path, chdir: str | Path | None = None) -> str:
    """The folder 05_migrate should be pointed at, spelt as it was given: --chdir, else
    the plan's own folder (`infra/tfplan` -> `infra`, `tfplan` -> `.`). A folder holding
    no .tf files is not the stack (a plan.json copied elsewhere): DIR, for the user."""
    folder = Path(chdir) if chdir else Path(plan).parent
    if not any(folder.glob("*.tf")):
        return UNKNOWN_STACK
    return shlex.quote(paths.shown(folder))  # a folder with a space still pastes whole
