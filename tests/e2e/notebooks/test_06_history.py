"""06_history headless: a planted reset is found (exit 3), a clean series has none, and the
HTML report embeds its plots; reports also go to S3."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest

from runbook_lib import aws
from runbook_lib.errors import InvalidInputError
from runbook_lib.notebook import runner
from runbook_lib.sandbox import seed

pytestmark = pytest.mark.notebook


def _seeded(moto_url, *, reset_at=None):
    table = f"h-{uuid.uuid4().hex[:10]}-VisitorCount"
    end = dt.datetime.now(dt.timezone.utc)
    frame = seed.synthetic_history(days=2, end=end, reset_at=reset_at)
    seed.seed_history(
        aws.client("cloudwatch"),
        frame,
        table=table,
        function_name=f"{table}-fn",
        api_id=uuid.uuid4().hex[:8],
        namespace="VisitorCounter",
        metric_name="ViewCount",
    )
    return table, frame, end


def _params(table, **extra):
    return {"table_name": table, "function_name": f"{table}-fn", "days": 2, **extra}


def test_planted_reset_is_found_and_exits_3(moto_url, tmp_path):
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=20)
    table, _frame, _ = _seeded(moto_url, reset_at=when)
    out = runner.run_notebook("06_history", _params(table, period=300), tmp_path)
    result = json.loads(Path(out.result_path).read_text())
    assert out.exit_code == 3, out.summary()
    assert len(result["resets"]) == 1
    reset = result["resets"][0]
    assert reset["after"] < reset["before"]
    found = dt.datetime.fromisoformat(reset["time"].replace("Z", "+00:00"))
    assert abs((found - when).total_seconds()) <= 600
    assert result["points"] > 0 and result["visits"] > 0
    html = Path(out.html_path).read_text()
    assert html.count("data:image/png;base64") >= 1
    # named relative to the report folder: no machine path in the report
    assert result["csv_path"] == "history.csv" and Path(out.out_dir, "history.csv").exists()


def test_clean_history_has_no_reset(moto_url, tmp_path):
    table, frame, _ = _seeded(moto_url)
    out = runner.run_notebook("06_history", _params(table, period=300), tmp_path, hide_code=True)
    result = json.loads(Path(out.result_path).read_text())
    assert out.exit_code == 0, out.summary()
    assert result["resets"] == []
    # visits are the count's steps: all seeded visits but those of the window's edge buckets
    seeded = int(frame["visits"].sum())
    assert seeded - 3 * int(frame["visits"].max()) <= result["visits"] <= seeded
    html = Path(out.html_path).read_text()
    assert "history.run(" not in html, "--no-code hides the code cells"


def test_reports_go_to_s3(moto_url, tmp_path):
    table, _, _ = _seeded(moto_url)
    s3 = aws.client("s3")
    bucket = f"reports-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    out = runner.run_notebook("06_history", _params(table, period=3600), f"s3://{bucket}/daily")
    assert out.exit_code == 0, out.summary()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    stem = out.out_dir.removeprefix(f"s3://{bucket}/")
    assert {f"{stem}/06_history.ipynb", f"{stem}/06_history.html", f"{stem}/result.json"} <= keys
    assert f"{stem}/history.csv" in keys
    body = s3.get_object(Bucket=bucket, Key=f"{stem}/result.json")["Body"].read()
    assert json.loads(body)["exit_code"] == 0


def test_bad_days_is_refused_before_a_kernel(moto_url, tmp_path):
    # bad usage (the CLI exits 2): refused while checking parameters, no report folder
    with pytest.raises(InvalidInputError, match=r"days must be from 1 to 455 .*got 0"):
        runner.run_notebook("06_history", {"table_name": "x-VisitorCount", "days": 0}, tmp_path)
    assert list(tmp_path.iterdir()) == []
