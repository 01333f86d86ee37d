"""02_status's Terraform guard: does a Terraform state manage the counter item?

An `aws_dynamodb_table_item` in the state writes its configured count back on every
`terraform apply`. The guard reads the state the stack really uses (its terraform.tfstate,
or `terraform show -json` through the backend it configures), child modules included, and
always answers: ok, fail (the state manages an item: the next apply resets the count, a
finding that exits 3) or not checked, with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import RunbookError
from runbook_lib.model import Target
from runbook_lib.tf import stackconfig, stackmodel, stackread
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.sandboxstack import default_workdir
from runbook_lib.tf.state import read_local_state
from runbook_lib.tf.workspace import shadow_show

OK, WARN, FAIL, NOT_CHECKED = "ok", "warn", "fail", "not checked"
Answer = tuple[str, str, str]  # (state, detail, next step)


def guard(terraform_dir: str | Path | None, target: Target) -> Answer:
    """The guard's answer for the stack given, else the one that deployed the target."""
    folder, why = _stack_folder(terraform_dir, target)
    if folder is None:
        return why
    label = folder.name if terraform_dir else f"{folder.name}/"
    try:
        show, how = _state(folder)
    except RunbookError as exc:
        return NOT_CHECKED, f"the state of {label} could not be read: {exc}", "run terraform show"
    if show is None:
        return _without_state(folder, label, target)
    facts = stackread.read_stack(folder, show, var_files=target.var_files)
    return _verdict(facts.findings, label, how, target, terraform_dir)


def _stack_folder(terraform_dir: str | Path | None, target: Target) -> tuple[Path | None, Answer]:
    if terraform_dir:
        try:
            return stackread.resolve_dir(terraform_dir), (OK, "", "")
        except RunbookError as exc:  # a typo must not make the guard disappear silently
            return None, (NOT_CHECKED, str(exc).split(" Next step")[0], "check terraform_dir")
    own = paths.terraform_dir()
    if (own / stackmodel.STATE_FILE).is_file() or (own / ".terraform").is_dir():
        return own, (OK, "", "")
    if target.is_sandbox:
        workdir = default_workdir()
        if (workdir / stackmodel.STATE_FILE).is_file():
            return workdir, (OK, "", "")
        return None, (OK, "the sandbox's table was made without Terraform: no state", "")
    return None, (
        NOT_CHECKED,
        "no Terraform stack to check: terraform/ has no state here and no terraform_dir given",
        "pass -p terraform_dir DIR (the folder you run terraform apply in)",
    )


def _state(folder: Path) -> tuple[dict[str, Any] | None, str]:
    local = read_local_state(folder)
    if local is not None:
        return local, stackmodel.STATE_FILE
    if not stackconfig.has_backend(folder):
        return None, ""
    if find_terraform() is None:
        raise RunbookError("its backend needs the terraform binary, and none is on PATH")
    return shadow_show(folder), "terraform show -json"


def _without_state(folder: Path, label: str, target: Target) -> Answer:
    items = stackconfig.read_config(folder, target.var_files)[1]
    config = [f for f in items if f.table in (target.table, None) and not f.no_instance]
    if config:
        return (
            FAIL,
            f"{label} declares {_each(config)} (not applied yet): its first apply and every "
            "one after it write the count",
            f"run 05_migrate first (runbook run 05_migrate -p terraform_dir {label}"
            f"{_var_files(target)})",
        )
    return OK, f"{label} has no state and declares no aws_dynamodb_table_item", ""


def _verdict(
    findings: list[stackmodel.Finding],
    label: str,
    how: str,
    target: Target,
    terraform_dir: str | Path | None,
) -> Answer:
    mine = [f for f in findings if f.table in (target.table, None) or _has_count(f)]
    if not mine:
        return OK, f"no aws_dynamodb_table_item in the state of {label} ({how})", ""
    where = f" -p terraform_dir {terraform_dir}" if terraform_dir else ""
    where += _var_files(target)
    if all(f.protected and f.in_config for f in mine):  # applies leave the count alone
        return (
            WARN,
            f"the state of {label} holds {_each(mine)} with ignore_changes: applies leave the "
            "count alone, but destroying or replacing it, or deleting the block, deletes the item",
            f"take it out of Terraform: runbook run 05_migrate{where}",
        )
    resets = [f for f in mine if not (f.protected and f.in_config)]
    what = "its count" if len(resets) == 1 else "the count of each"
    return (
        FAIL,
        f"the state of {label} holds {_each(mine)}: the next terraform apply resets {what} "
        f"({', '.join(f.address for f in resets)})",
        f"run 05_migrate (runbook run 05_migrate{where})",
    )


def _var_files(target: Target) -> str:
    """The var files the stack was read with, for the 05_migrate command (its folder's)."""
    return f" -p var_files {','.join(target.var_files)}" if target.var_files else ""


def _each(findings: list[stackmodel.Finding]) -> str:
    """Every item named: its address, table, key, and the count the state recorded."""
    return "; ".join(_one(f) for f in findings)


def _one(f: stackmodel.Finding) -> str:
    counts = stackmodel.count_attributes(f.recorded or f.item, set(f.key or {}))
    held = f.recorded or f.item or {}
    count = ", ".join(f"{a} = {next(iter(held[a].values()))}" for a in counts)
    where = f"{f.table or '?'} item {f.key_label}" + (f", {count}" if count else "")
    return f"{f.address} ({where})"


def _has_count(f: stackmodel.Finding) -> bool:
    return bool(stackmodel.count_attributes(f.recorded or f.item, set(f.key or {})))
