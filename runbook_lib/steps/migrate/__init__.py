"""Take the counter item out of Terraform without losing a visit.

The guide's core problem: with `aws_dynamodb_table_item` in the configuration, every
`terraform apply` writes the configured item (`viewCount = 0`) back, because the provider's
Update puts every configured attribute. Deleting the resource block is worse: Terraform then
DeleteItems the counter. The item resource cannot be imported, so the way out is to make
Terraform *forget* it. One entry point, `run()` (the step's Result), in six steps:

1. **detect** (`migrate.detect`): every `aws_dynamodb_table_item` of the configuration and
   the state;
2. **protect** (`migrate.counteritems`): every counter item of the stack (one table's `event=prod`
   and `event=test`, one item per site from `for_each`), its live count read beside the
   configured one (a count stored as a string too); each item backed up before anything
   is written;
3. **change** (`migrate.edits.plan_change`, pure): `removed` (default), `state_rm` or
   `ignore_changes`, and a unified diff; outputs, locals and `depends_on` entries that
   read the item go with it (`tf.references`), anything else that does stops the run;
4. **prove** (`migrate.proof`): `terraform plan` of the changed configuration must leave
   every table item alone; otherwise TerraformError and nothing is written;
5. **apply** the proven plan (only with `dry_run=False` and `confirm` = the table name);
6. **verify** (`migrate.apply`): `verify_applies` more applies, the count read after each;
   a lost count is put back exactly from its item's backup and reported loudly; a run that
   read no count before never reports success; finally the init step
   (`steps.init.init_step`, the guide's `init-dynamodb.sh` made safe) must be a no-op.

The guide's other option, *conditional creation*
(`count = var.create_initial_data ? 1 : 0`), is not offered: it only postpones the problem.
While the flag is true the item resets on every apply exactly as before; the day someone
sets it to false, Terraform plans `delete` for `[0]` and the counter is gone. `detect` lists
such resources instance by instance and every strategy handles them (`removed` forgets all
instances of the block).

Terraform runs in a private shadow of the user's folder (`tf.workspace`): a dry run or a
failed proof cannot touch the user's files; only a proven, confirmed change is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target
from runbook_lib.steps.backup import itembackup
from runbook_lib.steps.common.confirm import require_confirmation
from runbook_lib.steps.common.result import Result
from runbook_lib.steps.init import init_step
from runbook_lib.steps.migrate.apply import (
    apply_step,
    final_message,
    state_rm_and_write,
    write_text,
)
from runbook_lib.steps.migrate.counteritems import (
    NOTHING_TO_PROTECT,
    counter_items,
    live_count,
    require_live_items,
)
from runbook_lib.steps.migrate.detect import (
    counts,
    detect_all,
    findings_table,
    protected_in_shared_module,
    report_others,
    safe_message,
)
from runbook_lib.steps.migrate.edits import STRATEGIES, Change, plan_change
from runbook_lib.steps.migrate.proof import prove, require_state_to_call_safe
from runbook_lib.steps.migrate.report import MigrationResult, unchecked_message
from runbook_lib.tf import binary, siblings
from runbook_lib.tf import version as tfversion
from runbook_lib.tf.hcledit import relative_path
from runbook_lib.tf.process import Stream
from runbook_lib.tf.sharedprovider import shared_provider
from runbook_lib.tf.stackmodel import Finding
from runbook_lib.tf.stackread import resolve_dir
from runbook_lib.tf.varfiles import parse_var_files
from runbook_lib.tf.workspace import Workspace, workspace


def run(
    target: Target,
    *,
    terraform_dir: str | Path = "terraform",
    strategy: str = "removed",
    dry_run: bool = True,
    confirm: str | None = None,
    verify_applies: int = 2,
    var_files: str | Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    stream: Stream | None = None,
) -> Result:
    """05_migrate's one entry: `_migrate` as the step's Result, detail the MigrationResult."""
    done = _migrate(
        terraform_dir, target, strategy=strategy, dry_run=dry_run, confirm=confirm,
        verify_applies=verify_applies, env=env, stream=stream, var_files=var_files,
    )  # fmt: skip
    return Result("migrate", done.verdict, done.problem, done.message, done.to_dict(), done)


def _migrate(
    terraform_dir: str | Path,
    target: Target,
    *,
    strategy: str = "removed",
    dry_run: bool = True,
    confirm: str | None = None,
    verify_applies: int = 2,
    env: Mapping[str, str] | None = None,
    stream: Stream | None = None,
    var_files: str | Sequence[str] = (),
) -> MigrationResult:
    """Detect, protect, change, prove, apply, verify (see the module docstring).

    A dry run reads only: no file, no state and no item is written (the proof is planned in
    the shadow workspace). A real run needs dry_run=False and confirm == target.table.
    `var_files` (a list or "a.tfvars,b.tfvars"; default: the target's) go to every
    Terraform command.
    """
    say = stream or (lambda _line: None)
    _check_arguments(strategy, verify_applies)
    apply_ok = require_confirmation(target, dry_run, confirm)
    files = parse_var_files(var_files or target.var_files, resolve_dir(terraform_dir))
    ws = workspace(terraform_dir, env=env, stream=stream, var_files=files)
    strategy = _strategy_for(ws.source, strategy, say)
    result = MigrationResult(ws.source.name, target.table, strategy, not apply_ok)
    acting = _detect_step(ws, target, strategy, result, say)
    if not acting:
        return result
    _protect_step(acting, target, result, say)
    change = _change_step(ws, acting, strategy, result, say)
    # the proof, the apply and the verifying applies share one provider process (sandbox)
    with shared_provider(ws):
        _prove_step(ws, change, strategy, result, say)
        if not apply_ok:
            return _dry_run_end(ws, change, target, result, say)
        _backup(strategy, result, say)
        say("== 5. Apply")
        if strategy == "state_rm":
            planned = state_rm_and_write(ws, change, result, say)
        else:
            for path, text in change.files.items():
                write_text(Path(path), text)
            ws.sync()
            planned = result.plan is not None and result.plan.exit_code == 2
        apply_step(ws, result, "migration", planned, result.items, say)
        result.migrated = True
        _verify_step(ws, target, verify_applies, result, say)
    result.message = unchecked_message(result) or final_message(result, change)
    say(result.message)
    return result


def _check_arguments(strategy: str, verify_applies: int) -> None:
    if strategy not in STRATEGIES:
        raise InvalidInputError(f"Unknown strategy {strategy!r}. Valid: {', '.join(STRATEGIES)}.")
    if (
        isinstance(verify_applies, bool)
        or not isinstance(verify_applies, int)
        or verify_applies < 0
    ):
        raise InvalidInputError(
            f"verify_applies must be a whole number >= 0, got {verify_applies!r}."
        )


def _strategy_for(source: Path, strategy: str, say: Stream) -> str:
    """The strategy this Terraform can carry out: `removed` needs 1.7 (pins checked first)."""
    if binary.find_terraform() is None:
        return strategy
    version = tfversion.check_pins(source)
    if strategy == "removed" and not tfversion.supports_removed(version):
        shown = ".".join(map(str, version or ()))
        say(f"Terraform {shown} has no `removed` block (1.7+): using strategy state_rm instead.")
        return "state_rm"
    return strategy


def _detect_step(
    ws: Workspace, target: Target, strategy: str, result: MigrationResult, say: Stream
) -> list[Finding]:
    """Step 1: the items this migration acts on; none means already safe (said)."""
    say(f"== 1. Detect: aws_dynamodb_table_item in {ws.source.name} (configuration and state)")
    findings = detect_all(ws, target.count_attribute)
    mine = [f for f in findings if f.table in (target.table, None) or counts(f)]
    report_others(findings, mine, say)
    result.findings, result.found = mine, [f.address for f in mine]
    acting = [f for f in mine if not (strategy == "ignore_changes" and f.protected)]
    shared = protected_in_shared_module(ws.source, acting)
    if not acting or shared:
        require_state_to_call_safe(ws)
        result.message = safe_message(ws.source, target.table, mine, shared)
        say(result.message)
        return []
    return acting


def _protect_step(
    acting: Sequence[Finding], target: Target, result: MigrationResult, say: Stream
) -> None:
    say("== 2. Protect: the live count of every counter item beside the configured one")
    result.items = counter_items(result.findings, target)
    for item in result.items:
        item.count_before = live_count(item.target)
    result.count_before = result.items[0].count_before
    require_live_items(result.items, acting, target)
    result.nothing_to_protect = not any(f.in_state for f in acting) and all(
        i.count_before is None for i in result.items
    )
    live = {i.address: i.count_before for i in result.items if i.address}
    say(findings_table(result.findings, live, target.count_attribute))
    if result.nothing_to_protect:
        say(NOTHING_TO_PROTECT)


def _change_step(
    ws: Workspace, acting: Sequence[Finding], strategy: str, result: MigrationResult, say: Stream
) -> Change:
    say(f"== 3. Change ({strategy})")
    if strategy != "ignore_changes":
        siblings.refuse_shared_modules(ws.source, acting)
    change = plan_change(acting, strategy, root=ws.source)
    result.diff = change.diff
    result.changed_files = [relative_path(p, ws.source) for p in change.files]
    say(change.diff or "(no file changes)")
    for note in change.notes:
        say(f"note: {note}")
    return change


def _prove_step(
    ws: Workspace, change: Change, strategy: str, result: MigrationResult, say: Stream
) -> None:
    say("== 4. Prove: terraform plan must leave every table item alone")
    if strategy == "state_rm":
        say("(state rm + deleting the block forgets the item exactly as a `removed` block does;")
        say(" that equivalent is what this plan proves, before the state is touched)")
    result.plan = prove(ws, change.proof_files)
    say(str(result.plan))
    if strategy == "state_rm":
        result.state_rm_output = ws.state_rm(change.state_rm, dry_run=True)
        say(result.state_rm_output.rstrip())


def _dry_run_end(
    ws: Workspace, change: Change, target: Target, result: MigrationResult, say: Stream
) -> MigrationResult:
    ws.plan_path.unlink(missing_ok=True)
    result.init = init_step(target, dry_run=True).to_dict()
    _read_after(result)
    # found and not yet fixed: exit 3, as 07_recover's dry run does for a reset it finds
    result.resets_on_apply = True
    resources = ", ".join(change.resources)
    others = len([i for i in result.items[1:] if i.count_before is not None])
    result.message = (
        f"{resources} resets {target.table}'s count on the next `terraform "
        f"apply`. DRY RUN: {result.strategy} would take it out of the way of `terraform "
        f"apply`; the plan proves no table item is written or deleted."
        + (f" {others} more counter item(s) would be backed up and kept too." if others else "")
        + (f" {NOTHING_TO_PROTECT}" if result.nothing_to_protect else "")
        + f" Nothing was written. To migrate: -p dry_run False -p confirm {target.table}"
    )
    say(result.message)
    return result


def _backup(strategy: str, result: MigrationResult, say: Stream) -> None:
    """Each counter item that exists is backed up, to a file of its own, before any write."""
    for item in result.items:
        if item.count_before is None:
            continue
        item.backup = itembackup.backup_item(item.target, reason=f"before 05_migrate ({strategy})")
        say(
            f"Backed up {item.label} ({item.target.count_attribute} = {item.count_before}) "
            f"to {item.backup.path}"
        )
    backups = [i.backup for i in result.items if i.backup]
    result.backup_path = str(backups[0].path) if backups else None


def _verify_step(
    ws: Workspace, target: Target, verify_applies: int, result: MigrationResult, say: Stream
) -> None:
    say(f"== 6. Verify: {verify_applies} more apply(s), the count read after each")
    for n in range(1, verify_applies + 1):
        if result.restored_from_backup:
            break
        ws.sync()
        apply_step(ws, result, f"verify {n}", None, result.items, say)
    result.init = init_step(target, dry_run=False, confirm=target.table).to_dict()
    say(f"init step: {result.init['message']}")
    _read_after(result)


def _read_after(result: MigrationResult) -> None:
    for item in result.items:
        item.count_after = live_count(item.target)
    result.count_after = result.items[0].count_after
