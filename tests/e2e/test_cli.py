"""The command line: bad input gives a clear message, a non-zero exit, and writes nothing."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from runbook_lib import aws, cli
from runbook_lib.aws import counter
from runbook_lib.notebook import runner
from tests import stepnb
from tests.terminal import interruptible

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_notebook(tmp_path, capsys):
    code = cli.main(["run", "99_nope", "--out", str(tmp_path)])
    assert code == 2
    assert "No notebook named '99_nope'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_unknown_parameter_is_refused_before_running(tmp_path, capsys):
    code = cli.main(["run", "02_status", "-p", "tabel_name", "x", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "Unknown parameter(s) for 02_status: tabel_name" in err and "table_name" in err
    assert not any(tmp_path.iterdir())


def test_badly_typed_parameter(tmp_path, capsys):
    code = cli.main(["run", "01_init", "-p", "dry_run", "maybe", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "dry_run must be True or False, got 'maybe'. Nothing ran." in err, err
    assert "bool" not in err, "the type in plain words, not its annotation"
    assert not any(tmp_path.iterdir())


def test_secret_looking_parameter_is_refused(tmp_path, capsys):
    code = cli.main(
        ["run", "02_status", "-p", "table_name", "AKIAABCDEFGHIJKLMNOP", "--out", str(tmp_path)]
    )
    assert code == 2
    assert "looks like a credential" in capsys.readouterr().err


@pytest.mark.notebook
def test_run_exit_codes_through_the_console_script(target, ddb, tmp_path):
    counter.init_counter(target, initial=1, ddb=ddb)
    exe = Path(sys.executable).with_name("runbook")
    proc = subprocess.run(
        [str(exe), "run", "02_status", "-p", "table_name", target.table, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # the table has no PITR and no backup: warnings only, still healthy
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "02_status: OK" in proc.stdout
    assert "[WARN] point-in-time recovery" in proc.stdout
    # the first screen: the state, the verdict, then the count
    first = proc.stdout.splitlines()[:3]
    assert first[0].startswith("02_status: OK (exit 0") and "  count: 1" in first, first


def test_list_shows_notebooks(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == runner.available_notebooks()
    # one line each: the name, then what it does (the title, without its "NN · ")
    assert re.fullmatch(r"02_status +Status check", lines[2]), lines
    assert re.fullmatch(r"07_recover +Recover a reset count from CloudWatch", lines[-1]), lines
    assert all(len(line.split(None, 1)) == 2 and "·" not in line for line in lines), lines


# ---- the terminal summary -------------------------------------------------------------------

LONG_COMMAND = (
    "runbook run 03_set_count -p table_name resume.example.com-VisitorCount -p new_value 100 "
    "-p allow_decrease True -p dry_run False -p confirm resume.example.com-VisitorCount "
    "-p reason 'restore after incident 42'"
)


def test_summary_never_cuts_a_command_the_user_must_copy():
    undo = "aws dynamodb put-item --table-name T --item file://" + "b" * 150 + ".json"
    outcome = runner.RunOutcome(
        name="03_set_count",
        exit_code=0,
        out_dir="r",
        notebook_path="r/n.ipynb",
        html_path="r/n.html",
        result_path="r/result.json",
        result={
            "message": f"DRY RUN: would set it. Nothing was written.\nTo apply: {LONG_COMMAND}",
            "undo_command": undo,
            "undo_runbook": LONG_COMMAND + " -p undo yes",
            # nested (the onboarding's result holds a set's result): cut, commands kept whole
            "set": {"old": 1, "new": 2, "pad": "x" * 200, "undo_runbook": LONG_COMMAND},
        },
    )
    text = outcome.summary()
    assert f"To apply: {LONG_COMMAND}\n" in text
    assert f"undo_command: {undo}\n" in text
    assert f"undo_runbook: {LONG_COMMAND} -p undo yes\n" in text
    assert f"set.undo_runbook: {LONG_COMMAND}\n" in text
    assert "… (whole in result.json)" in text, "only the nested value is shortened"


# ---- --out s3://: checked before running, a failed upload keeps the report ------------------


def _temp_report_dirs(name: str) -> set[Path]:
    """Report folders of notebook `name` in a folder of the temp dir (where s3:// runs used
    to stage their reports)."""
    return set(Path(tempfile.gettempdir()).glob(f"*/2*-{name}"))


@pytest.fixture
def reports(tmp_path, monkeypatch):
    """Where a run writes its local report folder (also an s3:// run's, before upload)."""
    folder = tmp_path / "reports"
    monkeypatch.setenv("RUNBOOK_REPORTS", str(folder))
    return folder


def test_unwritable_s3_out_is_refused_before_anything_runs(moto_url, reports, capsys):
    bucket = f"missing-{uuid.uuid4().hex[:8]}"
    code = cli.main(["run", "02_status", "-p", "table_name", "x", "--out", f"s3://{bucket}/p"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert f"Cannot write reports to s3://{bucket}/p" in err and "nothing ran" in err
    assert "Traceback" not in err
    assert not reports.exists(), "no report folder where nothing ran"


def test_s3_out_without_a_bucket_is_bad_usage(reports, capsys):
    assert cli.main(["run", "02_status", "--out", "s3:///prefix"]) == 2
    assert "names no bucket" in capsys.readouterr().err
    assert not reports.exists()


@pytest.mark.notebook
def test_uploaded_report_names_no_local_path(live42, reports, capsys):
    s3 = aws.client("s3")
    bucket = f"reports-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    before = _temp_report_dirs("02_status")
    code = cli.main(
        ["run", "02_status", "-p", "table_name", live42.table, "--out", f"s3://{bucket}/daily"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == [
        "02_status.html",
        "02_status.ipynb",
        "result.json",
    ], "the write check's marker is gone"
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        for local in (str(reports), str(ROOT), tempfile.gettempdir() + "/"):
            assert local not in body, f"{key} names {local}"
    assert f"report: s3://{bucket}/daily/" in out
    assert not any(reports.rglob("*")), "the local copy goes once uploaded"
    assert _temp_report_dirs("02_status") <= before, "no temporary folder left behind"


@pytest.mark.notebook
def test_failed_upload_keeps_the_local_report(moto_url, reports, tmp_path, capsys):
    """The bucket passes the check, then goes away while the notebook runs (the notebook
    deletes it): a real failed upload, no stub."""
    s3 = aws.client("s3")
    bucket = f"gone-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    path = stepnb.write(tmp_path / "nb")
    before = _temp_report_dirs("90_steps")
    argv = ["run", str(path), "-p", "action", "delete_bucket", "-p", "bucket", bucket]
    code = cli.main([*argv, "--out", f"s3://{bucket}/p"])
    captured = capsys.readouterr()
    assert code == 1, captured.out + captured.err
    assert f"upload to s3://{bucket}/p failed (NoSuchBucket" in captured.out
    kept = [p for p in reports.iterdir() if p.is_dir()]
    assert len(kept) == 1 and f"the report is kept at {kept[0]}" in captured.out
    assert sorted(p.name for p in kept[0].iterdir()) == [
        "90_steps.html",
        "90_steps.ipynb",
        "result.json",
    ]
    assert "Traceback" not in captured.out + captured.err
    assert _temp_report_dirs("90_steps") <= before, "no temporary folder left behind"


# ---- Ctrl-C ---------------------------------------------------------------------------------


def _process_gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(ln for ln in status.read_text().splitlines() if ln.startswith("State:"))
    except (FileNotFoundError, StopIteration):
        return True
    return "Z" in state.split()[1]  # a zombie has exited; only its parent's wait is left


@pytest.mark.notebook
def test_ctrl_c_stops_with_one_line_exit_130_and_a_partial_report(moto_url, tmp_path):
    path = stepnb.write(tmp_path / "nb")
    marker = tmp_path / "kernel.pid"
    exe = Path(sys.executable).with_name("runbook")
    argv = [str(exe), "run", str(path), "-p", "action", "block", "-p", "marker", str(marker)]
    proc = subprocess.Popen(
        [*argv, "--out", str(tmp_path / "reports")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    try:
        # the blocking cell writes the marker once it runs: no sleep decides when to press
        deadline = time.monotonic() + 120
        while not marker.exists() or not marker.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, "never reached the cell"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("90_steps: INTERRUPTED in cell 3 "), out
    assert "Traceback" not in err and "Task exception" not in err, err
    assert _process_gone(int(marker.read_text())), "the kernel was left running"
    run_dir = next((tmp_path / "reports").iterdir())
    result = json.loads((run_dir / "result.json").read_text())
    assert result["interrupted"] is True and result["exit_code"] == 130
    page = (run_dir / "90_steps.html").read_text()
    assert "INTERRUPTED" in page[page.index("<body") :][:2000]
    assert "this report is partial" in page
