"""The command line: bad input gives a clear message, a non-zero exit, and writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runbook_lib import cli, counter

ROOT = Path(__file__).resolve().parent.parent


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
    assert "dry_run must be bool" in capsys.readouterr().err
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


def test_list_shows_notebooks(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "01_init" in out and "02_status" in out
