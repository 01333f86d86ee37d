"""06_history's verdict tells the truth: a reset is said as what happened and when, and a
window without count data is "no data" (exit 3, naming the metric asked), never "0 resets".

Each test reads its own window in the past (a fixed `now`) with unique dimension values, so
tests sharing the session's moto server never see each other's data.
"""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from runbook_lib import aws
from runbook_lib.model import Target
from runbook_lib.notebook import plots
from runbook_lib.sandbox import seed
from runbook_lib.steps import history

NOW = pd.Timestamp("2022-06-01T00:00:00Z")


@pytest.fixture
def cw(moto_url):
    return aws.client("cloudwatch")


@pytest.fixture
def table():
    return f"t-{uuid.uuid4().hex[:10]}-VisitorCount"


def test_no_count_data_is_a_problem_that_names_the_metric(cw, table):
    """GIVEN a table name under which nothing was ever published WHEN the history is read
    THEN the verdict says no data was found for that metric: a problem, not "0 resets"."""
    ran = history.run(
        Target(table=table, metric_name="Visits"), days=1, cloudwatch=cw, now=NOW, period=3600
    )
    hist = ran.detail
    assert not hist.has_count_data and hist.problem and ran.problem
    assert ran.verdict == "NO DATA" and ran.fields == hist.result(), "no CSV asked for"
    assert hist.verdict.startswith(
        f"NO DATA: no count data found for VisitorCounter/Visits (TableName={table}) "
        "in the last 1 days"
    )
    assert "metric_name" in hist.verdict and "reset" not in hist.verdict.split(",")[0]
    assert hist.summary["reset_count"] is None, "no data is not zero resets"
    result = hist.result()
    assert result["resets"] is None and result["verdict"] == hist.verdict
    assert result["metric"] == f"VisitorCounter/Visits (TableName={table})"
    assert hist.no_resets_text.startswith("No count data for VisitorCounter/Visits")
    assert "0 resets" not in plots.history_figure(hist).get_suptitle()


def test_a_reset_is_said_as_what_happened(cw, table):
    """GIVEN a history with a reset planted at 07:10 on the window's last day WHEN read THEN
    the verdict is "count dropped from B to A at 07:10 UTC" and the next step."""
    now = pd.Timestamp("2022-06-01T12:00:00Z")
    reset_at = pd.Timestamp("2022-06-01T07:10:00Z")
    frame = seed.synthetic_history(1, end=now, reset_at=reset_at)
    seed.seed_history(cw, frame, table=table, function_name=f"{table}-fn", api_id="a1")
    hist = history.load_history(1, table=table, cloudwatch=cw, now=now)
    (reset,) = hist.resets
    before, after = int(reset.before), int(reset.after)
    assert hist.problem and hist.has_count_data
    assert hist.verdict.startswith(f"RESET: count dropped from {before} to {after} at 07:10 UTC;")
    assert "04_backup_restore" in hist.verdict
    assert hist.result()["resets"] == [reset.to_dict()]


def test_a_clean_window_says_no_reset_in_words(cw, table, tmp_path):
    now = pd.Timestamp("2022-06-02T00:00:00Z")
    frame = seed.synthetic_history(1, end=now)
    seed.seed_history(cw, frame, table=table, function_name=f"{table}-fn", api_id="a2")
    csv = tmp_path / "report" / "history.csv"
    ran = history.run(Target(table=table), days=1, cloudwatch=cw, now=now, period=300, csv_path=csv)
    hist = ran.detail
    assert not hist.problem and not ran.problem and ran.verdict == "OK"
    assert ran.fields == {**hist.result(), "csv_path": "history.csv"} and csv.is_file()
    assert ran.message.startswith(hist.verdict) and " points at 300 s, " in ran.message
    assert hist.verdict.startswith("OK: no reset in the window")
    assert hist.no_resets_text == "No reset in the window."
    assert hist.result()["resets"] == []
