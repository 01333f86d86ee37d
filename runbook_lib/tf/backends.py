"""Where a stack keeps its state, and what the shadow workspace does with that.

Four kinds, one rule each:

- `local`: no backend (or `backend "local"`): the state file in the user's folder, used
  as it is, in the sandbox too (that folder's state *is* its sandbox deployment's);
- `remote`: a backend, run against real AWS: used as it is;
- `sandbox-remote`: an S3 backend whose endpoints are the sandbox (loopback), run against
  the sandbox: used as it is, so the stack's real state in the sandbox's S3 is read and
  written (its credential settings taken out in the private copy, see providerclean);
- `replaced`: any other backend (real AWS S3, HCP Terraform, ...) run against the sandbox:
  a sandbox run must never read or write real remote state, so a local state *inside the
  private copy* stands in for it. That state is not the stack's: `state_is_stacks_own`
  is False, and 05_migrate's proof refuses to go on from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.model import is_loopback
from runbook_lib.tf.hcledit import parse_hcl
from runbook_lib.tf.override import is_user_override
from runbook_lib.tf.stackmodel import STATE_FILE

LOCAL, REMOTE, SANDBOX_REMOTE, REPLACED = "local", "remote", "sandbox-remote", "replaced"
# The S3 backend's endpoint settings: Terraform 1.6+'s `endpoints` object, and the older
# top-level arguments it replaced.
_OLD_ENDPOINTS = ("endpoint", "dynamodb_endpoint", "sts_endpoint", "iam_endpoint")
_SHOWN = ("bucket", "key", "region", "dynamodb_table", "organization", "path")


@dataclass(frozen=True)
class Backend:
    """The root module's backend: `type` None when it configures none (`cloud` for an
    HCP Terraform `cloud` block), its literal settings, and the file that holds it."""

    type: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    file: Path | None = None

    def describe(self) -> str:
        """`backend "s3" (bucket "b", key "k", region "eu-central-1")` (pure)."""
        if self.type is None:
            return "no backend (a local terraform.tfstate)"
        shown = ", ".join(
            f"{k} {self.settings[k]!r}".replace("'", '"')
            for k in _SHOWN
            if isinstance(self.settings.get(k), str)
        )
        name = "the `cloud` block" if self.type == "cloud" else f'backend "{self.type}"'
        where = f" in {self.file.name}" if self.file else ""
        return f"{name}{f' ({shown})' if shown else ''}{where}"


def read_backend(folder: Path, *, with_overrides: bool = True) -> Backend:
    """The backend the root module in `folder` configures; the user's `*_override.tf`
    files count (last one wins, as in Terraform) unless `with_overrides` is False (the
    sandbox leaves them out of its copy). A file that does not parse is Terraform's to
    report: it is passed over here."""
    files = sorted(folder.glob("*.tf"))
    ordered = [p for p in files if not is_user_override(p.name)]
    if with_overrides:
        ordered += [p for p in files if is_user_override(p.name)]
    found = Backend(None)
    for path in ordered:
        try:
            doc = parse_hcl(path.read_text(), str(path))
        except (TerraformError, OSError):
            continue
        for block in doc.get("terraform", []):
            found = _backend_of(block, path) or found
    return found


def _backend_of(block: dict[str, Any], path: Path) -> Backend | None:
    for backend in block.get("backend") or []:
        for kind, settings in backend.items():
            return Backend(kind, _plain(settings), path)
    for settings in block.get("cloud") or []:
        return Backend("cloud", _plain(settings), path)
    return None


def _plain(settings: Any) -> dict[str, Any]:
    return {k: v for k, v in (settings or {}).items() if not k.startswith("__")}


def sandbox_endpoints(settings: dict[str, Any]) -> bool:
    """Whether an S3 backend's settings point it at the sandbox: its S3 endpoint is on
    loopback, and so is every other endpoint it names (a lock table in real AWS is not the
    sandbox's) (pure)."""
    endpoints = settings.get("endpoints")
    if isinstance(endpoints, list):  # written as a block: python-hcl2 gives a list
        endpoints = endpoints[0] if endpoints else {}
    named = {str(k): v for k, v in (endpoints or {}).items() if not str(k).startswith("__")}
    named.update({k: settings[k] for k in _OLD_ENDPOINTS if k in settings})
    s3 = named.get("s3") or named.get("endpoint")
    if not isinstance(s3, str) or not is_loopback(s3):
        return False
    return all(isinstance(v, str) and is_loopback(v) for v in named.values())


def backend_kind(backend: Backend, sandbox: bool) -> str:
    """LOCAL, REMOTE, SANDBOX_REMOTE or REPLACED (the module docstring) (pure)."""
    if backend.type in (None, "local"):
        return LOCAL
    if not sandbox:
        return REMOTE
    if backend.type == "s3" and sandbox_endpoints(backend.settings):
        return SANDBOX_REMOTE
    return REPLACED


def local_state_file(backend: Backend, folder: Path) -> Path:
    """The state file of a LOCAL stack: `backend "local"`'s path, else terraform.tfstate,
    in the user's folder (pure)."""
    path = backend.settings.get("path") if backend.type == "local" else None
    return folder / (path if isinstance(path, str) and path else STATE_FILE)


def why_not_real(kind: str, backend: Backend, state_file: Path | None) -> str:
    """Why a plan that finds no state, or creates the table, does not see the stack's real
    state: one sentence naming the backend (pure)."""
    if kind == REPLACED:
        return (
            f"the stack keeps its state in {backend.describe()}, outside the sandbox; a "
            "sandbox run never reads or writes real remote state, so it planned from an "
            "empty local state in its private copy"
        )
    if kind == SANDBOX_REMOTE:
        return (
            f"the stack's {backend.describe()} is in the sandbox, but holds no state for "
            "this stack there (a wrong bucket or key, or a sandbox started since)"
        )
    if kind == REMOTE:
        return f"the stack's {backend.describe()} holds no state for this stack"
    return f"the stack's state file {state_file} holds no state for the table"
