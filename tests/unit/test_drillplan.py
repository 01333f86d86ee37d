"""drillplan: where `runbook sandbox drill` puts the visits before, the reset and the visits
since, for a counter whose last datum is at a given time (pure, fixed clocks).

The rules every plan keeps, whatever the clock: every planted datum is after the existing
history's last minute and on a later 5-minute bucket; before now's last whole minute; the
reset on a 5-minute boundary with the first visit in its own minute; a visit in the bucket
just before the reset; at least as long before the reset as after it; a second drill right
after the first is refused with the fresh-sandbox command and the time it becomes possible.
"""

from __future__ import annotations

import pandas as pd
import pytest

from runbook_lib.errors import InvalidInputError
from runbook_lib.sandbox import drillplan, seed

NOW = pd.Timestamp("2024-05-01T15:47:23Z")  # a Wednesday afternoon, not on any boundary
MIN = pd.Timedelta(minutes=1)
FIVE = pd.Timedelta(minutes=5)


def _rules(plan: drillplan.DrillPlan, last_datum: pd.Timestamp | None, now=NOW) -> None:
    before, after = plan.before.index, plan.after
    assert plan.reset_at == plan.reset_at.floor(FIVE)
    assert plan.history_end == plan.history_end.floor(FIVE) == before[0]
    if last_datum is not None:  # later minute and later 5-minute bucket than the last datum
        assert before[0] >= last_datum.floor(MIN) + MIN
        assert before[0].floor(FIVE) > last_datum.floor(FIVE)
    assert before[0] >= now.floor(FIVE) - drillplan.LOOKBACK  # 02 sees it
    assert (before.to_series().diff().dropna() == FIVE).all()
    assert before[-1] + FIVE == plan.reset_at  # the buckets run up to the reset
    assert plan.before["visits"].iloc[-1] >= 1 and (plan.before["visits"] >= 0).all()
    assert list(after) == sorted(after) and len(after) == drillplan.VISITS_AFTER
    assert after[0].floor(MIN) == plan.reset_at  # the drop shows in the reset's own minute
    assert all(t > plan.reset_at for t in after[1:])
    assert after[-1] < now.floor(MIN)  # every visit in the past of now's minute
    span = after[-1] - plan.reset_at
    assert plan.reset_at - plan.history_end >= span  # as long before as after, at least


def test_a_fresh_sandbox_gets_about_an_hour_and_a_half_of_visits_after_the_reset():
    last = NOW - seed.QUIET_BEFORE_UP - pd.Timedelta(seconds=10)  # sandbox up just now
    plan = drillplan.plan(NOW, last)
    _rules(plan, last)
    assert plan.after[-1] - plan.reset_at > pd.Timedelta(minutes=60)
    # quiet from 12:50 (the minute after the last datum, to the 5-minute boundary) to 15:45
    # (now's boundary, a minute before now): half of it after the reset, to 5 minutes
    assert plan.reset_at == pd.Timestamp("2024-05-01T14:20Z")


def test_a_counter_with_no_recent_datum_gets_a_day_of_history_before():
    plan = drillplan.plan(NOW, None)
    _rules(plan, None)
    assert plan.history_end == NOW.floor(FIVE) - pd.Timedelta(hours=24)
    # the daily rhythm at the seeded rate: a day's worth of visits, give or take
    assert 150 < plan.before_visits < 450


def test_a_datum_older_than_the_lookback_is_as_good_as_none():
    assert drillplan.plan(NOW, NOW - pd.Timedelta(days=3)).before.equals(
        drillplan.plan(NOW, None).before
    )


@pytest.mark.parametrize("minutes", [71, 75, 119, 181, 600])
def test_every_quiet_time_of_an_hour_or_more_is_planted_by_the_rules(minutes):
    last = NOW - pd.Timedelta(minutes=minutes)
    _rules(drillplan.plan(NOW, last), last)


@pytest.mark.parametrize("minutes", [0, 5, 30, 55])
def test_a_second_drill_right_after_the_first_is_refused_with_what_to_do(minutes):
    last = NOW - pd.Timedelta(minutes=minutes)
    with pytest.raises(drillplan.DrillRefusedError) as refused:
        drillplan.plan(NOW, last)
    message = str(refused.value)
    assert "runbook sandbox down && runbook sandbox up" in message
    assert "Nothing was written" in message and "\n" not in message
    # the time it names is the first at which a plan is made
    possible = drillplan.quiet_from(last, NOW) + drillplan.MIN_QUIET + drillplan.LAST_VISIT_MARGIN
    assert f"drill again after {possible:%H:%M} UTC" in message
    _rules(drillplan.plan(possible, last), last, possible)
    with pytest.raises(drillplan.DrillRefusedError):
        drillplan.plan(possible - pd.Timedelta(seconds=1), last)


def test_a_datum_in_the_future_leaves_no_room():
    with pytest.raises(drillplan.DrillRefusedError):
        drillplan.plan(NOW, NOW + pd.Timedelta(hours=2))


def test_the_same_clock_plans_the_same_drill():
    last = NOW - pd.Timedelta(hours=3)
    one, two = drillplan.plan(NOW, last), drillplan.plan(NOW, last)
    assert one.after == two.after and one.before.equals(two.before)


def test_a_drill_needs_a_visit_after_the_reset():
    with pytest.raises(InvalidInputError):
        drillplan.plan(NOW, None, visits_after=0)
