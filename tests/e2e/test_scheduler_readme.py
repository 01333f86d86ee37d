"""The README's scheduler examples, run as written (issue 17): the cron line's command and the
systemd unit's ExecStart, taken from README.md, in a shell pointed at the sandbox, from a
checkout laid out at the place the examples name (/srv/counter-runbook becomes a temporary
folder holding the checkout's notebooks/, terraform/ and .venv).

Cron mails whatever a job prints, whatever its exit code: a healthy morning prints nothing
and exits 0; an unhealthy one (the counter item missing, or a planted drop of the count)
prints the summary and exits 3, so the mail comes and a wrapper can still read the code.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from runbook_lib import aws
from runbook_lib.aws import counter
from runbook_lib.model import Target
from runbook_lib.sandbox import recoverdemo
from runbook_lib.sandbox import server as sandbox
from tests.conftest import ROOT, make_table

pytestmark = pytest.mark.notebook
README = ROOT / "README.md"
SRV = "/srv/counter-runbook"  # where the README's examples keep the checkout


def _block(lang: str) -> str:
    """The README's one fenced block of `lang`."""
    blocks = re.findall(rf"^```{lang}\n(.*?)^```", README.read_text(), flags=re.S | re.M)
    assert len(blocks) == 1, f"{len(blocks)} ```{lang} blocks in the README"
    return blocks[0]


def cron_command(notebook: str) -> str:
    """The command of the cron line that runs `notebook` (the five time fields dropped)."""
    lines = [ln for ln in _block("cron").splitlines() if ln.strip() and not ln.startswith("#")]
    (line,) = [ln for ln in lines if f" run {notebook} " in ln]
    return line.split(None, 5)[5]


def systemd_service() -> dict[str, list[str]]:
    """counter-status.service's [Service] settings (each key: its values in order)."""
    text = _block("ini").split("# /etc/systemd/system/counter-status.timer")[0]
    service = text.split("[Service]", 1)[1]
    settings: dict[str, list[str]] = {}
    for line in service.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """/srv/counter-runbook: the checkout's notebooks and stack, and its .venv."""
    srv = tmp_path / "srv" / "counter-runbook"
    srv.mkdir(parents=True)
    for name in ("notebooks", "terraform"):
        (srv / name).symlink_to(ROOT / name)
    (srv / ".venv").symlink_to(Path(sys.prefix))
    return srv


def sandbox_shell(moto_url: str, table: str, tmp_path: Path) -> dict[str, str]:
    """`eval "$(runbook sandbox env)"` with RUNBOOK_TABLE the table under test, and an AWS
    config that has the `report` profile the examples name (the sandbox's keys, which the
    environment holds, come first in the standard chain)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RUNBOOK_"))}
    env.update(sandbox.SandboxInfo(url=moto_url, pid=0, outputs={"table_name": table}).env())
    config = tmp_path / "aws"
    config.mkdir(exist_ok=True)
    (config / "config").write_text(f"[profile report]\nregion = {sandbox.REGION}\n")
    (config / "credentials").write_text("")
    env.update(
        AWS_CONFIG_FILE=str(config / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(config / "credentials"),
        RUNBOOK_STATE_DIR=str(tmp_path / "state"),
    )
    return env


def run_shell(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def healthy_table(ddb) -> str:
    table = make_table(ddb)
    counter.init_counter(Target(table=table, endpoint=os.environ["AWS_ENDPOINT_URL"]), initial=7)
    return table


def unhealthy_table(kind: str, ddb, moto_url: str) -> str:
    if kind == "item-missing":
        return make_table(ddb)  # the table, without the counter item
    # a reset 6 hours ago: the count published 5,000 before it, 0 after, 37 since
    return recoverdemo.plant_demo(f"sched-{uuid.uuid4().hex[:8]}", moto_url).table


def report_keys(bucket: str, prefix: str) -> set[str]:
    s3 = aws.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


@pytest.fixture
def cron_02(checkout: Path) -> tuple[str, str, str]:
    """(the cron line's command for this checkout, its bucket, its prefix); the bucket made."""
    command = cron_command("02_status")
    assert "--quiet" in command and "||" not in command, "a failure must stay a failure"
    bucket, prefix = re.search(r"--out s3://([^/\s]+)/(\S+)", command).groups()
    s3 = aws.client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    assert command.startswith(f"cd {SRV} && ")
    return command.replace(SRV, str(checkout)), bucket, prefix


def test_the_cron_line_is_silent_on_a_healthy_morning(cron_02, ddb, moto_url, tmp_path):
    command, bucket, prefix = cron_02
    before = report_keys(bucket, prefix)
    done = run_shell(command, sandbox_shell(moto_url, healthy_table(ddb), tmp_path), tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), done.stdout + done.stderr
    new = report_keys(bucket, prefix) - before
    assert sorted(k.rsplit("/", 1)[1] for k in new) == [
        "02_status.html",
        "02_status.ipynb",
        "result.json",
    ], "quiet is the terminal only: the report is still uploaded"


@pytest.mark.parametrize("kind", ["item-missing", "planted-drop"])
def test_the_cron_line_mails_the_summary_and_exits_3_on_a_problem(
    kind, cron_02, ddb, moto_url, tmp_path
):
    command, bucket, prefix = cron_02
    table = unhealthy_table(kind, ddb, moto_url)
    done = run_shell(command, sandbox_shell(moto_url, table, tmp_path), tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("02_status: PROBLEM FOUND (exit 3"), done.stdout
    assert lines[1].startswith("  verdict: UNHEALTHY: "), done.stdout
    failed = {
        "item-missing": "[FAIL] counter item present",
        "planted-drop": "[FAIL] no count drop in recent history: count dropped from 5000 to ",
    }[kind]
    assert failed in done.stdout
    assert f"  report: s3://{bucket}/{prefix}/" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("healthy", [True, False], ids=["healthy", "item-missing"])
def test_the_systemd_unit_runs_as_written(healthy, checkout, ddb, moto_url, tmp_path):
    """ExecStart, in WorkingDirectory, with the unit's Environment= (no shell: systemd's
    own splitting, as shlex does for these plain words); exit 3 fails the unit."""
    unit = systemd_service()
    (workdir,), (exec_start,) = unit["WorkingDirectory"], unit["ExecStart"]
    assert workdir == SRV and "--quiet" in exec_start
    env = sandbox_shell(moto_url, healthy_table(ddb) if healthy else make_table(ddb), tmp_path)
    env.update(dict(item.split("=", 1) for item in unit.get("Environment", [])))
    env["RUNBOOK_REPORTS"] = str(tmp_path / "reports")
    argv = shlex.split(exec_start.replace(SRV, str(checkout)))
    done = subprocess.run(argv, env=env, cwd=checkout, capture_output=True, text=True, timeout=300)
    if healthy:
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), done.stderr
    else:
        assert done.returncode == 3, done.stdout + done.stderr
        assert done.stdout.startswith("02_status: PROBLEM FOUND (exit 3")
        assert "[FAIL] counter item present" in done.stdout
    (report,) = (tmp_path / "reports").iterdir()  # written either way, without code
    assert sorted(p.name for p in report.iterdir()) == [
        "02_status.html",
        "02_status.ipynb",
        "result.json",
    ]
