"""05_migrate's proof: `terraform plan` of the changed configuration, in the shadow
workspace, must create, update, delete or replace no table item (a create is a PutItem
that overwrites the live count just like an update) and delete or replace no table; the
rules live in `tf.planguard`, shared with the CI guard `runbook guard-plan`. Nothing in
the user's folder is ever written by a proof.

One more rule, the proof's own: the plan must start from the stack's real state. A stack
with a backend whose state cannot be found (a sandbox run of a stack whose backend is in
real AWS plans from an empty local state), or a plan that creates or replaces the table,
means Terraform is looking at another state than the one that manages the counter: an
apply would build a second stack beside the real one and report success. That stops the
run before any apply, exit 3 (StackMismatchError). The same rule holds before 05_migrate
says "Already safe" (require_state_to_call_safe): without the state, it did not look."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from runbook_lib.errors import StackMismatchError, TerraformError
from runbook_lib.tf import backends
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.planrules import PlanProof, new_tables
from runbook_lib.tf.process import Stream
from runbook_lib.tf.workspace import Workspace, workspace

_HINTS = {
    backends.REPLACED: "run 05_migrate in a shell pointed at the account the backend is in "
    "(real AWS: unset AWS_ENDPOINT_URL), or, if the stack's state lives in the sandbox, set "
    "the backend's endpoints to the sandbox's (endpoints = { s3 = ..., dynamodb = ... }).",
    backends.SANDBOX_REMOTE: "check the backend's bucket and key against the sandbox's S3 "
    "(the stack's state must be there), then run again.",
}
_DEFAULT_HINT = (
    "pass the folder you run `terraform apply` in, with its state (and its var_files), as "
    "terraform_dir, then run again."
)


def prove(
    terraform_dir: str | Path | Workspace,
    files: Mapping[str, str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stream: Stream | None = None,
    var_files: Sequence[str | Path] = (),
) -> PlanProof:
    """Plan terraform_dir's configuration, with `files` {path: proposed text} in place of
    the user's files, in the shadow workspace; raise TerraformError unless the plan leaves
    every table item alone, StackMismatchError (exit 3) unless it starts from the stack's
    real state. Nothing in terraform_dir is ever written by a proof."""
    ws = (
        terraform_dir
        if isinstance(terraform_dir, Workspace)
        else workspace(terraform_dir, env=env, stream=stream, var_files=var_files)
    )
    standalone = not isinstance(terraform_dir, Workspace)
    ws.sync(files)
    try:
        if standalone:
            ws.init()
        if ws.backend_kind != backends.LOCAL and not ws.has_state():
            raise _not_real_state(ws, "found no state at all")
        proof = ws.plan()
    finally:
        ws.sync()  # the shadow mirrors the user's files again
    created = new_tables(proof.changes)
    if created:
        ws.plan_path.unlink(missing_ok=True)
        listed = ", ".join(f"{c['action']} {c['address']}" for c in created)
        raise _not_real_state(ws, f"would {listed}")
    if not proof.safe:
        ws.plan_path.unlink(missing_ok=True)
        listed = ", ".join(f"{c['action']} {c['address']}" for c in proof.unsafe)
        raise TerraformError(
            f"ABORTED: the plan would touch the counter ({listed}). Nothing was written: "
            f"{ws.source} and its state are as they were.",
            hint="a delete means a resource block was removed without a `removed` block: "
            "run 05_migrate with strategy removed on the original configuration.",
        )
    return proof


def require_state_to_call_safe(ws: Workspace) -> None:
    """05_migrate's "Already safe" rests on the state as much as on the configuration (an
    item only the state holds, its block removed, is deleted by the next apply): the
    proof's own rule, StackMismatchError (exit 3) where the stack's state is not found."""
    if ws.backend_kind == backends.LOCAL:
        return  # its state file, read with the configuration (none: nothing applied yet)
    if find_terraform() is None:
        raise TerraformError(
            f"{ws.source} keeps its state in {ws.backend.describe()}: reading it needs the "
            "terraform binary, and none is on PATH, so the runbook cannot say the count is "
            "safe. Nothing was written.",
            hint="install Terraform >= 1.7 on PATH (or set RUNBOOK_TERRAFORM), then run again.",
        )
    if ws.has_state():
        return
    why = backends.why_not_real(ws.backend_kind, ws.backend, ws.state_file)
    raise StackMismatchError(
        "STOPPED: the runbook is not looking at the stack's real state, so it cannot say the "
        f"count is safe. Reading {ws.source} found no state at all: {why}. The configuration "
        "alone does not settle it: an item only the real state holds (its block removed) "
        "would be deleted by the next apply. Nothing was written.",
        hint=_HINTS.get(ws.backend_kind, _DEFAULT_HINT),
    )


def _not_real_state(ws: Workspace, what: str) -> StackMismatchError:
    """The refusal: what the plan did, why it is not the stack's real state, what to do."""
    why = backends.why_not_real(ws.backend_kind, ws.backend, ws.state_file)
    return StackMismatchError(
        f"STOPPED before any apply: the runbook is not looking at the stack's real state. "
        f"The proof plan of {ws.source} {what}: {why}. Applying it would build the stack "
        "anew beside the real one (a new table, its item at the configured count). Nothing "
        "was written.",
        hint=_HINTS.get(ws.backend_kind, _DEFAULT_HINT),
    )
