"""The drill's writes on a seeded sandbox counter, against the moto server over HTTP.

GIVEN a counter seeded as `sandbox up` seeds it (2 days of history, quiet for the last 3 h)
WHEN `drill.drill` plants its reset
THEN the count gauge, read as 06/07 read it (60 s, 300 s) and as 02 reads it (300 s from a
`now` that is on no boundary), drops exactly once, at the planted reset, from the planted
`before`, never mixing with the seeded history; the live item holds the visits since; a
second drill at once is refused and writes nothing; one planted two hours later (a `now`
ahead of the clock: all its datums are after the first drill's) adds exactly one more drop.
"""

from __future__ import annotations

import itertools
import uuid

import pandas as pd
import pytest

from runbook_lib.aws import counter, metrics
from runbook_lib.errors import InvalidInputError
from runbook_lib.sandbox import drill, drillplan, provision
from runbook_lib.sandbox import server as sandbox
from tests.conftest import make_table


@pytest.fixture
def seeded(moto_url: str, ddb) -> sandbox.SandboxInfo:
    """The sandbox's counter under a name of its own (tests share the server)."""
    tag = uuid.uuid4().hex[:10]
    outputs = {
        "table_name": make_table(ddb, f"drill-{tag}-VisitorCount"),
        "function_name": f"fn-{tag}",
        "api_id": tag,
        "metric_namespace": "VisitorCounter",
        "metric_name": "ViewCount",
    }
    provision.seed(moto_url, sandbox.REGION, outputs, days=2, log=lambda _m: None)
    return sandbox.SandboxInfo(url=moto_url, pid=0, outputs=outputs)


def _gauge(info: sandbox.SandboxInfo, period: int, start, end) -> list[tuple]:
    spec = metrics.count_spec(info.outputs["table_name"])
    cw = provision.sandbox_client(info.url, info.region, "cloudwatch")
    data = metrics.get_metric_data(cw, metrics.build_queries([spec], period), start, end)
    return sorted(data.points["count"])


def _drops(points: list[tuple]) -> list[tuple]:
    return [(a, b) for a, b in itertools.pairwise(points) if b[1] < a[1]]


def _live(info: sandbox.SandboxInfo) -> int:
    target = provision.sandbox_target(info.url, info.region, info.outputs)
    return counter.read_count(
        target, ddb=provision.sandbox_client(info.url, info.region, "dynamodb")
    )


def _windows(now: pd.Timestamp):
    """(period, start, end) as 06/07 (aligned) and 02 (24 h back from `now`) read."""
    aligned_end = now.ceil("300s").to_pydatetime()
    for period in (60, 300):
        yield period, (now.floor("300s") - pd.Timedelta(days=2)).to_pydatetime(), aligned_end
    yield 300, (now - pd.Timedelta(hours=24)).to_pydatetime(), now.to_pydatetime()


def test_the_planted_reset_is_the_one_drop_whatever_the_period(seeded):
    now = pd.Timestamp.now(tz="UTC")
    seeded_live = _live(seeded)
    planted = drill.drill(seeded, now=now, log=lambda _m: None)

    assert planted.before == seeded_live + planted.before_visits
    assert (planted.reset_value, planted.since) == (0, drillplan.VISITS_AFTER)
    assert _live(seeded) == planted.live == planted.since
    assert planted.expected_recovered == planted.before + planted.since
    for period, start, end in _windows(now):
        drops = _drops(_gauge(seeded, period, start, end))
        assert len(drops) == 1, (period, start, drops)
        (_, before), (when, after) = drops[0]
        assert before == planted.before and after <= planted.since
        # the period holding the first visit, in its minute after the reset
        reset = planted.reset_at
        assert reset - pd.Timedelta(seconds=period) < when < reset + pd.Timedelta(seconds=60)


def test_a_second_drill_at_once_is_refused_and_writes_nothing(seeded):
    drill.drill(seeded, log=lambda _m: None)
    live = _live(seeded)
    window = next(_windows(pd.Timestamp.now(tz="UTC")))
    points = _gauge(seeded, *window)

    with pytest.raises(drillplan.DrillRefusedError, match="runbook sandbox down && runbook"):
        drill.drill(seeded, log=lambda _m: None)

    assert _live(seeded) == live
    assert _gauge(seeded, *window) == points


def test_a_drill_after_enough_quiet_adds_exactly_one_more_reset(seeded):
    now = pd.Timestamp.now(tz="UTC")
    first = drill.drill(seeded, now=now, log=lambda _m: None)
    later = now + pd.Timedelta(hours=2)
    second = drill.drill(seeded, now=later, log=lambda _m: None)

    assert second.history_from > first.last_visit_at
    assert second.before == first.live + second.before_visits  # continues from the live count
    for period, start, end in _windows(later):
        drops = _drops(_gauge(seeded, period, start, end))
        assert [d[0][1] for d in drops] == [first.before, second.before], (period, drops)


def test_off_loopback_is_refused_before_any_request():
    info = sandbox.SandboxInfo(url="http://192.0.2.10:4566", pid=0, outputs={"table_name": "t-x"})
    # the refusal, not a connection error: no request was sent to the address
    with pytest.raises(InvalidInputError, match="not on loopback: nothing was written"):
        drill.drill(info, log=lambda _m: None)
