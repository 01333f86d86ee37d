"""The one shadow copy of a Terraform folder, where Terraform runs for the runbook.

Never in the user's folder with an override file in it: a `runbook_sandbox_override.tf`
left behind there (a crash, a SIGKILL, a concurrent `terraform apply` by the user) would
silently send their next apply to a loopback endpoint. Instead each folder gets a private
*shadow* working directory under `.runbook/` (kept, so `.terraform/` is reused): the
configuration is copied in, an override points the provider at the sandbox when the
environment's AWS_ENDPOINT_URL is a loopback address, and a local backend keeps the state
where it belongs: in the user's folder for 05_migrate and the guards (where Terraform and
02_status expect it), in the shadow itself for the sandbox's own copy of terraform/ (which
must never get sandbox state). Credentials travel in the subprocess environment only. The
one limit: the folder must be self-contained (no `../` paths).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib import aws, paths
from runbook_lib.errors import TerraformError
from runbook_lib.tf import commands, state
from runbook_lib.tf.environment import sandbox_env, terraform_env
from runbook_lib.tf.lambdazip import LAMBDA_SOURCE, LAMBDA_ZIP, build_lambda_zip
from runbook_lib.tf.override import (
    BACKEND_OVERRIDE_NAME,
    OVERRIDE_NAME,
    is_user_override,
    write_overrides,
)
from runbook_lib.tf.planguard import PlanProof, parse_plan_lines, unsafe_changes
from runbook_lib.tf.process import Stream, error_tail, run
from runbook_lib.tf.stackconfig import has_backend
from runbook_lib.tf.stackmodel import STATE_FILE
from runbook_lib.tf.stackread import resolve_dir

SHADOW_KEEP = (".terraform", ".terraform.lock.hcl")
# Kept too when the state lives in the shadow: the state, its backup, a held lock.
STATE_KEEP = (STATE_FILE, f"{STATE_FILE}.backup", ".terraform.tfstate.lock.info")
# Never copied into the shadow: Terraform's own working files and the user's state.
_SHADOW_SKIP = {".terraform", ".git", ".runbook", "__pycache__", ".terraform.tfstate.lock.info"}


def json_ui(stream: Stream) -> Stream:
    """Show `-json` output as Terraform's own human messages."""

    def show(line: str) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            stream(line)
            return
        message = event.get("@message", "")
        diag = event.get("diagnostic") or {}
        if diag.get("detail"):
            message = f"{message}\n  {diag['detail']}"
        if message and event.get("type") != "version":
            stream(message)

    return show


@dataclass
class Workspace:
    """Where Terraform runs for the folder `source`: a private shadow copy (`workdir`) of
    its configuration. `state_path` None keeps the state in `source`; a relative path keeps
    it inside the shadow. `fresh_zip` rebuilds the Lambda zip from source on every sync."""

    source: Path
    workdir: Path
    env: dict[str, str]
    sandbox: bool
    stream: Stream | None = None
    state_path: Path | None = None
    fresh_zip: bool = False

    @property
    def state_file(self) -> Path:
        """Where the state Terraform uses is (when it is a local file)."""
        if self.state_path is None:
            return self.source / STATE_FILE
        return self.workdir / self.state_path

    @property
    def plan_path(self) -> Path:
        return self.workdir.with_name(self.workdir.name + ".tfplan")

    def sync(self, overlay: Mapping[str, str] | None = None) -> None:
        """Mirror the user's configuration into the shadow, `overlay` {path: text} on top,
        plus the override files. Nothing in the user's folder is written."""
        if self.workdir.resolve() == self.source.resolve():
            raise TerraformError("The sandbox workdir must not be the source folder.")
        self.workdir.mkdir(parents=True, exist_ok=True)
        keep = SHADOW_KEEP + (STATE_KEEP if self.state_path is not None else ())
        for entry in self.workdir.iterdir():
            if entry.name in keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for entry in sorted(self.source.iterdir()):
            if not self._skipped(entry.name):
                _copy(entry, self.workdir / entry.name)
        for path, text in (overlay or {}).items():
            (self.workdir / Path(path).resolve().relative_to(self.source)).write_text(text)
        self._lambda_zip()
        state_at = self.state_path or self.state_file
        if self.sandbox:
            region = self.env.get("AWS_REGION", aws.DEFAULT_REGION)
            write_overrides(self.workdir, state_at, (self.env["AWS_ENDPOINT_URL"], region))
        elif not has_backend(self.workdir):
            write_overrides(self.workdir, state_at, None)

    def _skipped(self, name: str) -> bool:
        return (
            name in _SHADOW_SKIP
            or name.startswith(STATE_FILE)
            or name.endswith(".tfplan")
            or name in (OVERRIDE_NAME, BACKEND_OVERRIDE_NAME)  # ours, never the user's
            or (self.sandbox and is_user_override(name))
        )

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
        if self.sandbox or not has_backend(self.source):
            local = state.read_state_file(self.state_file)
            if local is not None:
                return local
        return self.show()

    def outputs(self) -> dict[str, Any]:
        return commands.output_json(self.workdir, env=self.env)

    def apply(self) -> None:
        """A plain `terraform apply -auto-approve`, as a user runs it."""
        self.run(["apply", "-auto-approve", "-input=false", "-no-color"])

    def apply_new(self, adopt: Mapping[str, str]) -> None:
        """`apply` of a stack whose names are all fresh. If the provider's retry met what its
        own first attempt created (commands.lost_answer_collision), each resource of `adopt`
        {address: import id} missing from the state is imported, and the apply runs again."""
        try:
            self.apply()
        except TerraformError as exc:
            if not commands.lost_answer_collision(exc):
                raise
            if self.stream:
                self.stream(
                    "(The provider lost the answer to its own create and its retry met the "
                    "new resource; importing it and applying again.)"
                )
            in_state = {r.get("address") for r in state.state_resources(self.show())}
            for address, ident in adopt.items():
                if address not in in_state:
                    self.run(["import", "-input=false", "-no-color", address, ident])
            self.apply()

    def converge(self) -> bool:
        """Plan, and apply that plan only if it has changes (the same writes as `terraform
        apply`, one provider start instead of two when nothing changes)."""
        return commands.converge(self.workdir, env=self.env, stream=self.stream)

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
        path = self.workdir.with_name(self.workdir.name + ".rollback.tfstate")
        path.write_text(text)
        try:
            self.run(["state", "push", "-force", str(path)])
        finally:
            path.unlink(missing_ok=True)

    def discard(self) -> None:
        """Forget the shadow (its .terraform included)."""
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.plan_path.unlink(missing_ok=True)


def _copy(entry: Path, dest: Path) -> None:
    if entry.is_dir():
        shutil.copytree(entry, dest, symlinks=True, ignore=shutil.ignore_patterns(*_SHADOW_SKIP))
    elif entry.is_file():
        shutil.copyfile(entry, dest)


def shadow_dir(source: Path) -> Path:
    """The folder's own shadow: its name made file-name-safe, and a digest of its path."""
    digest = hashlib.sha256(str(source).encode()).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name).strip("_") or "item"
    return paths.state_dir() / "migrate" / f"{name}-{digest}"


def run_env(base: Mapping[str, str] | None = None) -> tuple[dict[str, str], bool]:
    """The subprocess environment for `base` (default: this process's), and whether it
    means the sandbox (a loopback AWS_ENDPOINT_URL: override + dummy keys)."""
    base = dict(os.environ if base is None else base)
    endpoint = base.get("AWS_ENDPOINT_URL") or None
    if not aws.is_sandbox(endpoint):
        return terraform_env(base), False
    region = base.get("AWS_REGION") or base.get("AWS_DEFAULT_REGION") or aws.DEFAULT_REGION
    return sandbox_env(str(endpoint), region, base), True


def workspace(
    terraform_dir: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    stream: Stream | None = None,
) -> Workspace:
    """The shadow workspace for the user's terraform_dir (state kept in that folder)."""
    source = resolve_dir(terraform_dir)
    run_environment, sandbox = run_env(env)
    return Workspace(source, shadow_dir(source), run_environment, sandbox, stream)


def shadow_show(terraform_dir: str | Path) -> dict[str, Any]:
    """`terraform show -json` of a stack through its backend, run in its shadow (init
    included): nothing is written in the user's folder."""
    ws = workspace(terraform_dir)
    ws.sync()
    ws.init()
    return ws.show()
