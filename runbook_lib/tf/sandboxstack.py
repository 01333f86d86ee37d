"""terraform/ applied to the local moto sandbox, in its own shadow workspace.

The stack in terraform/ deploys to real AWS as is. The sandbox never edits it: its shadow
copy under `.runbook/` gets the generated `runbook_sandbox_override.tf` that points every
AWS endpoint at the moto server, and keeps the sandbox's state, so the user's folder never
gets sandbox state or override files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbook_lib import model, paths
from runbook_lib.errors import TerraformError
from runbook_lib.tf.environment import sandbox_env
from runbook_lib.tf.process import Stream
from runbook_lib.tf.sharedprovider import shared_provider
from runbook_lib.tf.stackmodel import STATE_FILE
from runbook_lib.tf.workspace import Workspace


def default_workdir() -> Path:
    return paths.state_dir() / "terraform-sandbox"


def sandbox_workspace(
    endpoint: str,
    region: str = model.DEFAULT_REGION,
    src_dir: Path | None = None,
    workdir: Path | None = None,
    stream: Stream | None = None,
) -> Workspace:
    """The shadow of src_dir (default terraform/) that applies to the moto server at
    `endpoint`, its state kept in the shadow and its Lambda zip always built from source."""
    if not model.is_loopback(endpoint):
        raise TerraformError(
            f"Refusing to apply the sandbox override to {endpoint}: not a loopback address.",
            hint="the sandbox endpoint must be http://127.0.0.1:<port> (runbook sandbox up).",
        )
    source = Path(src_dir) if src_dir else paths.terraform_dir()
    if not any(source.glob("*.tf")):
        raise TerraformError(f"No *.tf files in {source}.", hint="point src_dir at terraform/.")
    return Workspace(
        source=source,
        workdir=Path(workdir) if workdir else default_workdir(),
        env=sandbox_env(endpoint, region),
        sandbox=True,
        stream=stream,
        state_path=Path(STATE_FILE),
        fresh_zip=True,
        force_region=region,  # the sandbox's region, whatever terraform/'s default says
    )


def apply_to_sandbox(
    endpoint: str,
    region: str = model.DEFAULT_REGION,
    src_dir: Path | None = None,
    workdir: Path | None = None,
    stream: Stream | None = None,
) -> dict[str, Any]:
    """Apply terraform/ to the moto server at `endpoint`; return the outputs.

    sync + init + converge (plan, then apply only when there are changes). The shadow's
    state is kept: against the same server a re-apply is a no-op, and against a fresh
    server Terraform's refresh finds the resources gone and recreates them.
    """
    ws = sandbox_workspace(endpoint, region, src_dir, workdir, stream)
    ws.sync()
    ws.init()
    with shared_provider(ws):  # the plan and the apply: one provider start
        ws.converge()
    return ws.outputs()
