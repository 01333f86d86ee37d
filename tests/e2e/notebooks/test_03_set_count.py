"""03_set_count executed headless by papermill against the moto server.

The kernel is a separate process that inherits os.environ: AWS_ENDPOINT_URL reaches moto,
RUNBOOK_BACKUPS keeps backups and the audit log in the test's folder.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from runbook_lib.aws import counter
from runbook_lib.errors import InvalidInputError
from runbook_lib.notebook import runner
from runbook_lib.notebook.results import result_from_notebook
from runbook_lib.steps import setcount
from runbook_lib.steps.backup import itembackup
from runbook_lib.steps.common import auditlog
from tests.conftest import files_under

pytestmark = pytest.mark.notebook
ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "03_set_count.ipynb"


def execute(tmp_path: Path, **parameters: Any) -> dict[str, Any]:
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(ROOT),
        progress_bar=False,
    )
    result = result_from_notebook(nbformat.read(str(out), as_version=4))
    assert result is not None, "the last cell records the result"
    return result


def test_committed_without_outputs_and_with_the_documented_parameters():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert code[0].metadata.tags == ["parameters"]
    assert not any(
        line.lstrip().startswith(("def ", "class ")) for c in code for line in c.source.splitlines()
    )
    declared = papermill.inspect_notebook(str(NOTEBOOK))
    assert declared["expected_current"]["inferred_type_name"] == "Optional[int]"
    # no usable default: a forgotten new_value must never become a reset to 0
    assert (declared["new_value"]["inferred_type_name"], declared["new_value"]["default"]) == (
        "Optional[int]",
        "None",
    )
    assert declared["allow_decrease"]["default"] == "False"
    assert declared["dry_run"]["default"] == "True"
    assert all(p["help"] for p in declared.values())


def test_dry_run_reports_and_writes_nothing(live42, ddb, backups, tmp_path):
    before = counter.get_item(live42, ddb=ddb)

    result = execute(tmp_path, table_name=live42.table, new_value=100)

    assert (result["applied"], result["dry_run"], result["old"], result["new"]) == (
        False,
        True,
        42,
        100,
    )
    assert f"would set viewCount in {live42.table} from 42 to 100" in result["message"]
    assert result["problem"] is False and result["backup_path"] is None
    assert counter.get_item(live42, ddb=ddb) == before
    assert files_under(backups) == []


def test_confirmed_run_sets_backs_up_and_audits(live42, ddb, backups, tmp_path):
    result = execute(
        tmp_path,
        table_name=live42.table,
        new_value=100,
        expected_current=42,
        reason="restore after reset",
        dry_run=False,
        confirm=live42.table,
    )

    assert (result["applied"], result["old"], result["new"]) == (True, 42, 100)
    assert counter.read_count(live42, ddb=ddb) == 100
    assert itembackup.load_backup(result["backup_path"], target=live42).count == 42
    (record,) = auditlog.read_audit(backups / "audit.jsonl")
    assert (record["old"], record["new"], record["reason"]) == (42, 100, "restore after reset")
    assert record["backup_path"] == result["backup_path"]
    assert result["undo_command"].startswith(f"aws dynamodb put-item --table-name {live42.table}")


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"new_value": -1, "reason": "x"}, "new_value must not be negative"),
        ({"reason": "x"}, "new_value is required"),
    ],
    ids=["negative", "missing"],
)
def test_bad_input_fails_a_plain_papermill_run_and_writes_nothing(
    live42, ddb, backups, tmp_path, parameters, message
):
    """Plain papermill has no runner to refuse bad usage first: the notebook does."""
    parameters = {
        "table_name": live42.table,
        "dry_run": False,
        "confirm": live42.table,
        **parameters,
    }
    before = counter.get_item(live42, ddb=ddb)

    with pytest.raises(PapermillExecutionError, match=message):
        execute(tmp_path, **parameters)

    assert counter.get_item(live42, ddb=ddb) == before
    assert files_under(backups) == []


@pytest.mark.parametrize(
    ("parameters", "refused"),
    [
        ({"new_value": 100, "confirm": "nope"}, "confirm must equal the table"),
        ({"new_value": 100, "expected_current": 7}, "expected 7, live value is 42"),
        ({"new_value": 0}, "Refusing to lower viewCount"),
    ],
    ids=["wrong-confirm", "conflict", "decrease"],
)
def test_a_refused_write_is_a_recorded_result_not_a_failed_cell(
    live42, ddb, backups, tmp_path, parameters, refused
):
    parameters = {
        "table_name": live42.table,
        "reason": "x",
        "dry_run": False,
        "confirm": live42.table,
        **parameters,
    }
    result = execute(tmp_path, **parameters)
    assert refused in result["refused"] and result["problem"] is True
    assert result["command"].startswith("runbook run 03_set_count -p table_name ")
    assert counter.read_count(live42, ddb=ddb) == 42
    assert files_under(backups) == []


def test_runner_refuses_a_negative_value_before_a_kernel_starts(live42, ddb, backups, tmp_path):
    params = {"table_name": live42.table, "new_value": "-5"}
    with pytest.raises(InvalidInputError, match="new_value must not be negative, got -5"):
        runner.run_notebook("03_set_count", {**params, "dry_run": "False"}, tmp_path / "reports")
    assert not (tmp_path / "reports").exists(), "nothing ran: no report folder"
    assert counter.read_count(live42, ddb=ddb) == 42 and files_under(backups) == []


def test_refused_decrease_exits_3_in_one_line_and_its_command_does_it(
    live42, ddb, backups, tmp_path
):
    # GIVEN the guide's reset asked for without allow_decrease
    table = live42.table
    params = {"table_name": table, "new_value": "0", "dry_run": "False", "confirm": table}
    out = runner.run_notebook("03_set_count", params, tmp_path / "reports", html=False)
    # THEN exit 3: what was refused and the command, no failed cell, nothing written
    assert (out.exit_code, out.error, out.failed_cell) == (3, None, None), out.summary()
    summary = out.summary()
    assert "error in cell" not in summary and "Traceback" not in summary
    refused = f"  refused: Refusing to lower viewCount in {table} from 42 (live) to 0 (new_value)"
    assert refused in summary
    command = out.result["command"]
    assert f"  command: {command}\n" in summary, "the command is shown whole"
    assert counter.read_count(live42, ddb=ddb) == 42 and files_under(backups) == []
    # WHEN the printed command runs as is
    argv = shlex.split(command)
    assert argv[:3] == ["runbook", "run", "03_set_count"]
    again = {argv[i + 1]: argv[i + 2] for i in range(3, len(argv), 3) if argv[i] == "-p"}
    done = runner.run_notebook(argv[2], again, tmp_path / "reports", html=False)
    # THEN the reset is done, backed up and audited
    assert done.exit_code == 0, done.summary()
    assert counter.read_count(live42, ddb=ddb) == 0
    assert [(r["old"], r["new"]) for r in auditlog.read_audit()] == [(42, 0)]


def test_printed_runbook_undo_runs_as_is(live42, ddb, backups, tmp_path):
    # GIVEN a confirmed set from 42 to 100
    done = setcount.set_count(live42, 100, reason="test", dry_run=False, confirm=live42.table)
    argv = shlex.split(done.undo_runbook)
    assert argv[:3] == ["runbook", "run", "04_backup_restore"]
    params = {argv[i + 1]: argv[i + 2] for i in range(3, len(argv), 3) if argv[i] == "-p"}

    # WHEN the printed runbook undo line runs (the runner is what `runbook run` calls)
    out = runner.run_notebook(argv[2], params, tmp_path / "reports", html=False)

    # THEN the count is back to the backed-up value
    assert out.exit_code == 0, out.summary()
    assert counter.read_count(live42, ddb=ddb) == 42
