"""Running `terraform ARGS`: captured or streamed line by line, in a process group of its
own, stopped gracefully on Ctrl-C (one SIGINT, then the group killed)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.environment import terraform_env

Stream = Callable[[str], None]

DEFAULT_TIMEOUT_S = 900.0

# After Ctrl-C: Terraform, sent one SIGINT, finishes the call in flight, writes its state
# and releases its lock; killed (with its providers) if it has not exited by then.
INTERRUPT_GRACE_S = 120.0

STDERR_TAIL_LINES = 25


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
