"""The local AWS sandbox: a moto server on loopback, and where its state is kept
(`sandbox.provision` builds the stack in it and seeds it; `provision.up` does both).

State lives in `.runbook/sandbox/`: `moto.pid`, `sandbox.json` (url, outputs) and `env.sh`
(what `runbook sandbox env` prints). The server's data is in memory and ends with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.aws.endpoint import SANDBOX_KEY_ID as DUMMY_KEY_ID  # refused off loopback
from runbook_lib.errors import SandboxError

REGION = "us-east-1"
# moto accepts any key pair; this one is obviously fake, never a real credential.
DUMMY_SECRET = "sandbox-dummy-secret-not-a-real-key-0000"
READY_TIMEOUT_S = 30.0
MOTO_SERVER_MODULE = "runbook_lib.sandbox.motoserver"  # moto.server, one request at a time

Log = Callable[[str], None]


# RUNBOOK_* variables `sandbox env` exports, from the stack's outputs; `--unset` reads
# the same list, so every variable exported is also unset.
OUTPUT_ENV = (
    ("RUNBOOK_TABLE", "table_name"),
    ("RUNBOOK_FUNCTION_NAME", "function_name"),
    ("RUNBOOK_API_ID", "api_id"),
    ("RUNBOOK_METRIC_NAMESPACE", "metric_namespace"),
    ("RUNBOOK_METRIC_NAME", "metric_name"),
)


@dataclass
class SandboxInfo:
    url: str
    pid: int
    region: str = REGION
    terraform: bool = False  # True when terraform/ was applied, False when built from its HCL
    outputs: dict[str, Any] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)

    def env(self) -> dict[str, str]:
        """The environment that points boto3, the AWS CLI and the runbook at the sandbox."""
        env = {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": DUMMY_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET,
        }
        for var, out in OUTPUT_ENV:
            if self.outputs.get(out):
                env[var] = str(self.outputs[out])
        return env


def sandbox_dir() -> Path:
    path = paths.state_dir() / "sandbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_alive(url: str, timeout: float = 1.0) -> bool:
    """The moto server answers on its management API."""
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


def reset_server(url: str, timeout: float = 10.0) -> None:
    """Empty every service of the moto server at url (moto's own reset endpoint)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            resp.read()
    except OSError as exc:
        raise SandboxError(f"Could not reset the moto server at {url}: {exc}.") from exc


def start_server(
    port: int | None = None, log_path: Path | None = None, *, plain_metrics: bool = False
) -> tuple[int, str]:
    """Start moto's server on 127.0.0.1 in its own session (survives this process);
    return (pid, url) once it answers. It is `sandbox.motoserver`: moto's own server
    application, applying one request at a time as DynamoDB applies each write atomically
    (moto's threaded server can lose an UpdateItem ADD to a concurrent one), GetMetricData
    in one pass (`metricindex`; `plain_metrics`: moto's own, for comparisons)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = log_path or sandbox_dir() / "moto.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", MOTO_SERVER_MODULE, "-H", "127.0.0.1", "-p", str(port)),
                *(["--plain-get-metric-data"] if plain_metrics else []),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxError(
                f"The moto server exited with code {proc.returncode} before answering; "
                f"see {log_path}."
            )
        if is_alive(url, timeout=0.5):
            return proc.pid, url
        time.sleep(0.1)
    proc.kill()
    raise SandboxError(f"The moto server did not answer on {url} within {READY_TIMEOUT_S:.0f}s.")


def stop_pid(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after timeout; reaps the child if it is ours."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        if not _pid_exists(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_info() -> SandboxInfo | None:
    """The running sandbox, or None (stale files are cleaned up)."""
    state = sandbox_dir() / "sandbox.json"
    if not state.exists():
        return None
    try:
        info = SandboxInfo(**json.loads(state.read_text()))
    except (ValueError, TypeError):
        state.unlink(missing_ok=True)
        return None
    if _pid_exists(info.pid) and is_alive(info.url):
        return info
    clear_state()
    return None


def clear_state() -> None:
    for name in ("sandbox.json", "moto.pid", "env.sh"):
        (sandbox_dir() / name).unlink(missing_ok=True)


def env_text(info: SandboxInfo) -> str:
    """Shell lines for `eval "$(runbook sandbox env)"`. AWS_PROFILE is unset so a real
    profile can never take over from the sandbox's dummy credentials."""
    lines = ["unset AWS_PROFILE AWS_SESSION_TOKEN"]
    lines += [f"export {k}={v}" for k, v in info.env().items()]
    return "\n".join(lines) + "\n"


def exported_names() -> list[str]:
    """Every variable `runbook sandbox env` can export, whatever the stack's outputs."""
    every_output = {out: "-" for _var, out in OUTPUT_ENV}
    return list(SandboxInfo(url="-", pid=0, outputs=every_output).env())


def unset_text(environ: Mapping[str, str] | None = None) -> str:
    """The shell line for `eval "$(runbook sandbox env --unset)"`: unsets what `sandbox env`
    exports (endpoint, region, dummy keys, RUNBOOK_*), plus any per-service endpoint
    (AWS_ENDPOINT_URL_<SERVICE>) in the environment that points at loopback. Needs no
    running sandbox: a shell keeps the variables after `sandbox down`."""
    from runbook_lib.aws.endpoint import is_sandbox

    environ = os.environ if environ is None else environ
    names = exported_names()
    names += sorted(
        k for k, v in environ.items() if k.startswith("AWS_ENDPOINT_URL_") and is_sandbox(v)
    )
    return f"unset {' '.join(names)}\n"


def write_state(info: SandboxInfo) -> None:
    folder = sandbox_dir()
    (folder / "moto.pid").write_text(f"{info.pid}\n")
    (folder / "sandbox.json").write_text(json.dumps(asdict(info), indent=2) + "\n")
    (folder / "env.sh").write_text(env_text(info))


def apply_stack(
    url: str,
    region: str = REGION,
    *,
    src_dir: Path | None = None,
    workdir: Path | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """sandboxstack.apply_to_sandbox for a moto server that holds nothing else yet (just
    started): if the apply met a resource its own provider's retry had created
    (lostanswer.lost_answer), nothing of anyone's can clash, so the server is reset and
    the stack applied once more. Returns the stack's outputs."""
    from runbook_lib.tf.lostanswer import apply_starting_over
    from runbook_lib.tf.sandboxstack import apply_to_sandbox

    return apply_starting_over(
        lambda: apply_to_sandbox(url, region, src_dir, workdir),
        lambda _exc: reset_server(url),
        log,
        "resetting the new sandbox",
    )


def down(log: Log = print) -> bool:
    """Stop the sandbox; True if one was running."""
    state = sandbox_dir() / "sandbox.json"
    pid_file = sandbox_dir() / "moto.pid"
    pid = None
    if state.exists():
        with contextlib.suppress(ValueError, TypeError, KeyError):
            pid = int(json.loads(state.read_text())["pid"])
    if pid is None and pid_file.exists():
        with contextlib.suppress(ValueError):
            pid = int(pid_file.read_text().strip())
    if pid is None or not _pid_exists(pid):
        clear_state()
        log("No sandbox is running.")
        return False
    stop_pid(pid)
    clear_state()
    log(f"Sandbox stopped (pid {pid}).")
    return True
