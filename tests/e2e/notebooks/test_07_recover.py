"""07_recover against the moto server: a reset planted in CloudWatch (the count rising to
5,000 over days, a reset to 0, 37 visits since, the live item at 37) is found, proposed,
set through 03's safe write path, and not repaired twice; a concurrent visit is kept."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import nbformat
import papermill
import pytest

from runbook_lib import aws
from runbook_lib.aws import counter
from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target
from runbook_lib.notebook import recoverplot, runner
from runbook_lib.sandbox import demo, recoverdemo, seed
from runbook_lib.sandbox import server as sandbox
from runbook_lib.steps import recover
from runbook_lib.steps.common import auditlog
from tests.conftest import files_under

pytestmark = pytest.mark.notebook
ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "07_recover.ipynb"
DAYS = 3
PERIOD = 300  # the planted history is in 5-minute buckets; moto reads 60 s points slowly


@pytest.fixture
def planted(moto_url, backups) -> Target:
    """A counter of its own with the planted reset: 5,000, then 0, then 37 (live 37)."""
    target = Target(
        table=f"r-{uuid.uuid4().hex[:10]}-VisitorCount",
        endpoint=moto_url,
        region="us-east-1",
        function_name="fn",
    )
    frame = recoverdemo.reset_frame(DAYS, end=dt.datetime.now(dt.timezone.utc))
    assert recoverdemo.plant_reset(target, frame) == 37
    return target


def _run(target: Target, tmp_path: Path, **extra):
    params = {"table_name": target.table, "days": DAYS, "period": PERIOD, **extra}
    out = runner.run_notebook("07_recover", params, tmp_path / uuid.uuid4().hex[:6])
    return out, json.loads(Path(out.result_path).read_text())


def test_committed_without_outputs_and_with_the_documented_parameters():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert code[0].metadata.tags == ["parameters"]
    declared = papermill.inspect_notebook(str(NOTEBOOK))
    assert {"days", "reset_time", "dry_run", "confirm", "table_name", "terraform_dir"} <= set(
        declared
    )
    assert {"key_name", "key_value", "range_key_value", "count_attribute", "api_id"} <= set(
        declared
    )
    assert declared["dry_run"]["default"] == "True"
    assert all(p["help"] for p in declared.values())


def test_dry_run_proposes_5037_and_writes_nothing(planted, ddb, backups, tmp_path):
    out, result = _run(planted, tmp_path)

    assert out.exit_code == 3, out.summary()
    assert (result["before"], result["after"], result["live"]) == (5000, 0, 37)
    assert abs(result["recovered"] - 5037) <= result["uncertainty"]
    assert result["recovered"] == 5037
    assert result["source"] == "count metric" and result["applied"] is False
    assert result["reset_time"] is not None
    assert f"-p confirm {planted.table}" in result["command"]
    assert counter.read_count(planted, ddb=ddb) == 37
    assert files_under(backups) == []
    html = Path(out.html_path).read_text()
    assert html.count("data:image/png;base64") >= 1, "the evidence plot is embedded"
    assert "recovered = before + (live - after)" in html, "the table of figures"
    figures = html[: html.index("<th>recovered = before + (live - after)</th>")]
    figures = figures.rsplit("<table", 1)[1]
    header = figures.split("<thead>")[1].split("</thead>")[0]
    assert header.count("<tr") == 1, f"one header row, no empty index-name row: {header}"


def test_confirmed_run_sets_it_and_a_second_run_finds_nothing(planted, ddb, backups, tmp_path):
    out, result = _run(planted, tmp_path, dry_run=False, confirm=planted.table)

    assert out.exit_code == 0, out.summary()
    assert (result["applied"], result["recovered"]) == (True, 5037)
    assert counter.read_count(planted, ddb=ddb) == 5037
    (record,) = auditlog.read_audit(backups / "audit.jsonl")
    assert (record["old"], record["new"]) == (37, 5037)
    assert record["reason"].startswith("07_recover: count rebuilt from the count metric")
    assert result["undo_command"] == record["undo_command"]

    again, second = _run(planted, tmp_path, dry_run=False, confirm=planted.table)
    assert again.exit_code == 0, again.summary()
    assert second["applied"] is False and "repaired already" in second["verdict"]
    assert (second["repaired"], second["recovered"], second["live"]) == (True, None, 5037)
    html = Path(again.html_path).read_text()
    assert "<th>repaired already: the live count holds the repair</th>" in html, "figures"
    assert "<th>recovered = before + (live - after)</th>" not in html
    assert counter.read_count(planted, ddb=ddb) == 5037
    assert len(auditlog.read_audit(backups / "audit.jsonl")) == 1


def test_a_visit_during_the_write_is_not_lost(planted, ddb, backups):
    """A visit lands between the read and the compare-and-set (a botocore hook on the first
    UpdateItem, through another client): the set fails its condition, re-reads, recomputes."""
    visitor = aws.client("dynamodb")
    landed = []

    def visit(**_kwargs):
        if not landed:
            landed.append(counter.increment(planted, ddb=visitor))

    ddb.meta.events.register("before-call.dynamodb.UpdateItem", visit)
    rec = recover.run(
        planted, days=DAYS, period=PERIOD, dry_run=False, confirm=planted.table, ddb=ddb
    ).fields

    assert landed == [38]
    assert rec["applied"] and rec["attempts"] == 2, rec["verdict"]
    assert (rec["live"], rec["recovered"]) == (38, 5038)
    assert counter.read_count(planted, ddb=ddb) == 5038


def _legend(rec: recover.Recovery) -> list[str]:
    """The evidence plot's legend, drawn exactly as the notebook draws it."""
    fig = recoverplot.recovery_figure(rec.hist.frame, rec.estimate, rec.live, now=rec.hist.end)
    (ax,) = fig.axes
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_plot_and_the_figures_agree_with_the_result_before_and_after_the_repair(
    planted, ddb, backups
):
    """Issue 20: after a repair a second run said "repaired already" while the plot and the
    figures table still proposed before + (live - after) on top of the repaired count."""
    run = {"days": DAYS, "period": PERIOD, "ddb": ddb}
    proposed = recover.run(planted, **run).detail  # the Recovery the notebook's figures show
    assert proposed.result()["recovered"] == 5037 and not proposed.repaired
    assert f"recovered: 5,037 (+ up to {proposed.estimate.uncertainty})" in _legend(proposed)
    assert proposed.figures().loc["recovered = before + (live - after)", "value"] == 5037

    done = recover.run(planted, dry_run=False, confirm=planted.table, **run)
    assert done.fields["applied"] and counter.read_count(planted, ddb=ddb) == 5037

    again = recover.run(planted, dry_run=False, confirm=planted.table, **run).detail
    result = again.result()
    assert "repaired already" in again.verdict and again.estimate is not None
    assert (result["repaired"], result["recovered"], result["live"]) == (True, None, 5037)
    legend = _legend(again)
    assert legend == [
        "count (count metric)",
        "level before: 5,000",
        "live: 5,037 (repaired already)",
    ]
    assert not any("recovered" in text for text in legend), legend
    table = again.figures()
    assert not any(label.startswith("recovered") for label in table.index), table
    (row,) = [label for label in table.index if "repaired already" in label]
    assert table.loc[row, "value"] == table.loc["live: the count now", "value"] == 5037
    assert counter.read_count(planted, ddb=ddb) == 5037
    assert len(auditlog.read_audit(backups / "audit.jsonl")) == 1


def test_a_wrong_confirm_is_refused_and_writes_nothing(planted, ddb, backups, tmp_path):
    out, result = _run(planted, tmp_path, dry_run=False, confirm="nope")

    assert out.exit_code == 3, out.summary()
    assert result["verdict"].startswith("REFUSED: Refusing to write: confirm must equal")
    assert counter.read_count(planted, ddb=ddb) == 37
    assert files_under(backups) == []


def test_a_history_without_a_reset_exits_0_and_writes_nothing(moto_url, ddb, backups, tmp_path):
    target = Target(table=f"r-{uuid.uuid4().hex[:10]}-VisitorCount", endpoint=moto_url)
    frame = seed.synthetic_history(DAYS, end=dt.datetime.now(dt.timezone.utc))
    recoverdemo.plant_reset(target, frame)
    before = counter.get_item(target, ddb=ddb)

    out, result = _run(target, tmp_path, dry_run=False, confirm=target.table)

    assert out.exit_code == 0, out.summary()
    assert result["verdict"].startswith("OK: no reset in the window")
    assert (result["applied"], result["recovered"]) == (False, None)
    assert counter.get_item(target, ddb=ddb) == before
    assert files_under(backups) == []


def test_a_history_without_count_data_says_so_and_writes_nothing(moto_url, ddb, backups, tmp_path):
    target = Target(table=f"r-{uuid.uuid4().hex[:10]}-VisitorCount", endpoint=moto_url)
    frame = recoverdemo.reset_frame(DAYS, end=dt.datetime.now(dt.timezone.utc))
    recoverdemo.plant_reset(target, frame, with_count_metric=False)

    out, result = _run(target, tmp_path, dry_run=False, confirm=target.table)

    assert out.exit_code == 3, out.summary()
    assert result["verdict"].startswith("NO DATA: no count data found for VisitorCounter/")
    assert "Nothing was written" in result["verdict"]
    assert result["applied"] is False and result["recovered"] is None
    assert counter.read_count(target, ddb=ddb) == 37
    assert files_under(backups) == []


@pytest.mark.parametrize("days", ["-5", "0", "100000"])
def test_days_out_of_range_is_bad_usage_before_a_kernel(moto_url, tmp_path, days):
    with pytest.raises(InvalidInputError, match="days"):
        runner.run_notebook("07_recover", {"days": days}, tmp_path / "reports")
    assert not (tmp_path / "reports").exists(), "nothing ran: no report folder"


@pytest.mark.parametrize(
    ("notebook", "name"), [("07_recover", "reset_time"), ("04_backup_restore", "restore_time")]
)
def test_a_time_that_is_not_one_is_bad_usage_before_a_kernel(moto_url, tmp_path, notebook, name):
    with pytest.raises(InvalidInputError, match=f"{name} 'yesterday' is not a time"):
        runner.run_notebook(notebook, {name: "yesterday"}, tmp_path / "reports")
    assert not (tmp_path / "reports").exists(), "nothing ran: no report folder"


def test_without_the_count_metric_invocations_give_a_lower_confidence_estimate(
    moto_url, ddb, backups, tmp_path
):
    target = Target(
        table=f"r-{uuid.uuid4().hex[:10]}-VisitorCount", endpoint=moto_url, function_name="fnx"
    )
    end = dt.datetime.now(dt.timezone.utc)
    frame = recoverdemo.reset_frame(DAYS, end=end)
    recoverdemo.plant_reset(target, frame, with_count_metric=False)
    when = frame.index[frame["count"].diff() < 0][0]

    out, result = _run(target, tmp_path, function_name="fnx", reset_time=when.isoformat())

    assert out.exit_code == 3, out.summary()
    assert (
        result["source"].startswith("Lambda invocations")
        and "lower confidence" in (result["source"])
    )
    assert (result["before"], result["live"], result["recovered"]) == (5000, 37, 5037)
    assert "-p reset_time" in result["command"] and counter.read_count(target, ddb=ddb) == 37


def test_runbook_demo_plants_a_reset_beside_the_counter_and_recovers_it(
    moto_url, ddb, backups, tmp_path
):
    info = sandbox.SandboxInfo(url=moto_url, pid=0, outputs={"table_name": "demo-VisitorCount"})
    params = demo.recover_parameters(info, log=lambda _line: None)

    assert params["table_name"].startswith("demo-VisitorCount-recover-demo-")
    out = runner.run_notebook("07_recover", params, tmp_path)
    result = json.loads(Path(out.result_path).read_text())
    assert out.exit_code == 0, out.summary()
    assert (result["applied"], result["recovered"]) == (True, 5037)


def test_a_number_keyed_counter_is_recovered_given_only_its_table(moto_url, ddb, backups, tmp_path):
    target = Target(
        table=f"crc-{uuid.uuid4().hex[:8]}",
        endpoint=moto_url,
        key_name="id",
        key_value="0",
        key_type="N",
        count_attribute="visitcount",
    )
    recoverdemo.plant_reset(
        target, recoverdemo.reset_frame(DAYS, end=dt.datetime.now(dt.timezone.utc))
    )

    out, result = _run(target, tmp_path, dry_run=False, confirm=target.table)

    assert out.exit_code == 0, out.summary()
    assert (result["applied"], result["recovered"]) == (True, 5037)
    item = counter.get_item(target, ddb=ddb)
    assert item["id"] == {"N": "0"} and item["visitcount"] == {"N": "5037"}
