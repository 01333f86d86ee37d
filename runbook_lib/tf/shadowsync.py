"""Filling a shadow workspace: the stack's folders copied to their places (tf.shadowcopy),
then the override files its backend kind and the sandbox call for (tf.backends,
tf.override). Plain functions of the workspace's settings, so tf.workspace stays the one
place that runs Terraform."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from runbook_lib import paths
from runbook_lib.errors import TerraformError
from runbook_lib.tf import backends, shadowcopy
from runbook_lib.tf.override import (
    prepare_backend,
    prepare_for_sandbox,
    write_backend_override,
    write_sandbox_overrides,
)
from runbook_lib.tf.stackmodel import STATE_FILE


def shadow_dir(source: Path) -> Path:
    """The folder's own shadow: its name made file-name-safe, and a digest of its path."""
    digest = hashlib.sha256(str(source).encode()).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name).strip("_") or "item"
    return paths.state_dir() / "migrate" / f"{name}-{digest}"


def checked_layout(
    source: Path, workdir: Path, top: Path, skipped: Callable[[str], bool]
) -> shadowcopy.Layout:
    """The stack's layout as its files say now; the shadow (its copy of the root at
    `workdir`, below `top`) must have room for it, and lie in none of the folders it copies
    (but in a `skipped` one, such as `.runbook/`: the copy never goes there)."""
    if workdir.resolve() == source.resolve():
        raise TerraformError("The sandbox workdir must not be the source folder.")
    layout = shadowcopy.plan_layout(source)
    if workdir != top / layout.root_rel:
        raise TerraformError(
            f"{source} calls modules outside it ({', '.join(map(str, layout.modules))}) that "
            "this shadow workspace was not made for.",
            hint="run again: the runbook makes the shadow for the stack as it is now.",
        )
    for tree in layout.trees:
        inside = top.resolve() == tree or tree in top.resolve().parents
        if inside and not any(skipped(p) for p in top.resolve().relative_to(tree).parts):
            raise TerraformError(
                f"The runbook's private copy {top} must not be inside {tree}, which it copies.",
                hint="set RUNBOOK_STATE_DIR to a folder outside the stack, then run again.",
            )
    return layout


def mirror(
    layout: shadowcopy.Layout,
    top: Path,
    keep: Sequence[Path],
    skipped: Callable[[str], bool],
    overlay: Mapping[str, str] | None,
) -> None:
    """The shadow made afresh (the `keep` paths kept), every folder of the layout copied
    to its place, `overlay` {absolute path of a user's file: text} on top."""
    top.mkdir(parents=True, exist_ok=True)
    shadowcopy.clear(top, keep)
    for tree in layout.trees:
        shadowcopy.copy_tree(tree, layout.shadow_path(top, tree), skipped)
    for path, text in (overlay or {}).items():
        layout.shadow_path(top, Path(path)).write_text(text)


def place_overrides(
    layout: shadowcopy.Layout,
    top: Path,
    workdir: Path,
    backend: backends.Backend,
    sandbox_endpoint: str | None,
    state_at: Path | None,
    force_region: str | None = None,
) -> None:
    """The overrides of the shadow. Real AWS (`sandbox_endpoint` None): a local backend at
    `state_at` for a stack with local state, nothing else. The sandbox: every module
    folder's `provider "aws"` blocks rid of the user's credentials and pointed at it; the
    backend local at `state_at`, inside the shadow for one in real AWS, or the stack's own
    S3 backend in the sandbox kept (its credential settings taken out)."""
    kind = backends.backend_kind(backend, sandbox_endpoint is not None)
    if kind == backends.REPLACED:
        state_at = Path(STATE_FILE)  # relative: inside the shadow's root, never the user's
    if sandbox_endpoint is None:
        if kind == backends.LOCAL and state_at is not None:
            write_backend_override(workdir, state_at)
        return
    folders = {}
    for folder in layout.config_dirs:
        copy = layout.shadow_path(top, folder)
        folders[copy] = prepare_for_sandbox(copy)
    if kind == backends.SANDBOX_REMOTE:
        if backend.file is not None:
            prepare_backend(layout.shadow_path(top, backend.file))
        state_at = None
    write_sandbox_overrides(folders, workdir, sandbox_endpoint, force_region, state_at)
