"""The one shadow copy of a Terraform folder, where Terraform runs for the runbook.

Never in the user's folder with an override file in it: a `runbook_sandbox_override.tf`
left behind there (a crash, a SIGKILL, a concurrent `terraform apply` by the user) would
silently send their next apply to a loopback endpoint. Instead each folder gets a private
*shadow* under `.runbook/` (kept, so `.terraform/` is reused): the configuration is copied
in, the root and every local module folder it reaches at their relative places
(tf.shadowcopy: `../../modules/x` included), and Terraform runs in the copy of the root.
When the environment's AWS_ENDPOINT_URL is a loopback address, every `provider "aws"` is
rid of the user's credential settings and pointed at the sandbox (tf.override). The state
is where tf.backends says: a local state stays in the user's folder (where Terraform and
02_status expect it), a backend in the sandbox is used as it is, a backend in real AWS is
replaced in a sandbox run by a state inside the shadow (never the user's folder), and the
sandbox's own copy of terraform/ keeps its state in the shadow. Credentials travel in the
subprocess environment only; `-var-file`s go to every command that takes them.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.tf import backends, commands, shadowcopy, shadowsync, state
from runbook_lib.tf import version as tfversion
from runbook_lib.tf.environment import run_env
from runbook_lib.tf.lambdazip import LAMBDA_SOURCE, LAMBDA_ZIP, build_lambda_zip
from runbook_lib.tf.override import BACKEND_OVERRIDE_NAME, OVERRIDE_NAME, is_user_override
from runbook_lib.tf.planrules import PlanProof, parse_plan_lines, unsafe_changes
from runbook_lib.tf.process import Stream, error_tail, json_ui, run
from runbook_lib.tf.shadowsync import shadow_dir
from runbook_lib.tf.stackmodel import STATE_FILE
from runbook_lib.tf.stackread import resolve_dir

SHADOW_KEEP = (".terraform", ".terraform.lock.hcl")
# Kept too when the state lives in the shadow: the state, its backup, a held lock.
STATE_KEEP = (STATE_FILE, f"{STATE_FILE}.backup", ".terraform.tfstate.lock.info")
# Never copied into the shadow: Terraform's own working files and the user's state.
_SHADOW_SKIP = {".terraform", ".git", ".runbook", "__pycache__", ".terraform.tfstate.lock.info"}


@dataclass
class Workspace:
    """Where Terraform runs for the folder `source`: a private shadow copy (`workdir`, the
    copy of `source`, below `top` when modules outside `source` are copied beside it).
    `state_path` None keeps a local state where the stack keeps it; a relative path keeps
    it inside the shadow. `fresh_zip` rebuilds the Lambda zip from source on every sync;
    `force_region` (the sandbox's copy of terraform/ only) overrides every provider's."""

    source: Path
    workdir: Path
    env: dict[str, str]
    sandbox: bool
    stream: Stream | None = None
    state_path: Path | None = None
    fresh_zip: bool = False
    var_files: tuple[Path, ...] = ()
    force_region: str | None = None
    top: Path | None = None

    @property
    def shadow_top(self) -> Path:
        return self.top or self.workdir

    @cached_property
    def backend(self) -> backends.Backend:
        """The stack's backend (the user's override files left out in the sandbox, whose
        copy leaves them out)."""
        return backends.read_backend(self.source, with_overrides=not self.sandbox)

    @property
    def backend_kind(self) -> str:
        """Where the state is: local, remote, sandbox-remote or replaced (tf.backends)."""
        return backends.backend_kind(self.backend, self.sandbox)

    @property
    def state_is_stacks_own(self) -> bool:
        """False when a sandbox run stands a local state in for a backend in real AWS:
        what Terraform sees then is not the stack's real state."""
        return self.backend_kind != backends.REPLACED

    @property
    def state_file(self) -> Path | None:
        """Where the state Terraform uses is, when it is a local file (None: a backend)."""
        if self.backend_kind == backends.REPLACED:
            return self.workdir / STATE_FILE
        if self.state_path is not None:
            return self.workdir / self.state_path
        if self.backend_kind == backends.LOCAL:
            return backends.local_state_file(self.backend, self.source)
        return None

    @property
    def plan_path(self) -> Path:
        top = self.shadow_top
        return top.with_name(top.name + ".tfplan")

    def sync(self, overlay: Mapping[str, str] | None = None) -> None:
        """Mirror the user's configuration (root and reached module folders) into the
        shadow, `overlay` {absolute path: text} on top, plus the overrides. Nothing in the
        user's folders is written."""
        top = self.shadow_top
        layout = shadowsync.checked_layout(self.source, self.workdir, top, self._skipped)
        in_shadow = self.state_path is not None or not self.state_is_stacks_own
        keep = SHADOW_KEEP + (STATE_KEEP if in_shadow else ())
        shadowsync.mirror(layout, top, [self.workdir / k for k in keep], self._skipped, overlay)
        self._lambda_zip()
        endpoint = self.env["AWS_ENDPOINT_URL"] if self.sandbox else None
        state_at = self.state_path or self.state_file
        shadowsync.place_overrides(
            layout, top, self.workdir, self.backend, endpoint, state_at, self.force_region
        )

    def _skipped(self, name: str) -> bool:
        return (
            name in _SHADOW_SKIP
            or name.startswith(STATE_FILE)
            or name.endswith(".tfplan")
            or name in (OVERRIDE_NAME, BACKEND_OVERRIDE_NAME)  # ours, never the user's
            or (self.sandbox and is_user_override(name))
            or (name == tfversion.LOCK_FILE and self._sandbox_lock_unmet)
        )

    @cached_property
    def _sandbox_lock_unmet(self) -> bool:
        """A lock file the sandbox's mirror cannot meet stays out of the copy (tf.version)."""
        note = tfversion.sandbox_lock_note(self.source) if self.sandbox else None
        if note and self.stream is not None:
            self.stream(note)
        return note is not None

    def _lambda_zip(self) -> None:
        """terraform/ deploys lambda/build/visitor_counter.zip, built from source (ignored
        by git); build it in the shadow when the user's folder has only the source, or
        always with `fresh_zip` (a stack that must deploy its source: it needs one)."""
        source, built = self.workdir / LAMBDA_SOURCE, self.workdir / LAMBDA_ZIP
        if source.is_file() and (self.fresh_zip or not built.is_file()):
            build_lambda_zip(source, built)
        elif self.fresh_zip and not built.is_file():
            raise TerraformError(
                f"Neither {self.source / LAMBDA_SOURCE} nor a built {self.source / LAMBDA_ZIP} "
                "exists.",
                hint="restore terraform/lambda/visitor_counter.py from git.",
            )

    def run(
        self,
        args: list[str],
        *,
        ok_codes: Sequence[int] = (0,),
        json_output: bool = False,
        quiet: bool = False,
    ) -> Any:
        """terraform ARGS in the shadow; output streamed unless quiet (JSON documents)."""
        stream = None if quiet else self.stream
        if stream is not None and json_output:
            stream = json_ui(stream)
        args = commands.with_var_files(args, self.var_files)
        return run(args, self.workdir, env=self.env, stream=stream, ok_codes=ok_codes)

    def init(self) -> None:
        self.run(["init", "-input=false", "-no-color", "-reconfigure"])

    def show(self) -> dict[str, Any]:
        """`terraform show -json` of the state."""
        return commands.show_json(self.workdir, env=self.env)

    def state(self) -> dict[str, Any]:
        """The state, in show -json's shape: its local file read directly where that file is
        the state Terraform uses (no provider started), else through `terraform show -json`
        and the stack's backend."""
        if self.state_file is not None:
            local = state.read_state_file(self.state_file)
            if local is not None:
                return local
        return self.show()

    def has_state(self) -> bool:
        """Whether Terraform finds any state at all (an empty one counts: it has a lineage),
        through the backend it uses; `terraform state pull` starts no provider."""
        if self.state_file is not None:
            return self.state_file.is_file()
        return bool(self.state_pull().strip())

    def outputs(self) -> dict[str, Any]:
        return commands.output_json(self.workdir, env=self.env)

    def apply(self) -> None:
        """A plain `terraform apply -auto-approve`, as a user runs it."""
        self.run(["apply", "-auto-approve", "-input=false", "-no-color"])

    def converge(self) -> bool:
        """Plan, and apply that plan only if it has changes (the same writes as `terraform
        apply`, one provider start instead of two when nothing changes)."""
        return commands.converge(
            self.workdir, env=self.env, stream=self.stream, var_files=self.var_files
        )

    def plan(self) -> PlanProof:
        """`terraform plan -detailed-exitcode -json -out=...` of the shadow's configuration."""
        self.plan_path.unlink(missing_ok=True)
        args = ["plan", "-input=false", "-json", "-detailed-exitcode", f"-out={self.plan_path}"]
        proc = self.run(args, ok_codes=(0, 1, 2), json_output=True)
        changes, summary, errors = parse_plan_lines((proc.stdout or "").splitlines())
        if proc.returncode == 1:
            detail = "; ".join(errors) or error_tail(proc.stderr or proc.stdout or "")
            raise TerraformError(f"terraform plan failed: {detail}")
        return PlanProof(
            exit_code=proc.returncode,
            changes=changes,
            unsafe=unsafe_changes(changes),
            summary=summary,
            plan_file=str(self.plan_path),
        )

    def apply_plan(self) -> None:
        try:
            self.run(["apply", "-input=false", "-no-color", str(self.plan_path)])
        finally:
            self.plan_path.unlink(missing_ok=True)

    def state_rm(self, addresses: Sequence[str], *, dry_run: bool) -> str:
        args = ["state", "rm", *(["-dry-run"] if dry_run else []), *addresses]
        return self.run(args).stdout or ""

    def state_pull(self) -> str:
        return self.run(["state", "pull"], quiet=True).stdout or ""

    def state_push(self, text: str) -> None:
        top = self.shadow_top
        path = top.with_name(top.name + ".rollback.tfstate")
        path.write_text(text)
        try:
            self.run(["state", "push", "-force", str(path)])
        finally:
            path.unlink(missing_ok=True)

    def discard(self) -> None:
        """Forget the shadow (its .terraform included)."""
        shutil.rmtree(self.shadow_top, ignore_errors=True)
        self.plan_path.unlink(missing_ok=True)


def workspace(
    terraform_dir: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    stream: Stream | None = None,
    var_files: Sequence[str | Path] = (),
) -> Workspace:
    """The shadow workspace for the user's terraform_dir: the copy of that folder at its
    place among the module folders it reaches; `var_files` (absolute, tf.varfiles) go to
    every command that takes `-var-file`."""
    source = resolve_dir(terraform_dir)
    run_environment, sandbox = run_env(env)
    top = shadow_dir(source)
    return Workspace(
        source,
        top / shadowcopy.plan_layout(source).root_rel,
        run_environment,
        sandbox,
        stream,
        var_files=tuple(Path(f) for f in var_files),
        top=top,
    )


def shadow_show(
    terraform_dir: str | Path, *, var_files: Sequence[str | Path] = ()
) -> dict[str, Any]:
    """`terraform show -json` of a stack through its backend, run in its shadow (init
    included): nothing is written in the user's folder."""
    ws = workspace(terraform_dir, var_files=var_files)
    ws.sync()
    ws.init()
    return ws.show()
