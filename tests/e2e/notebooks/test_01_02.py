"""01_init and 02_status executed headless by papermill against the moto server."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import pytest

from runbook_lib.aws import counter
from runbook_lib.notebook import runner
from runbook_lib.notebook.results import result_from_notebook

pytestmark = pytest.mark.notebook
ROOT = Path(__file__).resolve().parents[3]


def _result(outcome):
    return json.loads(Path(outcome.result_path).read_text())


def test_init_dry_run_writes_nothing_then_confirmed_run_creates(target, ddb, tmp_path):
    dry = runner.run_notebook("01_init", {"table_name": target.table}, tmp_path)
    assert dry.exit_code == 0, dry.summary()
    assert _result(dry)["dry_run"] is True
    assert counter.get_item(target, ddb=ddb) is None

    real = runner.run_notebook(
        "01_init",
        {
            "table_name": target.table,
            "dry_run": "False",
            "confirm": target.table,
            "initial_value": "5",
        },
        tmp_path,
    )
    assert real.exit_code == 0, real.summary()
    assert _result(real)["created"] is True
    assert counter.read_count(target, ddb=ddb) == 5
    for suffix in (".ipynb", ".html"):
        assert Path(real.out_dir, f"01_init{suffix}").exists()


def test_init_is_a_no_op_on_an_existing_item(target, ddb, tmp_path):
    counter.init_counter(target, initial=77, ddb=ddb)
    out = runner.run_notebook(
        "01_init", {"table_name": target.table, "dry_run": False, "confirm": target.table}, tmp_path
    )
    result = _result(out)
    assert (result["created"], result["value"]) == (False, 77)
    assert counter.read_count(target, ddb=ddb) == 77


def test_init_wrong_confirm_fails_and_writes_nothing(target, ddb, tmp_path):
    out = runner.run_notebook(
        "01_init", {"table_name": target.table, "dry_run": "False", "confirm": "nope"}, tmp_path
    )
    assert out.exit_code == 1
    assert "confirm must equal the table name" in out.error
    assert counter.get_item(target, ddb=ddb) is None
    assert Path(out.notebook_path).exists(), "the executed notebook is kept as the log"


def test_init_on_missing_table_says_what_to_do(moto_url, tmp_path):
    out = runner.run_notebook(
        "01_init",
        {"table_name": "missing-table", "dry_run": False, "confirm": "missing-table"},
        tmp_path,
    )
    assert out.exit_code == 1
    assert "runbook sandbox up" in out.error


def test_status_reports_healthy_and_count(target, ddb, tmp_path):
    counter.init_counter(target, initial=12, ddb=ddb)
    ddb.update_continuous_backups(
        TableName=target.table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    out = runner.run_notebook("02_status", {"table_name": target.table}, tmp_path)
    result = _result(out)
    assert out.exit_code == 0, out.summary()
    assert result["healthy"] is True and result["count"] == 12
    assert {c["name"] for c in result["checks"]} >= {"table exists and ACTIVE", "key schema"}
    html = Path(out.html_path).read_text()
    assert "runbook-verdict" in html and "HEALTHY" in html


def test_status_exit_3_on_string_count(target, ddb, tmp_path):
    ddb.put_item(TableName=target.table, Item={**target.key, "viewCount": {"S": "many"}})
    out = runner.run_notebook("02_status", {"table_name": target.table}, tmp_path)
    assert out.exit_code == 3
    assert _result(out)["healthy"] is False and _result(out)["count"] is None


def test_plain_papermill_works_too(target, ddb, tmp_path):
    counter.init_counter(target, initial=3, ddb=ddb)
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "02_status.ipynb"),
        str(out),
        parameters={"table_name": target.table},
        kernel_name="python3",
        progress_bar=False,
    )
    result = result_from_notebook(nbformat.read(str(out), as_version=4))
    assert result["count"] == 3
