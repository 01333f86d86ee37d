"""The provider mirror: a filesystem mirror of hashicorp/aws found on disk (never a
hard-coded path), so an offline machine can `terraform init`.

Order: RUNBOOK_TF_MIRROR; the cached answer; Terraform's implied mirror dirs; a bounded
search of likely roots. The answer is cached in state_dir().
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from runbook_lib import paths
from runbook_lib.errors import TerraformError
from runbook_lib.tf.binary import os_arch

REGISTRY_HOST = "registry.terraform.io"

MIRROR_CACHE_NAME = "provider-mirror.json"

# Terraform's implied local mirror directories (Unix), besides the XDG data dirs.
IMPLIED_MIRROR_DIRS = (
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)

# Where an administrator or an image build is likely to have put a mirror.
SEARCH_ROOTS = ("/opt", "/usr/local", "/usr/share", "/srv", "~")

SEARCH_MAX_DEPTH = 4  # a mirror root deeper than root/a/b/c/d is not "likely"

SEARCH_MAX_ENTRIES = 2000  # don't descend into huge folders (fonts, docs, caches)

_SEARCH_SKIP = {
    "proc",
    "sys",
    "dev",
    "node_modules",
    "site-packages",
    "dist-packages",
    "__pycache__",
    ".git",
    ".terraform",  # project working dirs: symlinks into a mirror, deleted at will
    ".venv",
    ".cache",
    "doc",
    "man",
    "locale",
    "icons",
    "fonts",
}

MIRROR_NEGATIVE_TTL_S = 3600.0  # re-search for a missing mirror at most hourly


def mirror_providers(mirror: Path, platform_name: str | None = None) -> list[str]:
    """Provider addresses ("registry.terraform.io/hashicorp/aws") the mirror holds for this
    platform, in either the unpacked or the packed (zip) layout."""
    platform_name = platform_name or os_arch()
    found: set[str] = set()
    for host_dir in _subdirs(mirror):
        for ns_dir in _subdirs(host_dir):
            for type_dir in _subdirs(ns_dir):
                name = f"terraform-provider-{type_dir.name}_"
                unpacked = any(_has_file(ver / platform_name, name) for ver in _subdirs(type_dir))
                packed = any(
                    f.name.startswith(name) and f.name.endswith(f"_{platform_name}.zip")
                    for f in _files(type_dir)
                )
                if unpacked or packed:
                    found.add(f"{host_dir.name}/{ns_dir.name}/{type_dir.name}")
    return sorted(found)


def _subdirs(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []


def _files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:
        return []


def _has_file(folder: Path, prefix: str) -> bool:
    return any(f.name.startswith(prefix) for f in _files(folder))


def is_aws_mirror(folder: Path) -> bool:
    """True if `folder` is a mirror root holding hashicorp/aws for this platform."""
    return f"{REGISTRY_HOST}/hashicorp/aws" in mirror_providers(folder)


def implied_mirror_dirs() -> list[Path]:
    """Terraform's own implied mirror locations, in its search order."""
    dirs = [Path(d).expanduser() for d in IMPLIED_MIRROR_DIRS[:2]]
    xdg_home = os.environ.get("XDG_DATA_HOME")
    if xdg_home:
        dirs.append(Path(xdg_home) / "terraform" / "plugins")
    xdg_dirs = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    dirs += [Path(d) / "terraform" / "plugins" for d in xdg_dirs.split(":") if d]
    dirs += [Path(d) for d in IMPLIED_MIRROR_DIRS[2:]]
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def search_mirror(
    roots: Iterable[str | Path] = SEARCH_ROOTS, max_depth: int = SEARCH_MAX_DEPTH
) -> Path | None:
    """Bounded walk of likely roots for a folder holding registry.terraform.io/hashicorp/aws.

    Stays on each root's filesystem, skips pseudo and bulky folders, and does not follow
    symlinks, so it finishes in well under a second on an ordinary machine.
    """
    for root in roots:
        base = Path(root).expanduser()
        try:
            root_dev = base.stat().st_dev
        except OSError:
            continue
        base_depth = len(base.parts)
        for current, dirnames, _ in os.walk(base, onerror=lambda _e: None):
            here = Path(current)
            if REGISTRY_HOST in dirnames and is_aws_mirror(here):
                return here
            depth = len(here.parts) - base_depth
            if depth >= max_depth or len(dirnames) > SEARCH_MAX_ENTRIES:
                dirnames[:] = []
                continue
            dirnames[:] = sorted(d for d in dirnames if _walkable(here / d, d, root_dev))
    return None


def _walkable(path: Path, name: str, root_dev: int) -> bool:
    if name in _SEARCH_SKIP:
        return False
    if name.startswith(".") and name not in (".terraform.d", ".local", ".share"):
        return False
    try:
        st = path.lstat()
    except OSError:
        return False
    return st.st_dev == root_dev and not path.is_symlink()


def discover_mirror() -> Path | None:
    """A mirror found on disk, uncached: Terraform's implied mirror dirs, then a bounded
    search of likely roots."""
    found = next((d for d in implied_mirror_dirs() if is_aws_mirror(d)), None)
    return found if found is not None else search_mirror()


def find_provider_mirror(
    *, refresh: bool = False, discover: Callable[[], Path | None] = discover_mirror
) -> Path | None:
    """The filesystem mirror root (the folder that CONTAINS registry.terraform.io) that
    holds hashicorp/aws, or None.

    Order: RUNBOOK_TF_MIRROR; the cached answer; `discover` (discover_mirror: Terraform's
    implied mirror dirs, then a bounded search of likely roots). Answers are cached in
    state_dir() (a miss for an hour) because the search costs a moment and every Terraform
    call needs the answer.
    """
    env = os.environ.get("RUNBOOK_TF_MIRROR")
    if env:
        path = Path(env).expanduser()
        if path.name == REGISTRY_HOST:
            path = path.parent
        if not is_aws_mirror(path):
            raise TerraformError(
                f"RUNBOOK_TF_MIRROR={env} holds no {REGISTRY_HOST}/hashicorp/aws provider "
                f"for {os_arch()}.",
                hint="point RUNBOOK_TF_MIRROR at the folder that contains registry.terraform.io, "
                "or unset it to search.",
            )
        return path
    cache = paths.state_dir() / MIRROR_CACHE_NAME
    if not refresh:
        cached = _read_mirror_cache(cache)
        if cached is not None:
            return cached if isinstance(cached, Path) else None  # "": a fresh cached miss
    found = discover()
    payload = {"path": str(found) if found else None, "checked_at": time.time()}
    with contextlib.suppress(OSError):
        cache.write_text(json.dumps(payload) + "\n")
    return found


def _read_mirror_cache(cache: Path) -> Path | str | None:
    """The cached mirror (Path), "" for a fresh cached miss, None when the cache is unusable."""
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("path"):
        path = Path(data["path"])
        return path if is_aws_mirror(path) else None
    checked = data.get("checked_at")
    if isinstance(checked, (int, float)) and time.time() - checked < MIRROR_NEGATIVE_TTL_S:
        return ""
    return None
