"""Bad input as a user sees it (issue 6, section 3): a representative few refusals of the
catalogue (tests/aws/test_badinput.py) through `runner.run_notebook` and the `runbook`
console script: the summary, the exit code, and nothing written.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runbook_lib.errors import InvalidInputError
from runbook_lib.formats import itemfile
from runbook_lib.notebook import runner
from runbook_lib.steps.common.result import EXIT_PROBLEM
from tests.badinput_cases import Ctx, flip_crc
from tests.badinput_checks import (
    FIX,
    INTACT,
    Folders,
    files,
    make_ctx,
    make_folders,
    snapshot,
    table_snapshot,
)

pytestmark = pytest.mark.badinput
ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = Path(sys.executable).with_name("runbook")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Folders:
    return make_folders(tmp_path, monkeypatch)


# ---- the same refusals as a user sees them: runner summary and exit code -------------------


def run_nb(name: str, params: dict[str, Any], folders: Folders) -> runner.RunOutcome:
    return runner.run_notebook(name, params, folders.reports, html=False)


def assert_failed(outcome: runner.RunOutcome, ename: str, what: str, todo: str) -> None:
    """Exit 1, the failing cell named, the domain error (with its next step) in the summary
    and in result.json."""
    assert outcome.exit_code == runner.EXIT_FAILED, outcome.summary()
    error = outcome.error or ""
    assert error.startswith(f"{ename}: "), error
    assert re.search(what, error, re.S), f"{what!r} not in {error!r}"
    _, _, hint = error.partition(" Next step: ")
    assert hint and re.search(todo, hint), f"no next step matching {todo!r}: {error!r}"
    summary = outcome.summary()
    assert (
        f"error in cell {outcome.failed_cell}: {error}" in summary and "FAILED (exit 1" in summary
    )
    assert json.loads(Path(outcome.result_path).read_text())["error"] == error


def failed_source(outcome: runner.RunOutcome) -> str:
    """The source of the cell the run failed in (from the executed notebook)."""
    nb = json.loads(Path(outcome.notebook_path).read_text())
    cells = [c for c in nb["cells"] if c.get("execution_count") == outcome.failed_cell]
    return "".join(cells[0]["source"]) if cells else ""


@pytest.fixture
def counter_ctx(ddb: Any, moto_url: str, folders: Folders) -> Ctx:
    return make_ctx(ddb, moto_url, "counter", folders)


@pytest.mark.notebook
def test_runbook_run_01_init_bad_table_name(counter_ctx: Ctx, folders: Folders) -> None:
    before = snapshot(counter_ctx)
    outcome = run_nb("01_init", {"table_name": "bad name!", "dry_run": "False"}, folders)
    assert_failed(outcome, "InvalidInputError", r"table_name 'bad name!' is not a valid", FIX)
    assert "nb.start(" in failed_source(outcome), "refused in the setup cell, before any AWS call"
    assert snapshot(counter_ctx) == before and files(folders.backups) == {}


@pytest.mark.parametrize(
    ("name", "params", "what"),
    [
        ("03_set_count", {"new_value": "-5"}, r"new_value must not be negative, got -5"),
        ("03_set_count", {"reason": "reset"}, r"03_set_count needs new_value"),
        ("06_history", {"days": "1000000"}, r"days must be from 1 to 455 .*got 1000000"),
    ],
    ids=["03-negative", "03-missing-new_value", "06-days"],
)
def test_runbook_run_refuses_bad_usage_before_a_kernel(
    name: str, params: dict[str, str], what: str, counter_ctx: Ctx, folders: Folders
) -> None:
    """Refused while checking the parameters: no kernel, no report folder, nothing written
    (run_notebook raises; the CLI turns that into exit 2)."""
    before = snapshot(counter_ctx)
    table = counter_ctx.target.table
    confirmed = {"table_name": table, "dry_run": "False", "confirm": table}
    if name == "06_history":
        confirmed = {"table_name": table}
    with pytest.raises(InvalidInputError, match=what):
        run_nb(name, {**confirmed, **params}, folders)
    assert not folders.reports.exists(), "nothing ran: no report folder"
    assert snapshot(counter_ctx) == before
    assert files(folders.backups) == {}, "no item backup and no audit line"


@pytest.mark.notebook
@pytest.mark.parametrize(
    ("params", "refused", "command"),
    [
        (
            {"new_value": "0"},
            r"Refusing to lower viewCount in \S+ from 10 \(live\) to 0 \(new_value\): "
            r"10 counted visits would be lost\. Nothing was written\.",
            r"-p new_value 0 -p allow_decrease True -p dry_run False -p confirm {t} ",
        ),
        (
            {"new_value": "20", "confirm": "prod-VisitorCount"},
            r"Refusing to write: confirm must equal the table name '\S+', "
            r"got 'prod-VisitorCount'\. Nothing was written\.",
            r"-p new_value 20 -p dry_run False -p confirm {t} ",
        ),
        (
            {"new_value": "20", "expected_current": "4"},
            r"The count moved: expected 4, live value is 10\. Nothing was written\.",
            r"-p new_value 20 -p expected_current 10 -p dry_run False -p confirm {t} ",
        ),
    ],
    ids=["decrease", "confirm-mismatch", "conflict"],
)
def test_runbook_run_03_refused_write_is_one_line_and_exit_3(
    params: dict[str, str], refused: str, command: str, counter_ctx: Ctx, folders: Folders
) -> None:
    """A refused write is a clean outcome: exit 3, what was refused and the exact command
    that would do it, no failed cell, the table and the backups untouched."""
    before = snapshot(counter_ctx)
    table = counter_ctx.target.table
    base = {"table_name": table, "reason": "bad-input test", "dry_run": "False", "confirm": table}
    outcome = run_nb("03_set_count", {**base, **params}, folders)
    assert outcome.exit_code == EXIT_PROBLEM, outcome.summary()
    assert outcome.error is None and outcome.failed_cell is None
    summary = outcome.summary()
    assert "error in cell" not in summary and "Traceback" not in summary
    assert re.search(rf"^  refused: {refused}$", summary, re.M), summary
    expected = f"runbook run 03_set_count -p table_name {table} " + command.format(t=table)
    assert outcome.result["command"].startswith(expected)
    assert f"  command: {outcome.result['command']}\n" in summary, "shown whole"
    assert snapshot(counter_ctx) == before
    assert files(folders.backups) == {}, "no item backup and no audit line"


@pytest.mark.notebook
def test_runbook_run_04_unknown_action(counter_ctx: Ctx, folders: Folders) -> None:
    before = snapshot(counter_ctx)
    params = {"table_name": counter_ctx.target.table, "action": "bakup"}
    outcome = run_nb("04_backup_restore", params, folders)
    assert_failed(
        outcome, "InvalidInputError", r"Unknown action 'bakup'\. Valid: backup, restore, list", FIX
    )
    assert snapshot(counter_ctx) == before and files(folders.backups) == {}


@pytest.mark.notebook
def test_runbook_run_04_corrupted_export_confirmed(counter_ctx: Ctx, folders: Folders) -> None:
    damaged = counter_ctx.variant("crc", flip_crc)
    before = snapshot(counter_ctx)
    table = counter_ctx.target.table
    params = {"table_name": table, "action": "restore", "backup_path": str(damaged)}
    outcome = run_nb("04_backup_restore", {**params, "dry_run": "False", "confirm": table}, folders)
    assert_failed(outcome, "BackupFileError", r"crc\.jsonl\.gz is not an intact gzip file", INTACT)
    assert snapshot(counter_ctx) == before and files(folders.backups) == {}


@pytest.mark.notebook
def test_runbook_run_05_unknown_strategy(counter_ctx: Ctx, folders: Folders) -> None:
    stack = folders.src / "stack"
    stack.mkdir()
    (stack / "main.tf").write_text("# a stack folder: 05 refuses the strategy before terraform\n")
    before = snapshot(counter_ctx)
    table = counter_ctx.target.table
    params = {"table_name": table, "terraform_dir": str(stack), "strategy": "x"}
    outcome = run_nb("05_migrate", {**params, "dry_run": "False", "confirm": table}, folders)
    assert_failed(
        outcome,
        "InvalidInputError",
        r"Unknown strategy 'x'\. Valid: removed, state_rm, ignore_changes",
        FIX,
    )
    assert snapshot(counter_ctx) == before and files(folders.backups) == {}
    assert sorted(p.name for p in stack.iterdir()) == ["main.tf"], "the stack folder untouched"


@pytest.fixture(scope="module")
def status_of_missing_table(
    moto_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[runner.RunOutcome, str]]:
    """02_status run once against a table that does not exist."""
    folder = tmp_path_factory.mktemp("bi-status")
    table = f"bi-missing-{uuid.uuid4().hex[:10]}-VisitorCount"
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("RUNBOOK_")]:
            if key not in ("RUNBOOK_STATE_DIR", "RUNBOOK_HOME"):  # module scope: before autouse
                mp.delenv(key)
        mp.setenv("RUNBOOK_BACKUPS", str(folder / "backups"))
        yield runner.run_notebook("02_status", {"table_name": table}, folder, html=False), table


@pytest.mark.notebook
def test_runbook_run_02_status_missing_table(status_of_missing_table, ddb: Any) -> None:
    outcome, table = status_of_missing_table
    assert outcome.exit_code == EXIT_PROBLEM and outcome.error is None
    summary = outcome.summary()
    assert "02_status: PROBLEM FOUND (exit 3" in summary
    assert f"[FAIL] table exists and ACTIVE: table {table} not found" in summary
    checks = {c["name"]: c for c in json.loads(Path(outcome.result_path).read_text())["checks"]}
    assert "terraform apply" in checks["table exists and ACTIVE"]["next_step"]
    assert table_snapshot(ddb, table) == {"missing": True}, "a status check creates nothing"
    assert not Path(outcome.out_dir).parent.joinpath("backups").exists()


@pytest.mark.notebook
def test_runbook_run_02_status_summary_says_what_to_do(status_of_missing_table) -> None:
    outcome, _ = status_of_missing_table
    assert "terraform apply" in outcome.summary()


@pytest.mark.parametrize(
    ("args", "what", "todo"),
    [
        (
            ["03_set_count", "-p", "new_valeu", "5"],
            r"Unknown parameter\(s\) for 03_set_count: new_valeu",
            r"runbook params",
        ),
        (
            ["06_history", "-p", "days", "fourteen"],
            r"days must be a whole number, got 'fourteen'\. Nothing ran\.",
            r"-p days 100; `runbook params 06_history` lists every parameter",
        ),
        (
            ["03_set_count", "-p", "dry_run", "False", "-p", "reason", "x"],
            r"03_set_count needs new_value, the count to set\. Pass -p new_value N",
            r"runbook params 03_set_count",
        ),
        (
            ["03_set_count", "-p", "new_value", "-5"],
            r"new_value must not be negative, got -5\. Nothing ran\.",
            r"-p new_value with a whole number from 0",
        ),
        (
            ["03_set_count", "-p", "new_value", "1" * 41],
            r"new_value has 41 digits; DynamoDB numbers hold at most 38\. Nothing ran\.",
            r"-p new_value with a whole number",
        ),
        (
            ["06_history", "-p", "days", "-5"],
            r"days must be from 1 to 455 \(CloudWatch keeps metric data for 455 days\), got -5",
            r"-p days with a whole number from 1 to 455",
        ),
        (
            ["06_history", "-p", "days", "100000"],
            r"days must be from 1 to 455 .*got 100000\. Nothing ran\.",
            r"-p days with a whole number from 1 to 455",
        ),
    ],
    ids=[
        "unknown-name",
        "wrong-type",
        "03-missing-new_value",
        "03-negative",
        "03-41-digits",
        "06-days-negative",
        "06-days-too-many",
    ],
)
def test_runbook_cli_bad_usage_exits_2_and_runs_nothing(
    args: list[str], what: str, todo: str, counter_ctx: Ctx, folders: Folders
) -> None:
    before = snapshot(counter_ctx)
    argv = [str(RUNBOOK), "run", *args, "-p", "table_name", counter_ctx.target.table]
    proc = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ), cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert re.search(rf"^runbook: {what}.* Next step: .*{todo}", proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not folders.reports.exists(), "nothing ran: no report folder"
    assert snapshot(counter_ctx) == before and files(folders.backups) == {}


# ---- folders that cannot be written, a stack folder that is none (issue 17) ------------------


def _console(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUNBOOK), "run", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        cwd=ROOT,
        timeout=300,
    )


def _assert_one_line_exit_2(proc: subprocess.CompletedProcess, *parts: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "Nothing ran. Next step: " in proc.stderr
    for part in parts:
        assert part in proc.stderr, proc.stderr


def test_runbook_cli_report_folder_that_is_a_file_is_one_line(
    counter_ctx: Ctx, folders: Folders
) -> None:
    """`--out README.md` (a file) and `--out README.md/x` (under a file: root is stopped
    too), and RUNBOOK_REPORTS likewise: one line naming it as given, no traceback."""
    table = ["02_status", "-p", "table_name", counter_ctx.target.table]
    _assert_one_line_exit_2(
        _console([*table, "--out", "README.md"]),
        "Cannot write the report to README.md: README.md is a file, not a folder.",
    )
    _assert_one_line_exit_2(
        _console([*table, "--out", "README.md/reports"]),
        "README.md is a file, so no folder can be made under it",
    )
    env = {**os.environ, "RUNBOOK_REPORTS": "README.md/reports"}
    _assert_one_line_exit_2(
        _console(table, env), "README.md/reports (RUNBOOK_REPORTS)", "point RUNBOOK_REPORTS"
    )
    assert not folders.reports.exists()


def test_runbook_cli_confirmed_set_with_unwritable_backups_is_refused_up_front(
    counter_ctx: Ctx, folders: Folders
) -> None:
    """RUNBOOK_BACKUPS under a file: the confirmed 03 is refused before a kernel, the
    table untouched (was: a bare PermissionError from the cell)."""
    (folders.src / "notes.txt").write_text("a file\n")
    before = snapshot(counter_ctx)
    table = counter_ctx.target.table
    args = ["03_set_count", "-p", "table_name", table, "-p", "new_value", "50"]
    args += ["-p", "reason", "x", "-p", "dry_run", "False", "-p", "confirm", table]
    env = {**os.environ, "RUNBOOK_BACKUPS": str(folders.src / "notes.txt" / "backups")}
    proc = _console(args, env)
    _assert_one_line_exit_2(
        proc, "Cannot write the item backup 03_set_count takes before it writes", "notes.txt"
    )
    assert snapshot(counter_ctx) == before and not folders.reports.exists()


@pytest.mark.notebook
def test_runbook_run_backup_folder_that_fails_in_the_run_is_one_line_and_exit_1(
    counter_ctx: Ctx, folders: Folders
) -> None:
    """The backups folder passes the check but the table's folder in it is a file: found
    only when the backup is written. One line naming it and the fix, exit 1, the table
    as it was (the backup comes before the write)."""
    before = snapshot(counter_ctx, with_backups=False)
    table = counter_ctx.target.table
    folders.backups.mkdir()
    (folders.backups / itemfile.safe_name(table)).write_text("in the way\n")
    params = {"table_name": table, "new_value": "50", "reason": "x"}
    outcome = run_nb("03_set_count", {**params, "dry_run": "False", "confirm": table}, folders)
    assert outcome.exit_code == runner.EXIT_FAILED, outcome.summary()
    (line,) = outcome.summary().splitlines()
    assert line.startswith(f"03_set_count: FAILED (exit 1): Cannot write the backup of {table}")
    assert f"{itemfile.safe_name(table)} is a file, not a folder" in line
    assert "nothing was written to the table" in line and "Next step: point RUNBOOK_BACKUPS" in line
    assert snapshot(counter_ctx, with_backups=False) == before


@pytest.mark.notebook
def test_runbook_run_report_files_that_cannot_be_written_keep_the_result(
    counter_ctx: Ctx, folders: Folders, tmp_path: Path
) -> None:
    """The report folder stops taking files while the run is under way (here result.json
    and the HTML are folders by then): exit 1, the folder and the fix said, and the result
    (the command to copy included) still printed: nothing lost."""
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# 91 · A folder that stops taking files"),
            v4.new_code_cell('action: str = "x"  # unused', metadata={"tags": ["parameters"]}),
            v4.new_code_cell(
                "import os, pathlib\n"
                "run = pathlib.Path(os.environ['RUNBOOK_RUN_DIR'])\n"
                "(run / 'result.json').mkdir()\n(run / '91_folder.html').mkdir()\n"
                "from runbook_lib.notebook.results import record_result\n"
                "record_result({'message': 'done', 'undo_command': 'runbook run 03 -p x 1'});"
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    path = tmp_path / "nb" / "91_folder.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, str(path))
    outcome = runner.run_notebook(str(path), {}, folders.reports)
    assert outcome.exit_code == runner.EXIT_FAILED, outcome.summary()
    summary = outcome.summary()
    assert "UnwritableFolderError: Cannot write the report to " in summary
    assert "Next step: make that folder writable (or pass --out DIR)" in summary
    assert "  message: done\n" in summary and "  undo_command: runbook run 03 -p x 1\n" in summary
    assert Path(outcome.notebook_path).is_file(), "the executed notebook was written"


def test_runbook_cli_05_with_an_empty_terraform_dir_is_bad_usage(
    counter_ctx: Ctx, folders: Folders
) -> None:
    """Was exit 1 with a report folder; the README promises exit 2 with nothing written."""
    empty = folders.src / "empty"
    empty.mkdir()
    before = snapshot(counter_ctx)
    proc = _console(["05_migrate", "-p", "terraform_dir", str(empty)])
    _assert_one_line_exit_2(
        proc, f"terraform_dir {str(empty)!r} holds no .tf files", "-p terraform_dir PATH"
    )
    assert snapshot(counter_ctx) == before and not folders.reports.exists()
