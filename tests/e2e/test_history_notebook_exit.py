"""06_history's verdict tells the truth: a reset is said as what happened and when, and a
window without count data is "no data" (exit 3, naming the metric asked), never "0 resets".

Each test reads its own window in the past (a fixed `now`) with unique dimension values, so
tests sharing the session's moto server never see each other's data.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pandas as pd
import pytest

from runbook_lib import aws
from runbook_lib.notebook import runner

NOW = pd.Timestamp("2022-06-01T00:00:00Z")


@pytest.fixture
def cw(moto_url):
    return aws.client("cloudwatch")


@pytest.fixture
def table():
    return f"t-{uuid.uuid4().hex[:10]}-VisitorCount"


@pytest.mark.notebook
def test_06_history_without_count_data_exits_3_naming_the_metric(moto_url, table, tmp_path):
    """GIVEN a metric name the Lambda does not publish WHEN `runbook run 06_history` runs
    THEN it exits 3 with a verdict naming the metric asked for, and no "0 resets"."""
    params = {"table_name": table, "metric_name": "ViewCountTypo", "days": 1, "period": 3600}
    out = runner.run_notebook("06_history", params, tmp_path)
    result = json.loads(Path(out.result_path).read_text())
    assert out.exit_code == 3, out.summary()
    assert result["verdict"].startswith(
        f"NO DATA: no count data found for VisitorCounter/ViewCountTypo (TableName={table})"
    )
    assert result["resets"] is None
    html = Path(out.html_path).read_text()
    assert "0 resets" not in html and "No count data for VisitorCounter/ViewCountTypo" in html
