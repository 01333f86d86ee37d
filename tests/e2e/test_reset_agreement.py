"""02_status, 06_history and 07_recover name one time for one reset, run after run (issue 17).

The counts are published as the Lambda publishes them, one datum per visit at its own second
(not on bucket boundaries), on a day in the past; each run is given its `now`, shifted by
minutes and seconds as a morning cron's runs are: the query windows start elsewhere every
time, the reset's time and level must not move.
"""

from __future__ import annotations

import datetime as dt

import pytest

from runbook_lib import aws
from runbook_lib.aws import counter, metrics
from runbook_lib.steps import history, recover, status

UTC = dt.timezone.utc
DAY = dt.datetime(2022, 7, 1, tzinfo=UTC)
DROP_CHECK = "no count drop in recent history"


def at(hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return DAY + dt.timedelta(hours=hh, minutes=mm, seconds=ss)


def _publish(target, points) -> None:
    """One datum per published count, as the Lambda's Embedded Metric Format line makes."""
    data = [
        {
            "MetricName": target.metric_name,
            "Dimensions": [{"Name": "TableName", "Value": target.table}],
            "Timestamp": when,
            "Value": value,
            "Unit": "Count",
        }
        for when, value in points
    ]
    request = {"Namespace": target.metric_namespace, "MetricData": data}
    metrics.put_metric_data(aws.client("cloudwatch"), [request])


@pytest.fixture
def story(target, ddb, backups):
    """4600 -> 4676 by 00:31:20; a deploy resets the count at 00:33; the first visit after
    it publishes 1 at 00:38:05; 23 visits by 01:47; the live item holds 23."""
    before = [(at(0, 0, 20) + dt.timedelta(seconds=24 * i), 4600.0 + i) for i in range(76)]
    before.append((at(0, 31, 20), 4676.0))
    after = [(at(0, 38, 5) + dt.timedelta(seconds=190 * i), float(i + 1)) for i in range(23)]
    _publish(target, before + after)
    counter.init_counter(target, initial=23, ddb=ddb)
    return target


MINUTES_SECONDS = [(0, 0), (1, 7), (2, 31), (3, 59), (4, 2), (7, 45), (9, 13)]
SHIFTS = [dt.timedelta(minutes=m, seconds=s) for m, s in MINUTES_SECONDS]


@pytest.mark.parametrize("shift", SHIFTS, ids=lambda d: f"+{int(d.total_seconds())}s")
def test_status_history_and_recover_agree_to_the_minute_whatever_the_window(story, ddb, shift):
    now = at(7, 0) + shift

    report = status.run_status(story, now=now)
    hist = history.load_history(1, table=story.table, now=now, period=300)
    minute = history.load_history(1, table=story.table, now=now)
    rec = recover.run(story, days=1, now=now, ddb=ddb)

    row = next(c for c in report.checks if c.name == DROP_CHECK)
    assert (row.state, row.detail) == ("fail", "count dropped from 4676 to 1 at 00:38 UTC")
    assert "restore the last backup from before 00:31 UTC" in row.next_step
    assert report.verdict.startswith("UNHEALTHY: count dropped from 4676 to 1 at 00:38 UTC;")
    for read in (hist, minute):
        (reset,) = read.resets
        assert (reset.time, reset.before, reset.after) == (at(0, 38), 4676, 1)
        assert read.verdict.startswith("RESET: count dropped from 4676 to 1 at 00:38 UTC;")
    result = rec.fields
    assert result["reset_time"] == at(0, 38).isoformat()
    assert (result["before"], result["after"], result["live"]) == (4676, 0, 23)
    assert result["recovered"] == 4699 and rec.problem and not result["repaired"]
    assert rec.verdict == "DRY RUN: RESET FOUND"


def test_a_repair_taken_back_is_a_reset_again_and_proposed_from_the_live_count(story, ddb):
    """07 repairs (audit record), then the count is put back to 23 (an undo through
    04_backup_restore leaves no audit record): 02 and 07 read the live count and say so."""
    now = at(7, 0)
    done = recover.run(story, days=1, now=now, dry_run=False, confirm=story.table, ddb=ddb)
    assert done.fields["applied"] and counter.read_count(story, ddb=ddb) == 4699
    again = recover.run(story, days=1, now=now, ddb=ddb)
    assert again.fields["repaired"] and not again.problem, again.message
    assert again.verdict == "ALREADY REPAIRED"
    row = next(c for c in status.run_status(story, now=now).checks if c.name == DROP_CHECK)
    assert row.state == "warn" and "by 07_recover (+4676, audit id " in row.detail

    ddb.put_item(TableName=story.table, Item={**story.key, "viewCount": {"N": "23"}})

    row = next(c for c in status.run_status(story, now=now).checks if c.name == DROP_CHECK)
    assert row.state == "fail" and "but the live count is below 4676 again" in row.detail
    rec = recover.run(story, days=1, now=now, ddb=ddb)
    assert rec.problem and not rec.fields["repaired"] and rec.fields["recovered"] == 4699, (
        rec.message
    )
