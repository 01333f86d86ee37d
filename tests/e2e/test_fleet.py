"""`runbook fleet run` end to end on the sandbox (issue 19): three counters in two regions,
S and N keys, one with a planted reset, run as the README's systemd unit and cron line are
written (exit 3, then exit 0 and silent once 07_recover, confirmed per counter in a fleet
file of its own, has repaired it); a missing table, an unhealthy stack and a fine counter in
one fleet; Ctrl-C; a bad fleet file.

Cheap by design: the counters are made once per module, the morning fleet runs once and
several tests read it; every run is a real `runbook run` child of the fleet, against the
shared moto server (through a proxy only for the Ctrl-C test, which holds one counter's
requests so that run is provably mid-cell when Ctrl-C comes: events, not time)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from runbook_lib import aws
from runbook_lib.aws import counter
from runbook_lib.model import Target
from runbook_lib.sandbox import recoverdemo
from tests.conftest import ROOT, make_table, scan_for_secrets
from tests.e2e.test_scheduler_readme import SRV, report_keys, run_shell, sandbox_shell
from tests.faultproxy import FaultProxy
from tests.terminal import interruptible

pytestmark = [pytest.mark.notebook, pytest.mark.slow]
README = ROOT / "README.md"
WEST = "us-west-2"  # the second region: a number-keyed counter lives there
WAIT_S = 300  # upper bounds for a run on a loaded machine, never a timing assertion


def readme_block(info: str) -> str:
    """The README's one fenced block whose info string is `info` ("cron fleet")."""
    blocks = re.findall(rf"^```{info}\n(.*?)^```", README.read_text(), flags=re.S | re.M)
    assert len(blocks) == 1, f"{len(blocks)} ```{info} blocks in the README"
    return blocks[0]


def cron_command() -> str:
    (line,) = [ln for ln in readme_block("cron fleet").splitlines() if ln[:1].isdigit()]
    return line.split(None, 5)[5]


def exec_start() -> str:
    service = readme_block("ini fleet").split("# /etc/systemd/system/counter-fleet.timer")[0]
    (line,) = [ln for ln in service.splitlines() if ln.startswith("ExecStart=")]
    return line.removeprefix("ExecStart=")


def fleet_toml(entries: dict[str, dict[str, str]]) -> str:
    return "".join(
        "[[counter]]\n" + "".join(f'{k} = "{v}"\n' for k, v in {"name": name, **e}.items())
        for name, e in entries.items()
    )


@pytest.fixture(scope="module")
def counters(moto_url: str) -> dict[str, dict[str, str]]:
    """home (S key, 7), west (N key in us-west-2, 12), blog (a reset 6 h ago: 5000, 0, 37)."""
    ddb = aws.client("dynamodb")
    home = make_table(ddb, f"fleet-home-{uuid.uuid4().hex[:8]}")
    counter.init_counter(Target(table=home, endpoint=moto_url), initial=7)
    west = f"fleet-west-{uuid.uuid4().hex[:8]}"
    west_ddb = aws.client("dynamodb", aws.session(WEST))
    west_ddb.create_table(
        TableName=west,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    west_ddb.put_item(TableName=west, Item={"id": {"N": "1"}, "visits": {"N": "12"}})
    blog = recoverdemo.plant_demo(f"fleet-blog-{uuid.uuid4().hex[:6]}", moto_url).table
    return {
        "home": {"table_name": home},
        "west": {"table_name": west, "key_value": "1", "region": WEST},
        "blog": {"table_name": blog},
    }


@pytest.fixture(scope="module")
def checkout(counters, tmp_path_factory) -> Path:
    """/srv/counter-runbook: the checkout's notebooks, stack and .venv, and a fleet.toml
    naming the three counters."""
    srv = tmp_path_factory.mktemp("srv") / "counter-runbook"
    srv.mkdir()
    for name in ("notebooks", "terraform"):
        (srv / name).symlink_to(ROOT / name)
    (srv / ".venv").symlink_to(Path(sys.prefix))
    (srv / "fleet.toml").write_text(fleet_toml(counters))
    return srv


@pytest.fixture(scope="module")
def shell(counters, moto_url, tmp_path_factory) -> dict[str, str]:
    """A shell pointed at the sandbox (`eval "$(runbook sandbox env)"`)."""
    return sandbox_shell(moto_url, counters["home"]["table_name"], tmp_path_factory.mktemp("sh"))


def rows_of(fleet_dir: Path) -> dict[str, dict]:
    result = json.loads((fleet_dir / "result.json").read_text())
    return {row["name"]: row for row in result["rows"]}


@pytest.fixture(scope="module")
def morning(checkout, shell, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The README's systemd unit, as written: ExecStart in WorkingDirectory, its
    Environment=; (what it did, the fleet's report folder)."""
    reports = tmp_path_factory.mktemp("reports")
    env = {**shell, "AWS_PROFILE": "report", "RUNBOOK_REPORTS": str(reports)}
    argv = shlex.split(exec_start().replace(SRV, str(checkout)))
    done = subprocess.run(
        argv, env=env, cwd=checkout, capture_output=True, text=True, timeout=WAIT_S
    )
    (fleet_dir,) = reports.iterdir()
    return done, fleet_dir


def test_the_morning_fleet_exits_3_with_the_reset_in_its_summary(morning):
    done, fleet_dir = morning
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("fleet 02_status: PROBLEM FOUND (exit 3, 3 counters, "), lines[0]
    assert lines[0].endswith("1 of 3 counters need attention (blog).")
    assert re.match(r"  PROBLEM FOUND blog +count 37 +UNHEALTHY: count dropped from 5000", lines[1])
    assert lines[-2] == f"  index: {fleet_dir}/index.html"
    assert done.stderr == "" and "Traceback" not in done.stdout


def test_the_morning_index_has_three_correct_rows(morning, counters):
    _done, fleet_dir = morning
    rows = rows_of(fleet_dir)
    assert list(rows) == ["blog", "home", "west"]  # attention first, then the file's order
    home, west, blog = rows["home"], rows["west"], rows["blog"]
    assert (home["state"], home["count"], home["region"]) == ("OK", 7, "us-east-1")
    assert (home["table"], home["key"]) == (counters["home"]["table_name"], "stat=Quantity (S)")
    assert (west["state"], west["count"], west["region"]) == ("OK", 12, WEST)
    assert (west["table"], west["key"]) == (counters["west"]["table_name"], "id=1 (N)")
    assert (blog["state"], blog["exit_code"], blog["count"]) == ("PROBLEM FOUND", 3, 37)
    assert blog["last_reset"].startswith("count dropped from 5000 to 1 at ")
    assert all(r["where"].startswith("sandbox at http://127.0.0.1:") for r in rows.values())
    result = json.loads((fleet_dir / "result.json").read_text())
    assert (result["exit_code"], result["counters"], result["interrupted"]) == (3, 3, False)


def test_each_counter_has_its_report_and_the_index_links_them(morning):
    _done, fleet_dir = morning
    page = (fleet_dir / "index.html").read_text()
    assert page.index("PROBLEM FOUND") < page.index("<table")  # the verdict first
    assert "<script" not in page and not re.search(r'(src|href)="https?:', page)
    links = re.findall(r'href="([^"]+)"', page)
    assert len(links) == 9 and all((fleet_dir / link).is_file() for link in links), links
    for name in ("home", "west", "blog"):
        (report,) = (fleet_dir / name).glob("*-02_status")
        assert sorted(p.name for p in report.iterdir()) == [
            "02_status.html",
            "02_status.ipynb",
            "result.json",
        ]
        assert "status.run(" not in (report / "02_status.html").read_text()  # --no-code
    assert scan_for_secrets(fleet_dir) == []


def test_once_repaired_the_cron_line_is_silent_and_uploads_the_fleet(
    morning, counters, checkout, shell
):
    """07_recover confirmed per counter (a fleet file made for the write), then the README's
    cron line: exit 0, nothing printed, the index and every report in S3."""
    blog = counters["blog"]
    (checkout / "repair.toml").write_text(
        fleet_toml({"blog": {**blog, "confirm": blog["table_name"]}})
    )
    repair = run_shell(
        "runbook fleet run 07_recover repair.toml -p dry_run False --quiet",
        {**shell, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{shell['PATH']}"},
        checkout,
    )
    assert (repair.returncode, repair.stdout, repair.stderr) == (0, "", ""), repair.stdout
    command = cron_command()
    assert "--quiet" in command and "||" not in command and command.startswith(f"cd {SRV} && ")
    bucket, prefix = re.search(r"--out s3://([^/\s]+)/(\S+)", command).groups()
    s3 = aws.client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    before = report_keys(bucket, prefix)
    done = run_shell(command.replace(SRV, str(checkout)), shell, checkout)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), done.stdout + done.stderr
    new = sorted(k.split("/", 2)[2] for k in report_keys(bucket, prefix) - before)
    assert {"index.html", "result.json"} <= set(new) and len(new) == 2 + 3 * 4, new
    assert sorted(n.split("/")[-1] for n in new if n.startswith("blog/")) == [
        "02_status.html",
        "02_status.ipynb",
        "output.txt",
        "result.json",
    ]
    key = next(
        k
        for k in report_keys(bucket, prefix) - before
        if k.endswith("/result.json") and k.count("/") == 2
    )
    result = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert result["exit_code"] == 0 and {r["state"] for r in result["rows"]} == {"OK"}
    assert "repaired" in next(r for r in result["rows"] if r["name"] == "blog")["last_reset"]


LEGACY_TF = """
provider "aws" {{
  region = "us-east-1"
}}

resource "aws_dynamodb_table" "counter" {{
  name         = "{table}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "stat"

  attribute {{
    name = "stat"
    type = "S"
  }}
}}

resource "aws_dynamodb_table_item" "counter" {{
  table_name = aws_dynamodb_table.counter.name
  hash_key   = aws_dynamodb_table.counter.hash_key
  item       = jsonencode({{ stat = {{ S = "Quantity" }}, viewCount = {{ N = "0" }} }})
}}
"""


def legacy_stack(folder: Path, table: str) -> Path:
    """The guide's stack over `table`, applied (its local state holds the item): every
    apply would reset the count."""
    folder.mkdir()
    (folder / "main.tf").write_text(LEGACY_TF.format(table=table))
    item = json.dumps({"stat": {"S": "Quantity"}, "viewCount": {"N": "0"}})
    provider = 'provider["registry.terraform.io/hashicorp/aws"]'
    state = {
        "version": 4,
        "terraform_version": "1.11.0",
        "serial": 1,
        "lineage": "fleet",
        "outputs": {},
        "resources": [
            {
                "mode": "managed",
                "type": "aws_dynamodb_table",
                "name": "counter",
                "provider": provider,
                "instances": [
                    {
                        "schema_version": 1,
                        "attributes": {
                            "name": table,
                            "hash_key": "stat",
                            "range_key": None,
                            "attribute": [{"name": "stat", "type": "S"}],
                        },
                    }
                ],
            },
            {
                "mode": "managed",
                "type": "aws_dynamodb_table_item",
                "name": "counter",
                "provider": provider,
                "instances": [
                    {
                        "schema_version": 0,
                        "attributes": {
                            "table_name": table,
                            "hash_key": "stat",
                            "range_key": None,
                            "item": item,
                        },
                    }
                ],
            },
        ],
    }
    (folder / "terraform.tfstate").write_text(json.dumps(state))
    return folder


def test_a_missing_table_an_unhealthy_stack_and_a_fine_counter(counters, shell, tmp_path):
    legacy_stack(tmp_path / "legacy", counters["home"]["table_name"])
    (tmp_path / "mixed.toml").write_text(
        fleet_toml(
            {
                "gone": {"table_name": f"fleet-gone-{uuid.uuid4().hex[:8]}"},
                "legacy": {"terraform_dir": "legacy"},  # a stack entry: its one item
                "west": counters["west"],
            }
        )
    )
    done = subprocess.run(
        [*RUNBOOK, "fleet", "run", "02_status", "mixed.toml", "--out", "out"],
        env={**shell, "RUNBOOK_HOME": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    ended = done.stdout.splitlines()[:3]  # a progress line per run as it ends
    assert sorted(ln.split(":")[0].split("] ")[1] for ln in ended) == ["gone", "legacy", "west"]
    (fleet_dir,) = (tmp_path / "out").iterdir()
    rows = rows_of(fleet_dir)
    gone, legacy, west = rows["gone"], rows["legacy"], rows["west"]
    assert (gone["state"], gone["counts_as"]) == ("PROBLEM FOUND", 3)
    assert "not found" in gone["verdict"] and gone["table"].startswith("fleet-gone-")
    assert (legacy["state"], legacy["key"], legacy["count"]) == (
        "PROBLEM FOUND",
        "stat=Quantity (S)",
        7,
    )
    assert "aws_dynamodb_table_item.counter" in legacy["verdict"], legacy["verdict"]
    assert (west["state"], west["count"]) == ("OK", 12)
    assert json.loads((fleet_dir / "result.json").read_text())["exit_code"] == 3


RUNBOOK = [sys.executable, "-m", "runbook_lib.cli"]


def test_a_bad_fleet_file_writes_nothing_and_exits_2(counters, shell, tmp_path):
    bad = fleet_toml({"home": {**counters["home"], "tabel_name": "x"}, "west": {}})
    (tmp_path / "bad.toml").write_text(bad)
    done = subprocess.run(
        [*RUNBOOK, "fleet", "run", "02_status", "bad.toml", "--out", "out"],
        env={**shell, "RUNBOOK_HOME": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.splitlines() == [
        "runbook: counter 1 (\"home\"): unknown key 'tabel_name'; did you mean 'table_name'?",
        'runbook: counter 2 ("west") names no table and no stack: give table_name (the DynamoDB '
        "table) or terraform_dir (the folder you run terraform in).",
        "runbook: 2 problems in bad.toml. Next step: fix the fleet file or the command, then run "
        "again; nothing ran, nothing was written.",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def _alive_with(text: str) -> list[str]:
    """Live processes whose command line or environment names `text` (the fleet's runs:
    their --out, their kernels' RUNBOOK_RUN_DIR)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or proc.name == str(os.getpid()):
            continue
        try:
            status = (proc / "status").read_text()
            seen = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in seen and not re.search(r"^State:\s+Z", status, re.M):
            found.append(proc.name)
    return found


def test_ctrl_c_stops_every_run_and_keeps_what_finished(counters, shell, moto_url, tmp_path):
    """jobs 1: `first` finishes; `second` is held inside its first AWS call (the proxy holds
    every request naming its table) when SIGINT reaches the fleet's process group; `third`
    never starts."""
    held, release = threading.Event(), threading.Event()
    west = counters["west"]["table_name"]

    def hold(info) -> None:
        if info.names(west):
            held.set()
            release.wait(WAIT_S)

    (tmp_path / "fleet.toml").write_text(
        fleet_toml(
            {"first": counters["home"], "second": counters["west"], "third": counters["home"]}
        )
    )
    out = tmp_path / "out"
    with FaultProxy(moto_url, on_request=hold) as proxy:
        proc = subprocess.Popen(
            [*RUNBOOK, "fleet", "run", "02_status", "fleet.toml", "--jobs", "1", "--out", str(out)],
            env={**shell, "AWS_ENDPOINT_URL": proxy.url, "RUNBOOK_HOME": str(ROOT)},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own group: the test's Ctrl-C reaches the fleet only
            preexec_fn=interruptible,
        )
        try:
            assert held.wait(WAIT_S), "the second run never asked for its table"
            os.killpg(proc.pid, signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=WAIT_S)
        finally:
            release.set()
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr
    (fleet_dir,) = out.iterdir()
    assert _alive_with(str(fleet_dir)) == [], "a run or its kernel outlived Ctrl-C"
    summary = stdout.splitlines()
    assert summary[0].startswith("[1] first: OK (exit 0, "), stdout
    assert summary[1].startswith("fleet 02_status: INTERRUPTED (exit 130, 3 counters, ")
    assert summary[1].endswith(
        "1 of 3 runs finished, 1 stopped, 1 not started; this index is partial."
    )
    rows = rows_of(fleet_dir)
    assert [(r["name"], r["state"]) for r in rows.values()] == [
        ("second", "INTERRUPTED"),
        ("first", "OK"),
        ("third", "NOT RUN"),
    ]
    assert (fleet_dir / rows["first"]["report"]).is_file()  # what finished is kept, whole
    stopped = json.loads((fleet_dir / rows["second"]["result"]).read_text())
    assert (stopped["interrupted"], stopped["exit_code"]) == (True, 130)
    assert not (fleet_dir / "third").exists()
    result = json.loads((fleet_dir / "result.json").read_text())
    assert (result["exit_code"], result["interrupted"]) == (130, True)
    assert "INTERRUPTED" in (fleet_dir / "index.html").read_text()
