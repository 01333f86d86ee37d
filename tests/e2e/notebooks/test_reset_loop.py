"""The on-call loop of issue 17, headless on the sandbox: a planted reset (5,000, then 0, 37
visits since) is named by 02_status, rebuilt by 07_recover, and afterwards 02 and 06 say it
was repaired (exit 0) at the same time as before, with the repair's jump kept out of the
visits. Without an audit log the metric's climb back alone proves the repair; a partial
repair proves nothing (exit 3 everywhere).

Times are the planted buckets' (fixed when the frame is made), compared as ISO times or as
"HH:MM UTC", which both of the report's spellings contain: nothing here reads the clock to
predict what a report says.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pandas as pd
import pytest

from runbook_lib import aws
from runbook_lib.aws import counter, metrics
from runbook_lib.model import Target
from runbook_lib.notebook import runner
from runbook_lib.sandbox import recoverdemo
from runbook_lib.steps import setcount
from runbook_lib.steps.common import auditlog

pytestmark = pytest.mark.notebook
DAYS = 3
PERIOD = 300  # the planted history is in 5-minute buckets; moto reads 60 s points slowly
DROP_CHECK = "no count drop in recent history"


def _planted(moto_url: str, frame: pd.DataFrame) -> Target:
    target = Target(
        table=f"loop-{uuid.uuid4().hex[:10]}-VisitorCount", endpoint=moto_url, function_name="fn"
    )
    recoverdemo.plant_reset(target, frame)
    return target


@pytest.fixture
def frame() -> pd.DataFrame:
    return recoverdemo.reset_frame(DAYS, end=dt.datetime.now(dt.timezone.utc))


def _reset_at(frame: pd.DataFrame) -> pd.Timestamp:
    """The planted reset: the bucket of the first count published at the low level."""
    return frame.index[frame["count"].diff() < 0][0]


def _run(name: str, target: Target, tmp_path: Path, **extra) -> tuple[int, dict]:
    params = {"table_name": target.table, **extra}
    if name in ("06_history", "07_recover"):
        params = {"days": DAYS, "period": PERIOD, **params}
    out = runner.run_notebook(name, params, tmp_path / uuid.uuid4().hex[:6])
    assert out.exit_code in (0, 3), out.summary()
    return out.exit_code, json.loads(Path(out.result_path).read_text())


def _drop_row(result: dict) -> dict:
    return next(c for c in result["checks"] if c["name"] == DROP_CHECK)


def _visit(target: Target, ddb) -> int:
    """A visit as the Lambda makes it: one atomic ADD, then the new count published."""
    count = counter.increment(target, ddb=ddb)
    datum = {"MetricName": target.metric_name, "Value": float(count), "Unit": "Count",
             "Dimensions": [{"Name": "TableName", "Value": target.table}],
             "Timestamp": dt.datetime.now(dt.timezone.utc)}  # fmt: skip
    request = {"Namespace": target.metric_namespace, "MetricData": [datum]}
    metrics.put_metric_data(aws.client("cloudwatch"), [request])
    return count


def _visits_by_day(frame: pd.DataFrame) -> dict[str, int]:
    return {
        d: int(v)
        for d, v in frame["visits"].groupby(frame.index.strftime("%Y-%m-%d")).sum().items()
    }


def test_the_whole_loop_ends_green_with_one_reset_time(moto_url, ddb, backups, frame, tmp_path):
    target, reset_at = _planted(moto_url, frame), _reset_at(frame)
    hhmm = reset_at.strftime("%H:%M UTC")

    code, before = _run("02_status", target, tmp_path)
    row = _drop_row(before)
    assert code == 3 and row["state"] == "fail"
    assert row["detail"].startswith("count dropped from 5000 to 1 at") and hhmm in row["detail"]
    assert "runbook run 07_recover" in row["next_step"]

    code, dry = _run("07_recover", target, tmp_path)
    assert code == 3 and (dry["reset_time"], dry["recovered"]) == (reset_at.isoformat(), 5037)
    code, done = _run("07_recover", target, tmp_path, dry_run=False, confirm=target.table)
    assert code == 0 and (done["applied"], counter.read_count(target, ddb=ddb)) == (True, 5037)
    (record,) = auditlog.read_audit(backups / "audit.jsonl")

    code, after = _run("02_status", target, tmp_path)
    row = _drop_row(after)
    assert code == 0 and after["healthy"] and row["state"] == "warn", row
    head = row["detail"].split(", repaired")[0]  # "reset at [date ]HH:MM UTC (5000 → 1)"
    assert head.startswith("reset at ") and head.endswith(f"{hhmm} (5000 → 1)"), row
    assert f"by 07_recover (+5000, audit id {record['id']})" in row["detail"]
    assert "07_recover" not in row["next_step"] and "07_recover" not in after["verdict"]

    code, again = _run("07_recover", target, tmp_path, dry_run=False, confirm=target.table)
    assert code == 0 and again["repaired"] and "repaired already" in again["verdict"]
    assert again["repair"]["audit_id"] == record["id"] and again["reset_time"] == dry["reset_time"]

    assert _visit(target, ddb) == 5038  # the next visit publishes the repaired count
    code, hist = _run("06_history", target, tmp_path)
    (reset,) = hist["resets"]
    assert code == 0 and hist["verdict"].startswith("OK: reset at")
    assert (reset["time"], reset["repaired"]) == (reset_at.isoformat(), True)
    assert reset["repair"]["evidence"] == ["audit log", "count metric"]
    planted = _visits_by_day(frame)
    assert all(v <= planted.get(day, 0) + 1 for day, v in hist["visits_per_day"].items()), hist
    assert hist["visits"] <= int(frame["visits"].sum()) + 1, "the repair's +5000 is no visits"


def _climbed_back(frame: pd.DataFrame, at: pd.Timestamp, repair: int) -> tuple[pd.DataFrame, int]:
    """frame with `repair` added to the count from the first bucket at or after `at`, and
    the one step up the published counts then show. The planted visits follow the hour of
    day (the frame ends now), and a count is published only where a visit landed: the step's
    bucket gets one visit if it had none, so the climb is published whatever the clock says."""
    climbed = frame.copy()
    step = climbed.index[climbed.index >= at][0]
    if climbed.at[step, "visits"] == 0:
        for column in ("visits", "invocations", "requests"):
            climbed.at[step, column] = 1
        climbed.loc[climbed.index >= step, "count"] += 1
    climbed.loc[climbed.index >= step, "count"] += repair
    published = climbed[climbed["visits"] > 0]
    before = int(published[published.index < step]["count"].iloc[-1])
    return climbed, int(climbed.at[step, "count"]) - before


def test_without_an_audit_log_the_metrics_climb_back_proves_the_repair(
    moto_url, ddb, backups, frame, tmp_path
):
    """Another machine: no audit log; the history holds one step of +5,000 two hours after
    the reset (the repair, then visits published it)."""
    climbed, jump = _climbed_back(frame, _reset_at(frame) + pd.Timedelta(hours=2), 5000)
    target = _planted(moto_url, climbed)

    code, status = _run("02_status", target, tmp_path)
    row = _drop_row(status)
    assert code == 0 and row["state"] == "warn", row
    assert f"the count metric climbed back +{jump} in one step" in row["detail"]
    assert "audit id" not in row["detail"]
    code, hist = _run("06_history", target, tmp_path)
    assert code == 0 and hist["resets"][0]["repair"]["evidence"] == ["count metric"]
    assert hist["visits"] <= int(climbed["visits"].sum()), "the climb back is no visits"
    code, rec = _run("07_recover", target, tmp_path)
    assert code == 0 and rec["repaired"] and rec["applied"] is False
    assert auditlog.read_audit(backups / "audit.jsonl") == []


def test_a_partial_repair_is_still_a_reset_everywhere(moto_url, ddb, backups, frame, tmp_path):
    """03_set_count raises 37 to 2,000 (not the 5,037 lost and since): still red."""
    target = _planted(moto_url, frame)
    setcount.set_count(target, 2000, reason="a guess", dry_run=False, confirm=target.table)
    assert _visit(target, ddb) == 2001

    code, status = _run("02_status", target, tmp_path)
    assert code == 3 and _drop_row(status)["state"] == "fail"
    assert "(a partial repair)" in _drop_row(status)["detail"]
    code, hist = _run("06_history", target, tmp_path)
    assert code == 3 and hist["resets"][0]["repaired"] is False
    code, rec = _run("07_recover", target, tmp_path)
    # 5000 before + 38 visits since: the partial set's +1,963 is not counted as visits
    assert code == 3 and (rec["recovered"], rec["repaired"]) == (5038, False)
