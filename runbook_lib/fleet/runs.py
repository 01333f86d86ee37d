"""The fleet's runs: one `runbook run` child process per counter, at most `jobs` at once.

Why child processes and not `run_notebook` in threads: each run is a kernel, papermill and
nbconvert, whose state (environment variables such as AWS_REGION and AWS_PROFILE, the HTML
exporter, signal handlers) is per process; a child gets its counter's region and profile in
its own environment, a crash or a hung kernel stays in it, and Ctrl-C can be handed to each
run exactly as a terminal hands it to `runbook run`, whose own interrupt path (kernel
killed, partial report marked as interrupted, exit 130) is the tested one.

Each child runs in a process group of its own (a new session): a Ctrl-C in the terminal
reaches the fleet only, which then sends SIGINT to every running child's group, waits for
them to write their partial reports, and kills what is left of a group after GRACE_S (or at
a second Ctrl-C). Runs not started yet are never started. One run's failure stops nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from runbook_lib.fleet.expand import RunSpec

# How long stopped runs get to write their partial reports (a Terraform run in 05_migrate
# is stopped gracefully, which can take a while) before their process groups are killed.
GRACE_S = 60.0
OUTPUT_FILE = "output.txt"  # the child's terminal output, beside its report folder


@dataclass(frozen=True)
class Task:
    spec: RunSpec
    argv: list[str]
    env: dict[str, str]
    folder: Path  # the counter's folder under the fleet's: `runbook run --out` there


@dataclass
class Finished:
    """How one run ended. exit_code None: never started (the fleet was stopped first)."""

    task: Task
    exit_code: int | None
    seconds: float = 0.0
    stopped: bool = False  # the fleet sent it Ctrl-C
    started_at: float = field(default_factory=time.time)


class Children:
    """The running children, by pid, and whether the fleet is stopping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[int, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def run(self, task: Task) -> Finished:
        """Start the child (unless stopping), wait for it, reap it."""
        with self._lock:
            if self.stopping:
                return Finished(task, None)
            try:
                proc = _start(task)
            except OSError as exc:  # this run could not start: its row says why, others go on
                with contextlib.suppress(OSError):
                    (task.folder / OUTPUT_FILE).write_text(f"runbook: could not start: {exc}\n")
                return Finished(task, 1)
            self._live[proc.pid] = proc
        started, at = time.monotonic(), time.time()
        _wait_unreaped(proc)
        with self._lock:  # no longer signalled: its pid is still held by the zombie
            self._live.pop(proc.pid, None)
            stopped = self.stopping
        _signal_group(proc.pid, signal.SIGKILL)  # anything the run left in its group
        code = proc.wait()
        return Finished(task, code, time.monotonic() - started, stopped, at)

    def stop(self) -> None:
        """No new runs; Ctrl-C to every running one, as a terminal would send it."""
        with self._lock:
            self.stopping = True
            for pid in self._live:
                _signal_group(pid, signal.SIGINT)

    def kill(self) -> None:
        with self._lock:
            for pid in self._live:
                _signal_group(pid, signal.SIGKILL)


def _start(task: Task) -> subprocess.Popen[bytes]:
    task.folder.mkdir(parents=True, exist_ok=True)
    with open(task.folder / OUTPUT_FILE, "wb") as out:
        return subprocess.Popen(
            task.argv,
            env=task.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: see the module
        )


def _wait_unreaped(proc: subprocess.Popen[bytes]) -> None:
    """Wait for the child to exit without reaping it, so its pid (the group's id) cannot be
    reused while the group is still signalled. Where waitid is missing, a plain wait."""
    waitid = getattr(os, "waitid", None)
    if waitid is None:
        proc.wait()
        return
    while True:
        try:
            waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
            return
        except InterruptedError:
            continue
        except ChildProcessError:  # already reaped
            return


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def run_all(
    tasks: Sequence[Task], jobs: int, on_done: Callable[[Finished], None] | None = None
) -> tuple[list[Finished], bool]:
    """Run every task, `jobs` at a time; (how each ended, in the tasks' order; whether
    Ctrl-C stopped the fleet). `on_done` hears of each run that ran, as it ends."""
    children = Children()
    futures: dict[Future[Finished], int] = {}
    interrupted = False
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="fleet-run") as pool:
        try:
            for i, task in enumerate(tasks):
                futures[pool.submit(children.run, task)] = i
            pending: set[Future[Finished]] = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    if on_done and future.result().exit_code is not None:
                        on_done(future.result())
        except KeyboardInterrupt:
            interrupted = True
            children.stop()
            _drain(set(futures), children)
    ended = {i: future.result() for future, i in futures.items()}
    unsubmitted = [Finished(task, None) for task in tasks[len(ended) :]]
    return [ended[i] for i in range(len(ended))] + unsubmitted, interrupted


def _drain(pending: set[Future[Finished]], children: Children) -> None:
    """Wait for the stopped runs; kill their groups after GRACE_S or at a second Ctrl-C."""
    deadline, killed = time.monotonic() + GRACE_S, False
    while pending:
        try:
            timeout = None if killed else max(0.0, deadline - time.monotonic())
            _done, pending = wait(pending, timeout=timeout)
            if pending and not killed:
                children.kill()
                killed = True
        except KeyboardInterrupt:  # asked twice: no more waiting
            children.kill()
            killed = True
