"""`runbook sandbox drill`, as on-call practises it (separate processes, a sandbox of the
test's own: RUNBOOK_STATE_DIR in a temporary folder).

GIVEN `runbook sandbox up --no-terraform` (14 days of seeded history, quiet for the last 3 h)
WHEN `runbook sandbox drill` plants a reset on its counter
THEN it prints the drill's commands; 02_status exits 3 naming the drop; 07_recover's dry run
exits 3 and the confirmed run exits 0, setting before + visits since; a second drill at once
is refused (exit 2, one line, the fresh-sandbox command) and writes nothing; without a
sandbox, or with one off loopback, the drill exits 2 with one line and sends nothing.
(What 02 says after the repair is left to the status tests.)
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runbook_lib.aws import counter
from runbook_lib.sandbox import provision
from runbook_lib.sandbox import server as sandbox

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = str(Path(sys.executable).with_name("runbook"))
TABLE = "resume.example.com-VisitorCount"
FRESH = "runbook sandbox down && runbook sandbox up"


def _run(args: list[str], env: dict[str, str], timeout: int = 300):
    return subprocess.run(
        [RUNBOOK, *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT
    )


def _clean_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RUNBOOK_"))}
    env.update(
        RUNBOOK_STATE_DIR=str(folder / "state"),
        RUNBOOK_HOME=str(ROOT),
        RUNBOOK_REPORTS=str(folder / "reports"),
        RUNBOOK_BACKUPS=str(folder / "backups"),
    )
    return env


def _exported(text: str) -> dict[str, str]:
    pairs = (line[len("export ") :].partition("=") for line in text.splitlines())
    return {k: v for k, _, v in pairs if k and v} if text else {}


@dataclass(frozen=True)
class Drilled:
    env: dict[str, str]  # a shell after `eval "$(runbook sandbox env)"`
    info: sandbox.SandboxInfo
    out: str  # what `runbook sandbox drill` printed
    before: int
    since: int


def _figure(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in:\n{text}"
    return int(found.group(1).replace(",", ""))


@pytest.fixture(scope="module")
def drilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drilled]:
    folder = tmp_path_factory.mktemp("drill")
    env = _clean_env(folder)
    up = _run(["sandbox", "up", "--no-terraform"], env)
    try:
        assert up.returncode == 0, up.stderr
        shell = {**env, **_exported(up.stdout)}
        state = json.loads(Path(env["RUNBOOK_STATE_DIR"], "sandbox", "sandbox.json").read_text())
        drill = _run(["sandbox", "drill"], env)
        assert drill.returncode == 0, drill.stdout + drill.stderr
        yield Drilled(
            env=shell,
            info=sandbox.SandboxInfo(**state),
            out=drill.stdout,
            before=_figure(r"before\s+([\d,]+):", drill.stdout),
            since=_figure(r"since\s+(\d+) visits", drill.stdout),
        )
    finally:
        _run(["sandbox", "down"], env)


def _notebook(drilled: Drilled, *params: str) -> tuple[int, dict]:
    done = _run(["run", *params, "--no-html"], drilled.env)
    found = re.search(r"result: (\S+result\.json)", done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    return done.returncode, json.loads(Path(found.group(1)).read_text())


def _live(info: sandbox.SandboxInfo) -> int:
    target = provision.sandbox_target(info.url, info.region, info.outputs)
    ddb = provision.sandbox_client(info.url, info.region, "dynamodb")
    return counter.read_count(target, ddb=ddb)


@pytest.mark.slow
def test_the_drill_prints_its_commands_in_order(drilled):
    steps = [
        line.split(". ", 1)[1] for line in drilled.out.splitlines() if re.match(r"\s+\d\. ", line)
    ]
    assert steps == [
        "runbook run 02_status",
        "runbook run 07_recover",
        f"runbook run 07_recover -p dry_run False -p confirm {TABLE}",
        "runbook run 02_status",
    ]
    assert "PutItem" in drilled.out and "terraform apply" in drilled.out
    assert drilled.since == 23 and drilled.before > 1000  # the seeded thousands, and more


@pytest.mark.slow
def test_02_then_07_dry_run_then_07_confirmed_recover_before_plus_visits_since(drilled):
    expected = drilled.before + drilled.since

    code, status = _notebook(drilled, "02_status")
    assert code == 3, status
    verdict = status["verdict"]
    assert "drop" in verdict and re.search(rf"\b{drilled.before:,}\b|\b{drilled.before}\b", verdict)

    code, dry = _notebook(drilled, "07_recover")
    assert code == 3 and not dry["applied"], dry
    assert (dry["before"], dry["after"], dry["live"]) == (drilled.before, 0, drilled.since)
    assert dry["recovered"] == expected

    code, done = _notebook(drilled, "07_recover", "-p", "dry_run", "False", "-p", "confirm", TABLE)
    assert code == 0 and done["applied"], done
    assert done["recovered"] == expected and _live(drilled.info) == expected
    assert done["undo_command"] and done["undo_runbook"]


@pytest.mark.slow
def test_a_second_drill_at_once_is_refused_and_writes_nothing(drilled):
    live = _live(drilled.info)
    again = _run(["sandbox", "drill"], drilled.env)
    assert again.returncode == 2, again.stdout + again.stderr
    assert again.stdout == "" and len(again.stderr.strip().splitlines()) == 1
    assert FRESH in again.stderr and "Nothing was written" in again.stderr
    assert _live(drilled.info) == live


def test_without_a_sandbox_the_drill_exits_2_with_one_line(tmp_path):
    done = _run(["sandbox", "drill"], _clean_env(tmp_path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "No sandbox is running. Start one with: runbook sandbox up"
    ]


def _off_loopback_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if not loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a UDP connect only picks a route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_a_sandbox_off_loopback_is_refused_before_any_request(tmp_path):
    """A moto server answering on a non-loopback address, recorded as the sandbox: the
    drill refuses it (exit 2, one line) and the server receives nothing but the liveness
    check `read_info` makes."""
    address = _off_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    port = sandbox.free_port()
    log = tmp_path / "moto.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", sandbox.MOTO_SERVER_MODULE, "-H", address, "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        url = f"http://{address}:{port}"
        assert _wait_alive(url, server), log.read_text()
        env = _clean_env(tmp_path)
        state = Path(env["RUNBOOK_STATE_DIR"], "sandbox")
        state.mkdir(parents=True)
        info = sandbox.SandboxInfo(url=url, pid=server.pid, outputs={"table_name": TABLE})
        (state / "sandbox.json").write_text(json.dumps(info.__dict__))

        done = _run(["sandbox", "drill"], env)

        assert done.returncode == 2, done.stdout + done.stderr
        assert "not on loopback" in done.stderr and "nothing was written" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        requests = [line for line in log.read_text().splitlines() if '"' in line]
        assert requests and all('"GET /moto-api/ ' in line for line in requests), requests
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_alive(url: str, server: subprocess.Popen) -> bool:
    """The server answers (its start takes a few seconds); False if it exited first."""
    deadline = time.monotonic() + sandbox.READY_TIMEOUT_S
    while time.monotonic() < deadline and server.poll() is None:
        if sandbox.is_alive(url, timeout=0.5):
            return True
        time.sleep(0.1)
    return False
