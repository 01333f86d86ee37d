"""dynamodump (PyPI) as the reference tool, in its own venv, against the moto server.

dynamodump pins its own boto3, so it lives in `.runbook/bench/dynamodump-venv`, made on
first use from requirements-bench.txt. It is pointed at moto with its local-DynamoDB
options: `--host 127.0.0.1 --port PORT --accessKey/--secretKey` (that sets its endpoint_url
and its 1 s "local" sleeps), with `-r` given so it never asks the EC2 metadata service for
a region, and AWS_EC2_METADATA_DISABLED set besides. Backups run with
`--skipThroughputUpdate`; restores with `--dataOnly` into an existing empty table (without
it dynamodump deletes and recreates the destination table).

Measured as it ships (1.11.1): a single-table backup goes through its worker-pool path
(`args.read_capacity` raises AttributeError, caught), which starts 25 threads one second
apart: 25 s of every backup are that sleep.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench.stats import figure, summary
from runbook_lib import paths
from runbook_lib.sandbox import server as sandbox

REQUIREMENTS = "requirements-bench.txt"
INSTALL_TIMEOUT_S = 600
RUN_TIMEOUT_S = 1800


def venv_dir() -> Path:
    return paths.project_root() / ".runbook" / "bench" / "dynamodump-venv"


def executable() -> Path:
    return venv_dir() / "bin" / "dynamodump"


def ensure_installed(log=print) -> Path:
    """The dynamodump script, installing it into its own venv the first time."""
    exe = executable()
    if exe.exists():
        return exe
    log(f"installing dynamodump into {venv_dir()} (once)...")
    subprocess.run([sys.executable, "-m", "venv", str(venv_dir())], check=True, env=_env())
    pip = venv_dir() / "bin" / "pip"
    requirements = paths.project_root() / REQUIREMENTS
    subprocess.run(
        [str(pip), "install", "--quiet", "-r", str(requirements)],
        check=True,
        timeout=INSTALL_TIMEOUT_S,
        env=_env(),
    )
    return exe


def _env() -> dict[str, str]:
    """Only the sandbox's dummy credentials: no profile, no metadata service."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"}
    env.update(
        AWS_ACCESS_KEY_ID=sandbox.DUMMY_KEY_ID,
        AWS_SECRET_ACCESS_KEY=sandbox.DUMMY_SECRET,
        AWS_DEFAULT_REGION=sandbox.REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def _local_args(url: str) -> list[str]:
    endpoint = urlparse(url)
    if endpoint.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError(f"dynamodump runs against the loopback sandbox only, not {url}")
    return [
        "-r",
        sandbox.REGION,
        "--host",
        endpoint.hostname,
        "--port",
        str(endpoint.port),
        "--accessKey",
        sandbox.DUMMY_KEY_ID,
        "--secretKey",
        sandbox.DUMMY_SECRET,
        "--log",
        "WARNING",
    ]


def _run(args: list[str], cwd: Path) -> float:
    cwd.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [str(executable()), *args],
        cwd=cwd,
        env=_env(),
        check=True,
        timeout=RUN_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def backup(url: str, table: str, dump_dir: Path) -> float:
    """Seconds for `dynamodump -m backup` of table into dump_dir/<table>/."""
    args = ["-m", "backup", "-s", table, "--dumpPath", str(dump_dir), "--skipThroughputUpdate"]
    return _run([*args, *_local_args(url)], dump_dir)


def restore(url: str, source: str, dest: str, dump_dir: Path) -> float:
    """Seconds for `dynamodump -m restore --dataOnly` of dump_dir/<source>/ into dest."""
    args = [
        "-m",
        "restore",
        "-s",
        source,
        "-d",
        dest,
        "--dumpPath",
        str(dump_dir),
        "--dataOnly",
        "--skipThroughputUpdate",
        "--noConfirm",
    ]
    return _run([*args, *_local_args(url)], dump_dir)


def items_in_dump(dump_dir: Path, table: str) -> int:
    """Items dynamodump wrote (its data/NNNN.json pages)."""
    import json

    return sum(
        len(json.loads(page.read_text())["Items"])
        for page in sorted((dump_dir / table / "data").glob("*.json"))
    )


def export_figure(n: int, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """dynamodump's backup time against the export's, round by round."""
    scan_s = [g["scan"]["seconds"] for g in rounds]
    export_s = [g["export"]["seconds"] for g in rounds]
    dd_s = [g["dynamodump"] for g in rounds]
    return figure(
        [d / e for d, e in zip(dd_s, export_s, strict=True)],
        "x (dynamodump seconds / export seconds)",
        target=">= 1.0 (the export is at least as fast as dynamodump)",
        met=lambda m: m >= 1.0,
        items=n,
        dynamodump_s=summary(dd_s, "s"),
        dynamodump_vs_scan_ratio=summary(
            [d / s for d, s in zip(dd_s, scan_s, strict=True)], "x (seconds / floor's)"
        ),
        note=__doc__.split("Measured as it ships")[1].strip(" :\n"),
    )


def restore_figure(n: int, rounds: list[dict[str, float]]) -> dict[str, Any]:
    """dynamodump --dataOnly's restore time against restore_table's, round by round."""
    restore_s = [g["restore"] for g in rounds]
    dd_s = [g["dynamodump"] for g in rounds]
    return figure(
        [d / s for d, s in zip(dd_s, restore_s, strict=True)],
        "x (dynamodump seconds / restore seconds)",
        target=">= 1.0 (the restore is at least as fast as dynamodump)",
        met=lambda m: m >= 1.0,
        items=n,
        dynamodump_s=summary(dd_s, "s"),
        note="dynamodump --dataOnly: no verification, and it drops items still "
        "unprocessed after 6 retries ('Ignoring and continuing')",
    )
