"""Take the counter item out of Terraform without losing a visit.

The guide's core problem: with `aws_dynamodb_table_item` in the configuration, every
`terraform apply` writes the configured item (`viewCount = 0`) back, because the provider's
Update puts every configured attribute. Deleting the resource block is worse: Terraform then
DeleteItems the counter. The item resource cannot be imported, so the way out is to make
Terraform *forget* it. One entry point, `migrate()`, in six steps:

1. **detect**: python-hcl2 reads the configuration, `terraform show -json` the state: every
   `aws_dynamodb_table_item` (address, table, key, configured value; `count` and `for_each`
   instances one by one, and state-only leftovers whose block was deleted by hand);
2. **protect**: back up the live item (`itemfile.backup_item`) and show the live count beside
   the configured one;
3. **change** (`plan_change`, pure: new file texts made by `hcledit`, and a unified diff), one of
   - `removed` (default): the resource block becomes
     `removed { from = ADDR  lifecycle { destroy = false } }` (Terraform >= 1.7): the next
     apply forgets the item without deleting it, and the block documents why;
   - `state_rm`: `terraform state rm -dry-run`, then the real one, then the block goes;
   - `ignore_changes`: `lifecycle { ignore_changes = [item] }` is added. The resource stays
     in state: destroying or replacing it (or deleting the block later) still deletes the item;
4. **prove**: `terraform plan -detailed-exitcode -json` of the changed configuration must plan
   no create, update, delete or replace of ANY table item (a create is a PutItem that
   overwrites the live count just like an update) and no delete/replace of a table;
   otherwise TerraformError and nothing is written (the rules live in `planguard`, shared
   with the CI guard `runbook guard-plan`);
5. **apply** the proven plan (only with `dry_run=False` and `confirm` = the table name);
6. **verify**: `verify_applies` more applies, the count read after each; a lost count is
   restored from the step-2 backup and reported loudly; finally the init step
   (`counter.init_step`, the guide's `init-dynamodb.sh` made safe) must be a no-op.

The guide's other option, *conditional creation*
(`count = var.create_initial_data ? 1 : 0`), is not offered: it only postpones the problem.
While the flag is true the item resets on every apply exactly as before; the day someone
sets it to false, Terraform plans `delete` for `[0]` and the counter is gone. `detect` lists
such resources instance by instance and every strategy handles them (`removed` forgets all
instances of the block).

**Where Terraform runs.** Never in the user's folder with an override file in it: a
`runbook_sandbox_override.tf` left behind there (a crash, a SIGKILL, a concurrent
`terraform apply` by the user during the run) would silently send their next apply to a
loopback endpoint, and an edit to their `*.tf` is exactly what we must not risk. Instead
each `terraform_dir` gets a private *shadow* working directory under `.runbook/migrate/`
(kept, so `.terraform/` is reused): the configuration is copied in, an override points the
provider at the sandbox when AWS_ENDPOINT_URL is a loopback address, and a backend override
`backend "local" { path = "<terraform_dir>/terraform.tfstate" }` keeps the state *in the
user's folder*, where Terraform and 02_status expect it (a configured remote backend is used
as is outside the sandbox). A proposed change is planned in the shadow only, so a dry run or
a failed proof cannot touch the user's files; only a proven, confirmed change is written to
them. Credentials travel in the subprocess environment only. The one limit: the folder must
be self-contained (no `../` paths), the same rule as the sandbox copy of terraform/.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from runbook_lib import aws, paths
from runbook_lib.aws import counter
from runbook_lib.errors import (
    InvalidInputError,
    StackMismatchError,
    TableMissingError,
    TerraformError,
)
from runbook_lib.formats import itemfile
from runbook_lib.target.model import Target
from runbook_lib.tf import stackconfig, stackread
from runbook_lib.tf import terraform as tf
from runbook_lib.tf import version as tfversion
from runbook_lib.tf.hcledit import (
    ITEM_TYPE,
    MARK,
    add_ignore_changes,
    locate_block,
    parse_hcl,
    relative_path,
    remove_resource,
    removed_block,
    replace_with_removed,
    resource_blocks,
    unified_diff,
)
from runbook_lib.tf.planguard import (  # noqa: F401 - migrate's proof uses guard-plan's rules
    SAFE_ITEM_ACTIONS,
    UNSAFE_TABLE_ACTIONS,
    parse_plan_lines,
    unsafe_changes,
)
from runbook_lib.tf.stackread import (
    STATE_FILE,
    TABLE_TYPE,  # noqa: F401 - part of migrate's API
    Finding,
    read_local_state,
    resolve_dir,
    state_file_as_show,  # noqa: F401 - part of migrate's API
    tf_files,
)
from runbook_lib.tf.stackread import has_backend as _has_backend

Stream = Callable[[str], None]

STRATEGIES = ("removed", "state_rm", "ignore_changes")
BACKEND_OVERRIDE_NAME = "runbook_state_override.tf"
SHADOW_KEEP = (".terraform", ".terraform.lock.hcl")
# Never copied into the shadow: Terraform's own working files and the user's state.
_SHADOW_SKIP = {".terraform", ".git", ".runbook", "__pycache__", ".terraform.tfstate.lock.info"}
LEGACY_STACK = Path("tests") / "fixtures" / "legacy_stack"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Change:
    """What a strategy does to the files (pure data: nothing written yet)."""

    strategy: str
    resources: tuple[str, ...]  # block addresses handled
    files: dict[str, str]  # path -> new text, changed files only
    originals: dict[str, str]  # path -> text before
    diff: str
    proof_files: dict[str, str]  # what `prove` plans (state_rm: the removed equivalent)
    state_rm: tuple[str, ...] = ()  # addresses for `terraform state rm`
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanProof:
    """A `terraform plan -detailed-exitcode -json` and what it would do to the counter."""

    exit_code: int  # 0 nothing to do, 2 changes
    changes: list[dict[str, str]]  # [{address, type, action}] from "planned_change"
    unsafe: list[dict[str, str]]  # the changes that would touch the count
    summary: str  # "Plan: 0 to add, 0 to change, 0 to destroy."
    plan_file: str | None = None

    @property
    def safe(self) -> bool:
        return not self.unsafe

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "summary": self.summary,
            "changes": self.changes,
            "unsafe": self.unsafe,
            "safe": self.safe,
        }

    def __str__(self) -> str:
        lines = [f"{self.summary or 'No changes.'}  (plan exit code {self.exit_code})"]
        lines += [f"  {c['action']:<8} {c['address']}" for c in self.changes]
        verdict = "SAFE: no table item is written or deleted" if self.safe else "UNSAFE"
        return "\n".join([*lines, verdict])


@dataclass
class MigrationResult:
    terraform_dir: str
    table: str
    strategy: str
    dry_run: bool
    found: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    migrated: bool = False
    count_before: int | None = None
    count_after: int | None = None
    diff: str = ""
    changed_files: list[str] = field(default_factory=list)
    plan: PlanProof | None = None
    state_rm_output: str = ""
    applies: list[dict[str, Any]] = field(default_factory=list)
    backup_path: str | None = None
    restored_from_backup: str | None = None
    init: dict[str, Any] | None = None
    message: str = ""

    @property
    def count_lost(self) -> bool:
        before, after = self.count_before, self.count_after
        return before is not None and (after is None or after < before)

    @property
    def problem(self) -> bool:
        """The count went down during the migration (even if restored since): exit 3."""
        return self.count_lost or self.restored_from_backup is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "terraform_dir": self.terraform_dir,
            "table": self.table,
            "strategy": self.strategy,
            "dry_run": self.dry_run,
            "found": self.found,
            "findings": [f.to_dict() for f in self.findings],
            "migrated": self.migrated,
            "count_before": self.count_before,
            "count_after": self.count_after,
            "count_changed": self.count_before != self.count_after,
            "diff": self.diff,
            "changed_files": self.changed_files,
            "plan": self.plan.to_dict() if self.plan else None,
            "state_rm_output": self.state_rm_output,
            "applies": self.applies,
            "applies_done": len(self.applies),
            "backup_path": self.backup_path,
            "restored_from_backup": self.restored_from_backup,
            "init": self.init,
            "message": self.message,
        }

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- detect


def detect_config(
    terraform_dir: str | Path, *, count_attribute: str = "viewCount"
) -> list[Finding]:
    """Every aws_dynamodb_table_item block of the root module and its local child modules
    (python-hcl2 only, no binary); table and key resolved where the configuration allows."""
    _, items, _ = stackread.read_config(Path(terraform_dir))
    return stackread.with_counts(items, count_attribute)


def merge_state(
    config: Sequence[Finding], show: Mapping[str, Any], *, count_attribute: str = "viewCount"
) -> list[Finding]:
    """Config findings joined with the state's instances (`terraform show -json`) (pure)."""
    merged = stackread.merge_state(list(config), dict(show))
    return stackread.with_counts(merged, count_attribute)


def detect(
    terraform_dir: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    count_attribute: str = "viewCount",
    stream: Stream | None = None,
) -> list[Finding]:
    """Every aws_dynamodb_table_item in the configuration (python-hcl2) and the state
    (`terraform show -json`, run in the shadow workdir): address, table, key, values."""
    ws = workspace(terraform_dir, env=env, stream=stream)
    ws.sync()
    ws.init()
    return _detect(ws, count_attribute)


def _detect(ws: Workspace, count_attribute: str) -> list[Finding]:
    config = detect_config(ws.source, count_attribute=count_attribute)
    found = merge_state(config, _state_of(ws), count_attribute=count_attribute)
    return _mark_remote(found, stackconfig.remote_modules(ws.source))


def _mark_remote(findings: list[Finding], remote: Mapping[str, str]) -> list[Finding]:
    """Items of registry or git modules: known from the state only, never editable."""
    out = []
    for f in findings:
        top = ".".join(f.module.split(".")[:2]) if f.module else ""
        if top in remote:
            f = replace(f, module_local=False, module_source=remote[top])
        out.append(f)
    return out


def _state_of(ws: Workspace) -> dict[str, Any]:
    """The state: its local file read directly where that file is the state Terraform uses
    (the same content `show -json` prints, without starting the provider), else through
    `terraform show -json` and the stack's backend."""
    if ws.sandbox or not _has_backend(ws.source):
        local = read_local_state(ws.source)
        if local is not None:
            return local
    return ws.show()


def _detect_without_terraform(source: Path, count_attribute: str) -> list[Finding]:
    """Without a terraform binary: the configuration and a local terraform.tfstate only.
    Enough to say "already safe"; anything to migrate needs Terraform (migrate says so)."""
    config = detect_config(source, count_attribute=count_attribute)
    findings = merge_state(config, read_local_state(source) or {}, count_attribute=count_attribute)
    if findings:
        raise TerraformError(
            f"{source} has {', '.join(f.address for f in findings)}: migrating it needs the "
            "terraform binary, and none is on PATH.",
            hint="install Terraform >= 1.7 on PATH (or set RUNBOOK_TERRAFORM), then run again.",
        )
    return findings


# --------------------------------------------------------------------------- change


def plan_change(
    findings: Sequence[Finding],
    strategy: str,
    sources: Mapping[str, str] | None = None,
    *,
    root: str | Path | None = None,
) -> Change:
    """The new text of every file the strategy touches, and the unified diff (pure when
    `sources` {path: text} is given; otherwise the files named by the findings are read).

    One edit per resource block (count/for_each instances share theirs). A block in a local
    child module is deleted from the module's file and its `removed` block goes in the root
    module, the only place Terraform reads one from; a state-only leftover gets a `removed`
    block in the root module too.
    """
    _check_strategy(strategy)
    resources = _acting_resources(findings, strategy)
    edit = _Edit(dict(sources or {}), strategy, _root_file(findings, root, sources or {}))
    for resource, f in sorted(resources.items()):
        edit.apply(resource, f, relative_path(f.file, Path(root)) if root and f.file else f.file)
    _verify_edit(edit.new, strategy, resources)
    _verify_edit(edit.proof, "removed" if strategy == "state_rm" else strategy, resources)
    state_rm = tuple(sorted(resources)) if strategy == "state_rm" else ()
    originals = edit.originals
    root_path = Path(root) if root else Path(os.path.commonpath(list(originals) or ["."]))
    return Change(
        strategy=strategy,
        resources=tuple(sorted(resources)),
        files=edit.new,
        originals={p: originals[p] for p in edit.new},
        diff=unified_diff(
            originals, edit.new, root_path if root_path.is_dir() else root_path.parent
        ),
        proof_files={p: t for p, t in edit.proof.items() if t != originals.get(p)},
        state_rm=state_rm,
        notes=tuple(edit.notes),
    )


def _check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise InvalidInputError(
            f"Unknown strategy {strategy!r}. Valid: {', '.join(STRATEGIES)}.",
            hint="pass -p strategy removed (the default), state_rm or ignore_changes.",
        )


def _acting_resources(findings: Sequence[Finding], strategy: str) -> dict[str, Finding]:
    """The resource blocks the strategy changes; a module that cannot be edited stops it."""
    resources: dict[str, Finding] = {}
    for f in findings:
        if not f.module_local:
            raise InvalidInputError(
                f"{f.address} is declared in {f.module}, whose source {f.module_source!r} is "
                "not a local folder, so 05_migrate cannot edit it; `terraform state rm` alone "
                "would not help: the module still declares the item, and the next apply "
                "would create it again over the live count.",
                hint=f"copy the module into the stack (e.g. ./modules/{f.module.split('.')[-1]}), "
                "point its source there, `terraform init`, then run 05_migrate again.",
            )
        if strategy == "ignore_changes" and f.protected:
            continue
        if strategy == "ignore_changes" and not f.in_config:
            raise InvalidInputError(
                f"{f.resource} is in the state but its block is gone from the configuration: "
                "there is no block to add a lifecycle rule to, and the next apply DELETES "
                "the item.",
                hint="run with strategy removed (or state_rm).",
            )
        resources.setdefault(f.resource, f)
    return resources


class _Edit:
    """The files a strategy writes (`new`) and the configuration its proof plans
    (`proof`: for state_rm, the `removed` equivalent), built one resource at a time."""

    def __init__(self, texts: dict[str, str], strategy: str, root_file: str | None) -> None:
        self.texts, self.strategy, self.root_file = texts, strategy, root_file
        self.originals: dict[str, str] = {}
        self.new: dict[str, str] = {}
        self.proof: dict[str, str] = {}
        self.notes: list[str] = []

    def text(self, path: str, mine: dict[str, str]) -> str:
        if path not in self.texts:
            self.texts[path] = Path(path).read_text()
        self.originals.setdefault(path, self.texts[path])
        return mine.get(path, self.texts[path])

    def apply(self, resource: str, f: Finding, where: str | None) -> None:
        name, kind = f.name, self.strategy
        if not f.in_config or f.module:
            if f.in_config:  # a block in a local child module: it goes from the module
                how = "a `removed` block in the root module" if kind == "removed" else None
                how = how or "terraform state rm"
                self.new[f.file] = remove_resource(self.text(f.file, self.new), name, where, how)
                self.proof[f.file] = remove_resource(
                    self.text(f.file, self.proof), name, where, how
                )
            else:
                self.notes.append(
                    f"{resource}: state only (its block was deleted); the apply would delete it"
                )
            self._removed_in_root(resource, keep=kind == "removed")
        elif kind == "removed":
            self.new[f.file] = replace_with_removed(self.text(f.file, self.new), name, where)
            self.proof[f.file] = self.new[f.file]
        elif kind == "state_rm":
            self.new[f.file] = remove_resource(self.text(f.file, self.new), name, where)
            self.proof[f.file] = replace_with_removed(self.text(f.file, self.proof), name, where)
        else:
            self.new[f.file] = add_ignore_changes(self.text(f.file, self.new), name, where)
            self.proof[f.file] = self.new[f.file]

    def _removed_in_root(self, resource: str, *, keep: bool) -> None:
        path = self.root_file
        if path is None:
            raise InvalidInputError(
                f"No *.tf file in the root module to add `removed` for {resource} to."
            )
        block = "\n\n" + removed_block(resource) + "\n"
        self.proof[path] = self.text(path, self.proof).rstrip("\n") + block
        if keep:
            self.new[path] = self.text(path, self.new).rstrip("\n") + block


def _root_file(
    findings: Sequence[Finding], root: str | Path | None, sources: Mapping[str, str]
) -> str | None:
    """Where `removed` blocks for module items and state-only leftovers go: beside a root
    finding's block, else main.tf, else the first *.tf file of the root module."""
    files = [f.file for f in findings if f.file and not f.module]
    if files:
        return files[0]
    if root is None:
        return None
    folder = Path(root)
    known = sorted(
        {*(p for p in sources if Path(p).parent == folder), *(str(p) for p in tf_files(folder))}
    )
    main = str(folder / "main.tf")
    if main in known:
        return main
    return next((p for p in known if p.endswith(".tf")), None)


def _verify_edit(files: Mapping[str, str], strategy: str, resources: Mapping[str, Finding]) -> None:
    """python-hcl2 re-reads every edited file: it parses, and says what the strategy meant."""
    docs = {path: parse_hcl(text, path) for path, text in files.items()}
    removed = {
        str(b.get("from", "")).strip("${}") for doc in docs.values() for b in doc.get("removed", [])
    }
    for resource, f in resources.items():
        doc = docs.get(f.file or "")
        items = resource_blocks(doc, ITEM_TYPE) if doc is not None else {}
        if strategy == "ignore_changes":
            if f.name not in items or not stackread.protected(items[f.name]):
                raise TerraformError(
                    f"Editing {f.file} did not protect {resource}; nothing written."
                )
            continue
        if f.in_config and (doc is None or f.name in items):
            raise TerraformError(f"Editing {f.file} left {resource} in place; nothing written.")
        if strategy == "removed" and resource not in removed:
            raise TerraformError(
                f"The edit wrote no removed block for {resource}; nothing written."
            )


# --------------------------------------------------------------------------- plan parsing


def _json_ui(stream: Stream) -> Stream:
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


# --------------------------------------------------------------------------- workspace


@dataclass
class Workspace:
    """Where Terraform runs for a user's `terraform_dir`: a private shadow copy of the
    configuration, with the state kept in the user's folder (see the module docstring)."""

    source: Path
    workdir: Path
    env: dict[str, str]
    sandbox: bool
    stream: Stream | None = None

    @property
    def state_path(self) -> Path:
        return self.source / STATE_FILE

    @property
    def plan_path(self) -> Path:
        return self.workdir.with_name(self.workdir.name + ".tfplan")

    def sync(self, overlay: Mapping[str, str] | None = None) -> None:
        """Mirror the user's configuration into the shadow, `overlay` {path: text} on top,
        plus the override files. Nothing in the user's folder is written."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for entry in self.workdir.iterdir():
            if entry.name in SHADOW_KEEP:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for entry in sorted(self.source.iterdir()):
            name = entry.name
            if (
                name in _SHADOW_SKIP
                or name.startswith(STATE_FILE)
                or name.endswith(".tfplan")
                or name in (tf.OVERRIDE_NAME, BACKEND_OVERRIDE_NAME)  # ours, never the user's
                or (self.sandbox and stackread._is_override(name))
            ):
                continue
            if entry.is_dir():
                shutil.copytree(
                    entry,
                    self.workdir / name,
                    symlinks=True,
                    ignore=shutil.ignore_patterns(*_SHADOW_SKIP),
                )
            elif entry.is_file():
                shutil.copyfile(entry, self.workdir / name)
        for path, text in (overlay or {}).items():
            (self.workdir / Path(path).resolve().relative_to(self.source)).write_text(text)
        self._lambda_zip()
        self._overrides()

    def _lambda_zip(self) -> None:
        """terraform/ deploys lambda/build/visitor_counter.zip, built from source (ignored
        by git); build it in the shadow when the user's folder has only the source."""
        source = self.workdir / tf.LAMBDA_SOURCE
        if source.is_file() and not (self.workdir / tf.LAMBDA_ZIP).is_file():
            tf.build_lambda_zip(source, self.workdir / tf.LAMBDA_ZIP)

    def _overrides(self) -> None:
        state = json.dumps(str(self.state_path))
        if self.sandbox:
            endpoint = self.env["AWS_ENDPOINT_URL"]
            text = tf.sandbox_override_text(
                endpoint, self.env.get("AWS_REGION", aws.DEFAULT_REGION)
            )
            local = 'path = "terraform.tfstate"'
            if local not in text:
                raise TerraformError("The sandbox override has no local backend path to redirect.")
            text = text.replace(local, f"path = {state}")
            backend, provider = text.split('provider "aws" {', 1)
            provider = 'provider "aws" {' + provider
            # an override may only amend a provider block the module has: the root may
            # leave it to a child module (the legacy layout), which then gets its own
            for folder in self._provider_dirs():
                name = self.workdir / folder / tf.OVERRIDE_NAME
                name.write_text(backend + provider if folder == Path(".") else provider)
            if Path(".") not in self._provider_dirs():
                (self.workdir / tf.OVERRIDE_NAME).write_text(backend)
        elif not _has_backend(self.workdir):
            (self.workdir / BACKEND_OVERRIDE_NAME).write_text(
                f"# Generated by {MARK}: the state stays in the user's folder.\n"
                f'terraform {{\n  backend "local" {{\n    path = {state}\n  }}\n}}\n'
            )

    def _provider_dirs(self) -> list[Path]:
        """Folders of the shadow (relative) whose *.tf declare a default `provider "aws"`."""
        found = []
        for path in sorted(self.workdir.rglob("*.tf")):
            if ".terraform" in path.parts or stackread._is_override(path.name):
                continue
            blocks = parse_hcl(path.read_text(), str(path)).get("provider", [])
            if any("alias" not in (b.get("aws") or {"alias": 1}) for b in blocks):
                found.append(path.parent.relative_to(self.workdir))
        return sorted(set(found))

    def run(
        self,
        args: list[str],
        *,
        ok_codes: Sequence[int] = (0,),
        json_ui: bool = False,
        quiet: bool = False,
    ) -> Any:
        """terraform ARGS in the shadow; output streamed unless quiet (JSON documents)."""
        stream = None if quiet else self.stream
        if stream is not None and json_ui:
            stream = _json_ui(stream)
        return tf.run(args, self.workdir, env=self.env, stream=stream, ok_codes=ok_codes)

    def init(self) -> None:
        self.run(["init", "-input=false", "-no-color", "-reconfigure"])

    def show(self) -> dict[str, Any]:
        proc = self.run(["show", "-json", "-no-color"], quiet=True)
        try:
            return json.loads(proc.stdout or "{}")
        except ValueError as exc:
            raise TerraformError(f"terraform show -json did not print JSON: {exc}") from exc

    def apply(self) -> None:
        """A plain `terraform apply -auto-approve`, as a user runs it."""
        self.run(["apply", "-auto-approve", "-input=false", "-no-color"])

    def apply_new(self, adopt: Mapping[str, str]) -> None:
        """`apply` of a stack whose names are all fresh. If the provider's retry met what its
        own first attempt created (tf.lost_answer_collision), each resource of `adopt`
        {address: import id} missing from the state is imported, and the apply runs again."""
        try:
            self.apply()
        except TerraformError as exc:
            if not tf.lost_answer_collision(exc):
                raise
            if self.stream:
                self.stream(
                    "(The provider lost the answer to its own create and its retry met the "
                    "new resource; importing it and applying again.)"
                )
            in_state = {r.get("address") for r in tf.state_resources(self.show())}
            for address, ident in adopt.items():
                if address not in in_state:
                    self.run(["import", "-input=false", "-no-color", address, ident])
            self.apply()

    def converge(self) -> bool:
        """Plan, and apply that plan only if it has changes (the same writes as `terraform
        apply`, one provider start instead of two when nothing changes)."""
        return tf.converge(self.workdir, env=self.env, stream=self.stream)

    def plan(self) -> PlanProof:
        """`terraform plan -detailed-exitcode -json -out=...` of the shadow's configuration."""
        self.plan_path.unlink(missing_ok=True)
        args = ["plan", "-input=false", "-json", "-detailed-exitcode", f"-out={self.plan_path}"]
        proc = self.run(args, ok_codes=(0, 1, 2), json_ui=True)
        changes, summary, errors = parse_plan_lines((proc.stdout or "").splitlines())
        if proc.returncode == 1:
            detail = "; ".join(errors) or tf.error_tail(proc.stderr or proc.stdout or "")
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


def shadow_dir(source: Path) -> Path:
    digest = hashlib.sha256(str(source).encode()).hexdigest()[:12]
    return paths.state_dir() / "migrate" / f"{itemfile.safe_name(source.name)}-{digest}"


def workspace(
    terraform_dir: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    stream: Stream | None = None,
) -> Workspace:
    """The shadow workspace for terraform_dir. `env` is the base environment (default: this
    process's); a loopback AWS_ENDPOINT_URL in it means the sandbox: override + dummy keys."""
    source = resolve_dir(terraform_dir)
    base = dict(os.environ if env is None else env)
    endpoint = base.get("AWS_ENDPOINT_URL") or None
    sandbox = aws.is_sandbox(endpoint)
    if sandbox:
        region = base.get("AWS_REGION") or base.get("AWS_DEFAULT_REGION") or aws.DEFAULT_REGION
        run_env = tf.sandbox_env(str(endpoint), region, base)
    else:
        run_env = tf.terraform_env(base)
    return Workspace(source, shadow_dir(source), run_env, sandbox, stream)


# --------------------------------------------------------------------------- prove


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


# --------------------------------------------------------------------------- migrate


def _live_count(target: Target) -> int | None:
    """The live count; None when the item (or, before a first apply, the table) is missing.
    An item that holds only its key (the Lambda ADDs the count later) counts 0."""
    try:
        item = counter.get_item(target)
    except TableMissingError:
        return None
    if item is None:
        return None
    if target.count_attribute not in item:
        return 0
    return counter.parse_count(item, target.count_attribute)


def _write_text(path: Path, text: str) -> None:
    """Write completely or not at all, keeping the file's mode."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def findings_table(
    findings: Sequence[Finding], live: int | None, attribute: str = "viewCount"
) -> str:
    """Each finding's configured and recorded count beside the live one (pure)."""
    rows = [("resource", f"configured {attribute}", "in state", f"live {attribute}", "note")]
    for f in findings:
        note = []
        if f.protected:
            note.append("ignore_changes already")
        if not f.in_config:
            note.append("block deleted: apply would DELETE the item")
        if f.repetition:
            note.append(f.repetition)
        rows.append(
            (
                f.address,
                "?" if f.configured_count is None else str(f.configured_count),
                "yes" if f.in_state else "no",
                "missing" if live is None else str(live),
                ", ".join(note),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def migrate(
    terraform_dir: str | Path,
    target: Target,
    *,
    strategy: str = "removed",
    dry_run: bool = True,
    confirm: str | None = None,
    verify_applies: int = 2,
    env: Mapping[str, str] | None = None,
    stream: Stream | None = None,
) -> MigrationResult:
    """Detect, protect, change, prove, apply, verify (see the module docstring).

    A dry run reads only: no file, no state and no item is written (the proof is planned in
    the shadow workspace). A real run needs dry_run=False and confirm == target.table.
    """
    say = stream or (lambda _line: None)
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
    apply_ok = counter.require_confirmation(target, dry_run, confirm)
    ws = workspace(terraform_dir, env=env, stream=stream)
    strategy = _strategy_for(ws.source, strategy, say)
    result = MigrationResult(ws.source.name, target.table, strategy, not apply_ok)

    say(f"== 1. Detect: aws_dynamodb_table_item in {ws.source.name} (configuration and state)")
    findings = _detect_all(ws, target.count_attribute)
    mine = [f for f in findings if f.table in (target.table, None) or _counts(f)]
    _report_others(findings, mine, say)
    result.findings, result.found = mine, [f.address for f in mine]
    acting = [f for f in mine if not (strategy == "ignore_changes" and f.protected)]
    if not acting:
        result.message = _safe_message(ws.source, target, mine)
        say(result.message)
        return result

    say("== 2. Protect: the live count beside the configured one")
    result.count_before = _live_count(target)
    _require_live_item(result.count_before, acting, target)
    say(findings_table(mine, result.count_before, target.count_attribute))

    say(f"== 3. Change ({strategy})")
    change = plan_change(acting, strategy, root=ws.source)
    result.diff = change.diff
    result.changed_files = [relative_path(p, ws.source) for p in change.files]
    say(change.diff or "(no file changes)")
    for note in change.notes:
        say(f"note: {note}")

    say("== 4. Prove: terraform plan must leave every table item alone")
    if strategy == "state_rm":
        say("(state rm + deleting the block forgets the item exactly as a `removed` block does;")
        say(" that equivalent is what this plan proves, before the state is touched)")
    result.plan = prove(ws, change.proof_files)
    say(str(result.plan))
    if strategy == "state_rm":
        result.state_rm_output = ws.state_rm(change.state_rm, dry_run=True)
        say(result.state_rm_output.rstrip())

    if not apply_ok:
        ws.plan_path.unlink(missing_ok=True)
        result.init = counter.init_step(target, dry_run=True).to_dict()
        result.count_after = _live_count(target)
        result.message = (
            f"DRY RUN: {strategy} would take {', '.join(change.resources)} out of the way of "
            f"`terraform apply`; the plan proves no table item is written or deleted. Nothing "
            f"was written. To migrate: -p dry_run False -p confirm {target.table}"
        )
        say(result.message)
        return result

    backup = None
    if result.count_before is not None:
        backup = itemfile.backup_item(target, reason=f"before 05_migrate ({strategy})")
        result.backup_path = str(backup.path)
        say(f"Backed up the live item ({target.count_attribute} = {backup.count}) to {backup.path}")

    say("== 5. Apply")
    if strategy == "state_rm":
        planned = _state_rm_and_write(ws, change, result, say)
    else:
        for path, text in change.files.items():
            _write_text(Path(path), text)
        ws.sync()
        planned = result.plan.exit_code == 2
    _apply_step(ws, result, "migration", planned, target, backup, say)
    result.migrated = True

    say(f"== 6. Verify: {verify_applies} more apply(s), the count read after each")
    for n in range(1, verify_applies + 1):
        if result.restored_from_backup:
            break
        ws.sync()
        _apply_step(ws, result, f"verify {n}", None, target, backup, say)
    result.init = counter.init_step(target, dry_run=False, confirm=target.table).to_dict()
    say(f"init step: {result.init['message']}")
    result.count_after = _live_count(target)
    result.message = _final_message(result, change)
    say(result.message)
    return result


def _strategy_for(source: Path, strategy: str, say: Stream) -> str:
    """The strategy this Terraform can carry out: `removed` needs 1.7 (pins checked first)."""
    if tf.find_terraform() is None:
        return strategy
    version = tfversion.check_pins(source)
    if strategy == "removed" and not tfversion.supports_removed(version):
        shown = ".".join(map(str, version or ()))
        say(f"Terraform {shown} has no `removed` block (1.7+): using strategy state_rm instead.")
        return "state_rm"
    return strategy


def _detect_all(ws: Workspace, count_attribute: str) -> list[Finding]:
    if tf.find_terraform() is None:
        return _detect_without_terraform(ws.source, count_attribute)
    ws.sync()
    try:
        ws.init()
    except TerraformError as exc:
        raise tfversion.pin_error_from_init(exc, ws.source) from exc
    return _detect(ws, count_attribute)


def _counts(f: Finding) -> bool:
    """An item that writes a number into any table: it resets that count on every apply."""
    return bool(stackread.numeric_attributes(f.recorded or f.item, set(f.key or {})))


def _report_others(findings: Sequence[Finding], mine: Sequence[Finding], say: Stream) -> None:
    """Items of other tables that write no number: reported, never silently skipped."""
    for f in findings:
        if f not in mine:
            say(
                f"Reported, not changed: {f.address} writes {f.table}'s item {f.key_label}, "
                "which holds no number (not a counter)."
            )


def _require_live_item(count: int | None, acting: Sequence[Finding], target: Target) -> None:
    """The state says the item exists: if it cannot be read, it cannot be backed up, so
    nothing (no file, no state) is changed."""
    applied = [f.address for f in acting if f.in_state and f.table == target.table]
    if count is None and applied:
        raise StackMismatchError(
            f"The state holds {', '.join(applied)}, but {target.table} has no item "
            f"{target.key_label}: it cannot be backed up, so nothing was changed.",
            hint="check the key (02_status shows the table's key schema and items), "
            "then run 05_migrate again.",
        )


def _safe_message(source: Path, target: Target, findings: Sequence[Finding]) -> str:
    if findings:
        return (
            f"Already safe: {', '.join(f.address for f in findings)} ignore(s) changes to the "
            f"item, so `terraform apply` does not write {target.table}'s count back. Nothing to "
            "do for ignore_changes; strategy removed would take it out of Terraform entirely."
        )
    return (
        f"Already safe: no aws_dynamodb_table_item in {source} (configuration or state) "
        f"manages {target.table}. Nothing to migrate: `terraform apply` there cannot reset "
        "the count."
    )


def _state_rm_and_write(
    ws: Workspace, change: Change, result: MigrationResult, say: Stream
) -> bool:
    """The real `terraform state rm` (its -dry-run ran in the proof step), the block
    removed, then a proof of the final configuration; if that fails, the state and the
    files are put back. Returns whether the proven plan has changes to apply."""
    original_state = ws.state_pull()
    removed = ws.state_rm(change.state_rm, dry_run=False)
    result.state_rm_output += removed
    say(removed.rstrip())
    for path, text in change.files.items():
        _write_text(Path(path), text)
    try:
        final = prove(ws)
    except TerraformError:
        for path, text in change.originals.items():
            _write_text(Path(path), text)
        ws.state_push(original_state)
        ws.sync()
        say("The final plan was unsafe: the state and the files were put back as they were.")
        raise
    result.plan = final
    say(str(final))
    return final.exit_code == 2


def _apply_step(
    ws: Workspace,
    result: MigrationResult,
    label: str,
    planned: bool | None,
    target: Target,
    backup: itemfile.ItemBackup | None,
    say: Stream,
) -> None:
    """One apply (the proven plan, or plan + apply-if-changes), then the count check."""
    if planned is None:
        changed = ws.converge()
    elif planned:
        ws.apply_plan()
        changed = True
    else:
        ws.plan_path.unlink(missing_ok=True)
        changed = False
    count = _live_count(target)
    result.applies.append({"apply": label, "changed": changed, "count": count})
    shown = "missing" if count is None else count
    say(f"after apply ({label}): {target.count_attribute} = {shown}")
    _check_count(result, count, target, backup, say)


def _check_count(
    result: MigrationResult,
    count: int | None,
    target: Target,
    backup: itemfile.ItemBackup | None,
    say: Stream,
) -> None:
    before = result.count_before
    if before is None or (count is not None and count >= before) or backup is None:
        return
    banner = "!" * 78
    say(banner)
    say(
        f"!!! COUNT LOST: {target.count_attribute} was {before}, the apply left {count}. "
        "Restoring it now"
    )
    say(f"!!! from the backup {backup.path}.")
    restored = itemfile.restore_item(
        target,
        backup.path,
        dry_run=False,
        confirm=target.table,
        backup_dir=Path(backup.path).parent.parent,  # beside the pre-migration backup
    )
    result.restored_from_backup = str(backup.path)
    say(f"!!! {restored.message}")
    say("!!! The migration did NOT protect the count: do not run terraform apply on this")
    say("!!! folder until the configuration is fixed by hand (02_status, then 05_migrate).")
    say(banner)


def _final_message(result: MigrationResult, change: Change) -> str:
    if result.restored_from_backup:
        return (
            f"COUNT LOST AND RESTORED: an apply reset {result.table}'s count; it was put back "
            f"from {result.restored_from_backup}. Do not apply this configuration again before "
            "fixing it."
        )
    counts = [a["count"] for a in result.applies if a["count"] is not None]
    return (
        f"Migrated ({result.strategy}): {', '.join(change.resources)} no longer writes the "
        f"count. {len(result.applies)} apply(s) done, count {result.count_before} before, "
        f"{counts or 'unchanged'} after each, {result.count_after} now. Commit "
        f"{', '.join(result.changed_files) or 'the state change'}."
    )


# --------------------------------------------------------------------------- helpers


def legacy_stack_dir() -> Path:
    """The guide's original configuration (table + item, no lifecycle), kept for tests and
    the reset demonstration."""
    folder = paths.project_root() / LEGACY_STACK
    if not folder.is_dir():
        raise TerraformError(f"The legacy stack {folder} is missing; restore it from git.")
    return folder


LEGACY_TABLE_ADDRESS = "aws_dynamodb_table.API_table"  # in tests/fixtures/legacy_stack


def copy_legacy_stack(dest: str | Path, *, bucket_name: str | None = None) -> Path:
    """A working copy of the legacy stack in dest (the fixture itself is never applied);
    bucket_name goes into terraform.auto.tfvars so copies get tables of their own."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(legacy_stack_dir().glob("*.tf")):
        shutil.copyfile(path, dest / path.name)
    if bucket_name:
        (dest / "terraform.auto.tfvars").write_text(f"bucket_name = {json.dumps(bucket_name)}\n")
    return dest


def demonstrate_reset(
    workdir: str | Path | None = None, *, visits: int = 3, stream: Stream | None = print
) -> dict[str, Any]:
    """Reproduce the guide's reset live on the sandbox: apply the legacy stack (a copy, with
    a table of its own), count `visits` visits, apply again: the count is back to 0.

    workdir=None works in a temporary folder and leaves nothing behind (folder, shadow and
    demo table removed). A given (empty) workdir keeps the applied legacy stack there, so
    05_migrate can be tried on it. Sandbox only. Returns {"before", "after", "reset",
    "visits", "table", "peak", "count_after", "steps": [{title, output, count}], "note",
    "workdir", "cleanup", "live": True}.
    """
    if not aws.is_sandbox():
        raise InvalidInputError(
            "demonstrate_reset applies a throwaway stack: it runs only against the local "
            f"sandbox, and AWS_ENDPOINT_URL is {aws.endpoint_url() or 'not set (real AWS)'}.",
            hint='runbook sandbox up && eval "$(runbook sandbox env)".',
        )
    visits = counter.validate_count(visits, "visits")
    if visits < 1:
        raise InvalidInputError("visits must be at least 1: the reset needs a count to lose.")
    temporary = workdir is None
    folder = Path(tempfile.mkdtemp(prefix="runbook-reset-demo-")) if temporary else Path(workdir)
    if not temporary and folder.exists() and any(folder.iterdir()):
        raise InvalidInputError(f"workdir {folder} is not empty; pass a new or empty folder.")
    bucket = f"reset-demo-{uuid.uuid4().hex[:8]}.example.com"
    copy_legacy_stack(folder, bucket_name=bucket)
    target = Target(
        table=f"{bucket}-VisitorCount",
        endpoint=aws.endpoint_url(),
        region=aws.session().region_name,
    )
    lines: list[str] = []

    def tee(line: str) -> None:
        lines.append(line)
        if stream:
            stream(line)

    ws = workspace(folder, stream=tee)
    item_block = (folder / "dynamodb.tf").read_text()
    start, end = locate_block(item_block, ITEM_TYPE, "visitor_count")
    steps = [
        {
            "title": "The guide's configuration: the table AND its item in Terraform",
            "output": item_block[start:end],
            "count": None,
        }
    ]
    try:
        ws.sync()
        ws.init()
        lines.clear()
        ws.apply_new({LEGACY_TABLE_ADDRESS: target.table})
        steps.append(
            {
                "title": "terraform apply: the first deploy",
                "output": _apply_lines(lines),
                "count": _live_count(target),
            }
        )
        for _ in range(visits):
            count = counter.increment(target)
        steps.append(
            {
                "title": f"{visits} visits: the Lambda's UpdateItem ADD viewCount :one",
                "output": f"viewCount = {count}",
                "count": count,
            }
        )
        lines.clear()
        ws.apply()
        after = _live_count(target)
        steps.append(
            {
                "title": "terraform apply: the next deploy; the visits are gone",
                "output": _apply_lines(lines),
                "count": after,
            }
        )
    finally:
        if temporary:
            ws.discard()
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(Exception):
                counter.dynamodb(target).delete_table(TableName=target.table)
    cleanup = (
        "temporary folder, shadow workspace and demo table removed"
        if temporary
        else f"{folder} keeps the applied legacy stack: try 05_migrate on it"
    )
    return {
        "live": True,
        "before": count,
        "after": after,
        "reset": after is not None and after < count,
        "visits": visits,
        "peak": count,
        "count_after": after,
        "table": target.table,
        "workdir": None if temporary else str(folder),
        "steps": steps,
        "note": f"Live on the sandbox: the guide's configuration, {visits} visits, one more "
        f"apply; viewCount {count} -> {after}. ({cleanup}.)",
        "cleanup": cleanup,
    }


def _apply_lines(lines: Sequence[str]) -> str:
    keep = [ln for ln in lines if ITEM_TYPE in ln or ln.startswith("Apply complete")]
    return "\n".join(keep)
