"""06_history run by `runbook run` over a window without count data: exit 3, naming the
metric asked, never "0 resets". The verdicts themselves: tests/aws/test_history_verdicts.py.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from runbook_lib.notebook import runner


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
