"""Terraform, driven from Python: the binary, the provider mirror, the sandbox copy, outputs.

The stack in terraform/ deploys to real AWS as is. The sandbox never edits it: it copies
the *.tf files into a private workdir under `.runbook/`, adds a generated
`runbook_sandbox_override.tf` that points every AWS endpoint at the moto server, and
applies there, so the user's folder never gets sandbox state or override files.

Offline machines get the AWS provider from a filesystem mirror found on disk (never a
hard-coded path): `terraform_env()` writes a CLI config that installs the mirrored
providers from the mirror and everything else from the registry.

Pure helpers (text builders, JSON shaping, HCL resolution) are kept apart from the few
functions that run subprocesses, so they are unit-tested without a binary.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError, TerraformError

Stream = Callable[[str], None]

OVERRIDE_NAME = "runbook_sandbox_override.tf"
CLI_CONFIG_NAME = "terraform.rc"
MIRROR_CACHE_NAME = "provider-mirror.json"
LAMBDA_SOURCE = Path("lambda") / "visitor_counter.py"
LAMBDA_ZIP = Path("lambda") / "build" / "visitor_counter.zip"
REGISTRY_HOST = "registry.terraform.io"
# Services the stack (and the runbook) touch; each gets the sandbox endpoint. Names are
# the provider's `endpoints` keys.
SANDBOX_SERVICES = (
    "apigatewayv2",
    "cloudwatch",
    "dynamodb",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sns",
    "sts",
)
# moto accepts any key pair; these never leave the subprocess environment.
SANDBOX_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# A user's AWS settings that could make the sandbox apply reach real AWS or a profile.
_REAL_AWS_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
)
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
DEFAULT_TIMEOUT_S = 900.0
# After Ctrl-C: Terraform, sent one SIGINT, finishes the call in flight, writes its state
# and releases its lock; killed (with its providers) if it has not exited by then.
INTERRUPT_GRACE_S = 120.0
STDERR_TAIL_LINES = 25
# Fixed zip metadata so the same source gives the same bytes, hence a stable
# source_code_hash and no spurious Lambda update on apply.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_MODE = 0o644


# --------------------------------------------------------------------------- binary


def find_terraform() -> str | None:
    """The terraform binary: RUNBOOK_TERRAFORM if set (a path or a name on PATH), else PATH."""
    override = os.environ.get("RUNBOOK_TERRAFORM")
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        return shutil.which(override)
    return shutil.which("terraform")


# --------------------------------------------------------------------------- mirror


def os_arch() -> str:
    """Terraform's platform name for this machine, e.g. linux_amd64."""
    system = platform.system().lower()
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )
    return f"{system}_{arch}"


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


def find_provider_mirror(*, refresh: bool = False) -> Path | None:
    """The filesystem mirror root (the folder that CONTAINS registry.terraform.io) that
    holds hashicorp/aws, or None.

    Order: RUNBOOK_TF_MIRROR; the cached answer; Terraform's implied mirror dirs; a bounded
    search of likely roots. Answers are cached in state_dir() (a miss for an hour) because
    the search costs a moment and every Terraform call needs the answer.
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
            return cached or None
    found = next((d for d in implied_mirror_dirs() if is_aws_mirror(d)), None)
    if found is None:
        found = search_mirror()
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


# --------------------------------------------------------------------------- CLI config


def _hcl_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid HCL quoted string


def cli_config_text(mirror: Path, providers: Sequence[str] | None = None) -> str:
    """A Terraform CLI config that installs `providers` from the mirror only, and all other
    providers from their registries.

    Excluding the mirrored providers from `direct` is what makes `init` work offline (no
    registry query for them); leaving other providers on `direct` keeps the stack usable
    where a registry is reachable and someone adds a provider the mirror lacks.
    """
    patterns = list(providers) if providers else [f"{REGISTRY_HOST}/hashicorp/*"]
    listed = ", ".join(_hcl_string(p) for p in patterns)
    return (
        "# Generated by counter-runbook (runbook_lib.tf.terraform); safe to delete.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {_hcl_string(str(mirror))}\n"
        f"    include = [{listed}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{listed}]\n"
        "  }\n"
        "}\n"
    )


def user_cli_config() -> Path | None:
    """The user's own Terraform CLI config, if one is in force and exists."""
    configured = os.environ.get("TF_CLI_CONFIG_FILE")
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_file() else None
    default = Path("~/.terraformrc").expanduser()
    return default if default.is_file() else None


def terraform_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a Terraform subprocess.

    A user's existing CLI config (TF_CLI_CONFIG_FILE or ~/.terraformrc) wins. Otherwise, when
    a provider mirror is found, a generated config in state_dir() points Terraform at it.
    No credentials are ever written to disk: they travel in this environment only.
    """
    env = dict(os.environ if base is None else base)
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    env.setdefault("CHECKPOINT_DISABLE", "1")  # no version check call home
    if user_cli_config() is None:
        mirror = find_provider_mirror()
        if mirror is not None:
            rc = paths.state_dir() / CLI_CONFIG_NAME
            text = cli_config_text(mirror, mirror_providers(mirror))
            if not rc.is_file() or rc.read_text() != text:
                rc.write_text(text)
            env["TF_CLI_CONFIG_FILE"] = str(rc)
    return env


def sandbox_env(endpoint: str, region: str, base: Mapping[str, str] | None = None) -> dict:
    """terraform_env() plus dummy credentials and the endpoint, minus anything that could
    make the provider use a real profile or role."""
    env = terraform_env(base)
    for key in _REAL_AWS_ENV:
        env.pop(key, None)
    env.update(SANDBOX_CREDENTIALS)
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


# --------------------------------------------------------------------------- sandbox copy


def sandbox_override_text(endpoint: str, region: str) -> str:
    """The provider override that points the stack at the sandbox (no credentials in it).

    The backend override keeps state local in the workdir even if the stack grows an S3
    backend: a sandbox apply must never write real remote state.
    """
    width = max(len(s) for s in SANDBOX_SERVICES)
    endpoints = "\n".join(
        f"    {s.ljust(width)} = {_hcl_string(endpoint)}" for s in SANDBOX_SERVICES
    )
    return (
        "# Generated by counter-runbook for the local moto sandbox. Do not copy into\n"
        "# terraform/: it sends every AWS call to a loopback endpoint.\n"
        "terraform {\n"
        '  backend "local" {\n'
        '    path = "terraform.tfstate"\n'
        "  }\n"
        "}\n"
        "\n"
        'provider "aws" {\n'
        f"  region                      = {_hcl_string(region)}\n"
        "  skip_credentials_validation = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_region_validation      = true\n"
        "  s3_use_path_style           = true\n"
        "\n"
        "  endpoints {\n"
        f"{endpoints}\n"
        "  }\n"
        "}\n"
    )


def _is_user_override(name: str) -> bool:
    return name == "override.tf" or name.endswith("_override.tf")


def _tfvars_files(src_dir: Path) -> list[Path]:
    """Variable files Terraform loads automatically, in its precedence order."""
    files = [src_dir / "terraform.tfvars"] if (src_dir / "terraform.tfvars").is_file() else []
    return files + sorted(src_dir.glob("*.auto.tfvars"))


def prepare_workdir(src_dir: Path, workdir: Path, endpoint: str | None, region: str) -> Path:
    """Mirror src_dir's configuration into workdir and write the sandbox override there.

    Copies *.tf (not the user's own *_override.tf) and auto-loaded tfvars, removes stale
    copies, builds the Lambda zip from source into the workdir, and keeps .terraform/ and
    the workdir's state so the next init and apply are quick. With endpoint=None no
    override is written (a plain copy, e.g. to plan against real AWS read-only).
    """
    src_dir, workdir = Path(src_dir), Path(workdir)
    if not any(src_dir.glob("*.tf")):
        raise TerraformError(f"No *.tf files in {src_dir}.", hint="point src_dir at terraform/.")
    if workdir.resolve() == src_dir.resolve():
        raise TerraformError("The sandbox workdir must not be the source folder.")
    workdir.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p for p in sorted(src_dir.glob("*.tf")) if not _is_user_override(p.name)}
    wanted.update({p.name: p for p in _tfvars_files(src_dir)})
    for old in [*workdir.glob("*.tf"), *workdir.glob("*.tfvars")]:
        if old.name not in wanted and old.name != OVERRIDE_NAME:
            old.unlink()
    for name, path in wanted.items():
        _copy_if_changed(path, workdir / name)
    override = workdir / OVERRIDE_NAME
    if endpoint:
        _write_if_changed(override, sandbox_override_text(endpoint, region))
    else:
        override.unlink(missing_ok=True)
    source = src_dir / LAMBDA_SOURCE
    if source.is_file():
        build_lambda_zip(source, workdir / LAMBDA_ZIP)
    elif (src_dir / LAMBDA_ZIP).is_file():
        (workdir / LAMBDA_ZIP).parent.mkdir(parents=True, exist_ok=True)
        _copy_if_changed(src_dir / LAMBDA_ZIP, workdir / LAMBDA_ZIP)
    else:
        raise TerraformError(
            f"Neither {src_dir / LAMBDA_SOURCE} nor a built {src_dir / LAMBDA_ZIP} exists.",
            hint="restore terraform/lambda/visitor_counter.py from git.",
        )
    return workdir


def _copy_if_changed(src: Path, dest: Path) -> None:
    data = src.read_bytes()
    if not dest.is_file() or dest.read_bytes() != data:
        dest.write_bytes(data)


def _write_if_changed(dest: Path, text: str) -> None:
    if not dest.is_file() or dest.read_text() != text:
        dest.write_text(text)


def default_workdir() -> Path:
    return paths.state_dir() / "terraform-sandbox"


# --------------------------------------------------------------------------- Lambda zip


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """A deterministic zip of {archive name: content}: sorted, fixed time and mode (pure)."""
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the building OS
            info.external_attr = (0o100000 | ZIP_FILE_MODE) << 16
            zf.writestr(info, files[name], compresslevel=9)
    return buf.getvalue()


def build_lambda_zip(src: Path | None = None, dest: Path | None = None) -> Path:
    """Build the Lambda deployment zip from visitor_counter.py, byte-for-byte reproducible.

    Terraform compares filebase64sha256(zip) with the deployed code; a zip with build-time
    timestamps would redeploy the function on every apply. The file is only rewritten
    when its bytes change.
    """
    src = Path(src) if src else paths.terraform_dir() / LAMBDA_SOURCE
    dest = Path(dest) if dest else paths.terraform_dir() / LAMBDA_ZIP
    if not src.is_file():
        raise TerraformError(f"Lambda source {src} not found.")
    data = zip_bytes({src.name: src.read_bytes()})
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.is_file() or dest.read_bytes() != data:
        tmp = dest.with_suffix(".zip.tmp")
        tmp.write_bytes(data)
        tmp.replace(dest)
    return dest


# --------------------------------------------------------------------------- running


def error_tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last non-empty lines of Terraform's output: where its error message is (pure)."""
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def run(
    args: list[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    stream: Stream | None = None,
    ok_codes: Sequence[int] = (0,),
    timeout: float = DEFAULT_TIMEOUT_S,
) -> subprocess.CompletedProcess:
    """Run `terraform <args>` in cwd; raise TerraformError unless the exit code is in
    ok_codes (plan -detailed-exitcode exits 2 for "changes present").

    With `stream`, each output line (stdout and stderr) is passed on as it arrives, so a
    notebook or the CLI shows a long apply live.
    """
    binary = find_terraform()
    if binary is None:
        raise TerraformError(
            "No terraform binary found.",
            hint="install Terraform >= 1.7 on PATH or set RUNBOOK_TERRAFORM to its path.",
        )
    cmd = [binary, *args]
    run_env = dict(env) if env is not None else terraform_env()
    shown = "terraform " + " ".join(args)
    try:
        if stream is None:
            proc = _run_captured(cmd, cwd, run_env, timeout)
        else:
            proc = _run_streaming(cmd, cwd, run_env, stream, timeout)
    except subprocess.TimeoutExpired as exc:
        raise TerraformError(f"`{shown}` in {cwd} timed out after {timeout:.0f}s.") from exc
    except OSError as exc:
        raise TerraformError(f"Could not start `{shown}` in {cwd}: {exc}.") from exc
    if proc.returncode not in ok_codes:
        tail = error_tail(proc.stderr or "") or error_tail(proc.stdout or "")
        raise TerraformError(f"`{shown}` failed with exit code {proc.returncode} in {cwd}:\n{tail}")
    return proc


def _run_captured(
    cmd: list[str], cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess:
    """subprocess.run(capture_output=True), with Terraform in its own process group and
    stopped as _stop says on Ctrl-C (subprocess.run would SIGKILL it after 0.25 s,
    leaving its providers running and its state lock file behind)."""
    proc = _popen(cmd, cwd, env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise
    except KeyboardInterrupt:
        _stop(proc, proc.communicate)
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _popen(cmd: list[str], cwd: Path, env: Mapping[str, str], **kw: Any) -> subprocess.Popen:
    """Terraform with its output piped, no stdin, in a session of its own: Ctrl-C reaches
    the runbook only, which then stops Terraform as _stop says."""
    return subprocess.Popen(
        cmd,
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        **kw,
    )


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL Terraform's process group (it and its provider plugins), then reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _stop(proc: subprocess.Popen, wait: Callable[..., Any]) -> None:
    """Ctrl-C while Terraform runs. It runs in a session of its own, so the terminal's
    SIGINT reached only the runbook: Terraform gets exactly one (a second one would make it
    exit at once, "data loss may have occurred"), stops gracefully, saves its state and
    unlocks. Then its group is killed, so no provider outlives it; a second Ctrl-C, or
    INTERRUPT_GRACE_S without an exit, kills it at once. `wait` is proc.communicate when
    its output is captured (a full pipe would block it), else proc.wait."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGINT)
    try:
        wait(timeout=INTERRUPT_GRACE_S)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass
    finally:
        _kill_group(proc)


def _run_streaming(
    cmd: list[str], cwd: Path, env: Mapping[str, str], stream: Stream, timeout: float
) -> subprocess.CompletedProcess:
    proc = _popen(cmd, cwd, env, bufsize=1)
    out: list[str] = []
    err: list[str] = []

    def pump(pipe: Any, sink: list[str]) -> None:
        for line in pipe:
            sink.append(line)
            stream(line.rstrip("\n"))

    threads = [
        threading.Thread(target=pump, args=(proc.stdout, out), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, err), daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise
    except KeyboardInterrupt:
        _stop(proc, proc.wait)  # the pump threads keep reading its output
        raise
    finally:
        for t in threads:
            t.join(timeout=5)
    return subprocess.CompletedProcess(cmd, proc.returncode, "".join(out), "".join(err))


def init(dir: Path, *, env: Mapping[str, str] | None = None, stream: Stream | None = None) -> None:
    """`terraform init`: providers from the mirror (or registry), local or configured backend."""
    run(["init", "-input=false", "-no-color"], dir, env=env, stream=stream)


def apply(dir: Path, *, env: Mapping[str, str] | None = None, stream: Stream | None = None) -> None:
    """`terraform apply -auto-approve -input=false`. Callers decide where it points."""
    run(["apply", "-auto-approve", "-input=false", "-no-color"], dir, env=env, stream=stream)


def converge(
    dir: Path, *, env: Mapping[str, str] | None = None, stream: Stream | None = None
) -> bool:
    """Plan, and apply that saved plan only if it has changes; True if it applied.

    Same result as `apply -auto-approve`, but a no-change run starts the (large) AWS
    provider once instead of twice, which roughly halves a warm sandbox apply.
    """
    with tempfile.TemporaryDirectory(prefix="runbook-plan-") as tmp:
        plan_file = Path(tmp) / "runbook.tfplan"
        proc = run(
            ["plan", "-detailed-exitcode", "-input=false", "-no-color", f"-out={plan_file}"],
            dir,
            env=env,
            stream=stream,
            ok_codes=(0, 2),
        )
        if proc.returncode == 0:
            return False
        run(["apply", "-input=false", "-no-color", str(plan_file)], dir, env=env, stream=stream)
    return True


def lost_answer_collision(exc: BaseException) -> bool:
    """True when an apply failed because a resource it was creating "already exists".

    The provider's SDK retries a call whose answer it did not get. Against a busy moto server
    on a loaded machine the answer to a create is now and then lost after the create took
    effect, and the retry meets what the first attempt made ("Table already exists"): seen
    about once in a hundred sandbox applies. Callers treat it as that only where every name
    in the stack is fresh, so it cannot be a genuine clash.
    """
    return isinstance(exc, TerraformError) and "already exists" in str(exc)


def unwrap_outputs(raw: Mapping[str, Any]) -> dict[str, Any]:
    """{name: {"value": v, "type": ..., "sensitive": ...}} -> {name: v} (pure)."""
    return {name: (spec or {}).get("value") for name, spec in raw.items()}


def output_json(dir: Path, *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The stack's outputs, values unwrapped; {} when nothing is applied yet."""
    proc = run(["output", "-json", "-no-color"], dir, env=env)
    return unwrap_outputs(_parse_json(proc.stdout, "terraform output -json"))


def show_json(dir: Path, *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`terraform show -json` of the current state."""
    proc = run(["show", "-json", "-no-color"], dir, env=env)
    return _parse_json(proc.stdout, "terraform show -json")


def plan_json(dir: Path, *, env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """resource_changes of a fresh plan (`plan -out` then `show -json` of that plan)."""
    with tempfile.TemporaryDirectory(prefix="runbook-plan-") as tmp:
        plan_file = Path(tmp) / "runbook.tfplan"
        run(["plan", "-input=false", "-no-color", f"-out={plan_file}"], dir, env=env)
        proc = run(["show", "-json", "-no-color", str(plan_file)], dir, env=env)
    return list(_parse_json(proc.stdout, "terraform show -json plan").get("resource_changes") or [])


def plan_has_changes(dir: Path, *, env: Mapping[str, str] | None = None) -> bool:
    """`plan -detailed-exitcode`: False when the state matches the configuration."""
    proc = run(
        ["plan", "-detailed-exitcode", "-input=false", "-no-color"],
        dir,
        env=env,
        ok_codes=(0, 2),
    )
    return proc.returncode == 2


def pending_changes(resource_changes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The changes that are not no-ops: [{address, actions}] (pure)."""
    return [
        {"address": rc.get("address"), "actions": list(rc["change"]["actions"])}
        for rc in resource_changes
        if rc.get("change", {}).get("actions") not in (["no-op"], ["read"])
    ]


def _parse_json(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError as exc:
        raise TerraformError(f"{what} did not print JSON: {error_tail(text, 5)}") from exc
    if not isinstance(data, dict):
        raise TerraformError(f"{what} printed {type(data).__name__}, not an object.")
    return data


# --------------------------------------------------------------------------- state shaping


def state_resources(show: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every resource in a `show -json` document, child modules included (pure)."""
    found: list[dict[str, Any]] = []

    def walk(module: Mapping[str, Any]) -> None:
        found.extend(module.get("resources") or [])
        for child in module.get("child_modules") or []:
            walk(child)

    walk(((show or {}).get("values") or {}).get("root_module") or {})
    return found


def table_items_in_state(show: Mapping[str, Any]) -> list[dict[str, Any]]:
    """aws_dynamodb_table_item resources in the state: each one resets its item to the
    configured value on every apply. [{address, table_name, hash_key, item}] (pure)."""
    items = []
    for res in state_resources(show):
        if res.get("type") != "aws_dynamodb_table_item" or res.get("mode", "managed") != "managed":
            continue
        values = res.get("values") or {}
        raw = values.get("item")
        try:
            item = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            item = raw
        items.append(
            {
                "address": res.get("address"),
                "table_name": values.get("table_name"),
                "hash_key": values.get("hash_key"),
                "item": item,
            }
        )
    return items


# --------------------------------------------------------------------------- sandbox apply


def apply_to_sandbox(
    endpoint: str,
    region: str = "us-east-1",
    src_dir: Path | None = None,
    workdir: Path | None = None,
    stream: Stream | None = None,
) -> dict[str, Any]:
    """Apply terraform/ to the moto server at `endpoint`; return the outputs.

    prepare_workdir + init + converge (plan, then apply only when there are changes).
    Works on a copy (prepare_workdir) with dummy credentials in the subprocess environment
    only. The workdir's state is kept: against the same server a re-apply is a no-op, and
    against a fresh server Terraform's refresh finds the resources gone and recreates them.
    """
    from runbook_lib import aws

    if not aws.is_sandbox(endpoint):
        raise TerraformError(
            f"Refusing to apply the sandbox override to {endpoint}: not a loopback address.",
            hint="the sandbox endpoint must be http://127.0.0.1:<port> (runbook sandbox up).",
        )
    src_dir = Path(src_dir) if src_dir else paths.terraform_dir()
    workdir = Path(workdir) if workdir else default_workdir()
    prepare_workdir(src_dir, workdir, endpoint, region)
    env = sandbox_env(endpoint, region)
    init(workdir, env=env, stream=stream)
    converge(workdir, env=env, stream=stream)
    return output_json(workdir, env=env)


# --------------------------------------------------------------------------- HCL definition

_INTERP = re.compile(r"\$\{([^{}]*)\}")
_CALL = re.compile(r"^(\w+)\((.*)\)$", re.S)


def load_config(src_dir: Path | None = None) -> dict[str, list[Any]]:
    """All *.tf in src_dir parsed with python-hcl2 and merged by top-level block type."""
    import hcl2

    src_dir = Path(src_dir) if src_dir else paths.terraform_dir()
    merged: dict[str, list[Any]] = {}
    files = sorted(p for p in src_dir.glob("*.tf") if not _is_user_override(p.name))
    if not files:
        raise TerraformError(f"No *.tf files in {src_dir}.")
    for path in files:
        try:
            with path.open() as fh:
                doc = hcl2.load(fh)
        except Exception as exc:  # lark raises many types; all mean "cannot parse"
            raise TerraformError(f"Cannot parse {path}: {exc}") from exc
        for block, entries in doc.items():
            merged.setdefault(block, []).extend(entries)
    return merged


def variable_values(
    config: Mapping[str, list[Any]],
    src_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Variable values the way Terraform picks them: defaults < TF_VAR_* < terraform.tfvars
    < *.auto.tfvars < overrides."""
    import hcl2

    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for block in config.get("variable", []):
        for name, spec in block.items():
            values[name] = (spec or {}).get("default")
            if f"TF_VAR_{name}" in environ:
                values[name] = _coerce(environ[f"TF_VAR_{name}"], (spec or {}).get("type"))
    if src_dir is not None:
        for path in _tfvars_files(Path(src_dir)):
            with path.open() as fh:
                values.update(hcl2.load(fh))
    values.update(overrides or {})
    return values


def _coerce(raw: str, type_expr: Any) -> Any:
    kind = str(type_expr or "string").strip("${}")
    if kind == "bool":
        return raw.strip().lower() == "true"
    if kind == "number":
        return float(raw) if "." in raw else int(raw)
    if kind == "string":
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def resolve(value: Any, variables: Mapping[str, Any], locals_: Mapping[str, Any]) -> Any:
    """Evaluate the small subset of HCL the table definition uses: literals, var.X,
    local.X, "${...}" templates, replace(), lower() and coalesce() (pure).

    Anything else raises TerraformError naming the expression, rather than guessing.
    """
    if not isinstance(value, str):
        return value
    whole = _INTERP.fullmatch(value)
    if whole:
        return _eval(whole.group(1).strip(), variables, locals_)
    return _INTERP.sub(lambda m: str(_eval(m.group(1).strip(), variables, locals_)), value)


def _eval(expr: str, variables: Mapping[str, Any], locals_: Mapping[str, Any]) -> Any:
    if len(expr) >= 2 and expr[0] == "(" and expr[-1] == ")":  # a parenthesised key: (var.k)
        return _eval(expr[1:-1].strip(), variables, locals_)
    if expr.startswith("var."):
        name = expr[4:]
        if name not in variables:
            raise TerraformError(f"Variable {name!r} is not declared.")
        return variables[name]
    if expr.startswith("local."):
        name = expr[6:]
        if name not in locals_:
            raise TerraformError(f"Local {name!r} is not defined.")
        return resolve(locals_[name], variables, locals_)
    if len(expr) >= 2 and expr[0] == expr[-1] == '"':
        return json.loads(expr)
    if expr in ("true", "false"):
        return expr == "true"
    if expr == "null":
        return None
    if re.fullmatch(r"-?\d+(\.\d+)?", expr):
        return json.loads(expr)
    call = _CALL.match(expr)
    if call:
        name, args = call.group(1), [_eval(a, variables, locals_) for a in _split_args(call[2])]
        if name == "replace" and len(args) == 3:
            return str(args[0]).replace(str(args[1]), str(args[2]))
        if name == "lower" and len(args) == 1:
            return str(args[0]).lower()
        if name == "tostring" and len(args) == 1:
            return str(args[0])
        if name == "tonumber" and len(args) == 1:
            return json.loads(str(args[0]))
        if name == "coalesce":
            return next((a for a in args if a not in (None, "")), None)
    raise TerraformError(f"Cannot evaluate the Terraform expression {expr!r} outside Terraform.")


def _split_args(text: str) -> list[str]:
    """Split function arguments on top-level commas (quotes and parentheses respected)."""
    args, depth, quoted, current = [], 0, False, ""
    for i, ch in enumerate(text):
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            args.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        args.append(current.strip())
    return args


def _merged_locals(config: Mapping[str, list[Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for block in config.get("locals", []):
        merged.update(block)
    return merged


def _find_resource(config: Mapping[str, list[Any]], rtype: str) -> tuple[str, dict] | None:
    for block in config.get("resource", []):
        for name, body in (block.get(rtype) or {}).items():
            return name, body
    return None


def _first(block: Any) -> dict[str, Any]:
    if isinstance(block, list):
        return block[0] if block else {}
    return block or {}


def table_definition(
    src_dir: Path | None = None, variables: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The counter table as terraform/*.tf defines it, as boto3 create_table kwargs.

    Lets a machine without the terraform binary build the SAME table (name, keys, billing,
    SSE, deletion protection) from the same source. Returns {"create_table": kwargs,
    "pitr": bool, "resource": address, "function_name", "metric_namespace",
    "metric_name", "key_name", "key_value", "count_attribute"}.
    """
    src_dir = Path(src_dir) if src_dir else paths.terraform_dir()
    config = load_config(src_dir)
    found = _find_resource(config, "aws_dynamodb_table")
    if found is None:
        raise TerraformError(f"No aws_dynamodb_table resource in {src_dir}/*.tf.")
    name, body = found
    values = variable_values(config, src_dir, variables)
    locals_ = _merged_locals(config)

    def ev(v: Any) -> Any:
        return resolve(v, values, locals_)

    table_name = ev(body.get("name"))
    if not isinstance(table_name, str) or not table_name:
        raise InvalidInputError(f"Table name resolved to {table_name!r}; set bucket_name.")
    key_schema = [{"AttributeName": ev(body["hash_key"]), "KeyType": "HASH"}]
    if body.get("range_key"):
        key_schema.append({"AttributeName": ev(body["range_key"]), "KeyType": "RANGE"})
    attributes = [
        {"AttributeName": ev(a["name"]), "AttributeType": ev(a["type"])}
        for a in body.get("attribute") or []
    ]
    billing = ev(body.get("billing_mode")) or "PROVISIONED"
    create: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": key_schema,
        "AttributeDefinitions": attributes,
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        create["ProvisionedThroughput"] = {
            "ReadCapacityUnits": int(ev(body.get("read_capacity")) or 1),
            "WriteCapacityUnits": int(ev(body.get("write_capacity")) or 1),
        }
    sse = _first(body.get("server_side_encryption"))
    if sse and ev(sse.get("enabled")):
        create["SSESpecification"] = {"Enabled": True}
    protection = ev(body.get("deletion_protection_enabled"))
    if protection is not None:
        create["DeletionProtectionEnabled"] = bool(protection)
    pitr = bool(ev(_first(body.get("point_in_time_recovery")).get("enabled")))
    return {
        "create_table": create,
        "pitr": pitr,
        "resource": f"aws_dynamodb_table.{name}",
        "function_name": _try_eval(locals_.get("function_name"), values, locals_),
        "key_name": _try_eval(locals_.get("key_name"), values, locals_)
        or key_schema[0]["AttributeName"],
        "key_value": _try_eval(locals_.get("key_value"), values, locals_),
        "count_attribute": _try_eval(locals_.get("count_attribute"), values, locals_),
        "metric_namespace": values.get("metric_namespace"),
        "metric_name": values.get("metric_name"),
    }


def _try_eval(value: Any, variables: Mapping[str, Any], locals_: Mapping[str, Any]) -> Any:
    try:
        return resolve(value, variables, locals_)
    except TerraformError:
        return None
