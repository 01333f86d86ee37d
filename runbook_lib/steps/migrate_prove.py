"""05_migrate's proof: `terraform plan` of the changed configuration, in the shadow
workspace, must create, update, delete or replace no table item (a create is a PutItem
that overwrites the live count just like an update) and delete or replace no table; the
rules live in `tf.planguard`, shared with the CI guard `runbook guard-plan`. Nothing in
the user's folder is ever written by a proof."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from runbook_lib.errors import TerraformError
from runbook_lib.tf.planguard import PlanProof
from runbook_lib.tf.process import Stream
from runbook_lib.tf.workspace import Workspace, workspace


def prove(
    terraform_dir: str | Path | Workspace,
    files: Mapping[str, str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stream: Stream | None = None,
) -> PlanProof:
    """Plan terraform_dir's configuration, with `files` {path: proposed text} in place of
    the user's files, in the shadow workspace; raise TerraformError unless the plan leaves
    every table item alone. Nothing in terraform_dir is ever written by a proof."""
    ws = (
        terraform_dir
        if isinstance(terraform_dir, Workspace)
        else workspace(terraform_dir, env=env, stream=stream)
    )
    standalone = not isinstance(terraform_dir, Workspace)
    ws.sync(files)
    try:
        if standalone:
            ws.init()
        proof = ws.plan()
    finally:
        ws.sync()  # the shadow mirrors the user's files again
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
