"""The one reset detector (steps/resets.py, pure): a reset's time does not move with the query
window, a repair is told apart from visits (audit log, metric climb back, live count) and a
partial or undone repair is not one. No server: points and audit records are built here.

The story (issue 17): 4676 at 00:31, a deploy resets the count at 00:33, the first visit
after it publishes 1 at 00:38:05, 23 visits land, 07_recover sets 23 -> 4699 at 01:58, the
next visit publishes 4700 at 02:03.
"""

from __future__ import annotations

import datetime as dt

import pytest

from runbook_lib.steps.reset import resetread, resets, resettext
from runbook_lib.steps.reset.resets import Reset, Write

UTC = dt.timezone.utc
DAY = dt.datetime(2026, 5, 4, tzinfo=UTC)


def t(hhmmss: str) -> dt.datetime:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return DAY + dt.timedelta(hours=h, minutes=m, seconds=s)


def _story(repair_at: str | None = "01:58:00", after_repair: bool = True) -> list:
    """Raw published counts (time, count): the Lambda publishes after every visit."""
    raw = [(t("00:00:00") + dt.timedelta(seconds=37 * i), 4600.0 + i) for i in range(77)]
    raw = [p for p in raw if p[0] < t("00:31:30")]
    raw.append((t("00:31:20"), 4676.0))
    visits = [t("00:38:05") + dt.timedelta(seconds=190 * i) for i in range(23)]  # to 01:47
    raw += [(when, float(i + 1)) for i, when in enumerate(visits)]
    if after_repair:
        raw.append((t("02:03:10"), 4700.0 if repair_at else 24.0))
    return sorted(raw)


def _buckets(raw: list, period: int, offset: int = 0) -> list[tuple[dt.datetime, float, float]]:
    """(start, Minimum, Maximum) of the non-empty buckets starting `offset` seconds after a
    whole period: how CloudWatch answers a window that starts there."""
    out: dict[dt.datetime, list[float]] = {}
    for when, value in raw:
        stamp = when.timestamp() - offset
        start = dt.datetime.fromtimestamp(stamp - stamp % period + offset, tz=UTC)
        out.setdefault(start, []).append(value)
    return [(k, min(v), max(v)) for k, v in sorted(out.items())]


def _detect(raw: list, period: int, offset: int = 0, **kwargs) -> list[Reset]:
    """The detector as `resetread.detect` runs it, with the reads done on `raw`."""
    coarse = [(k, hi) for k, _, hi in _buckets(raw, period, offset)]
    fine = _buckets(raw, 60)
    drops = resets.find_drops(coarse)
    start = lambda d: resetread.floor_time(d.previous_time, 60)  # noqa: E731 - as fine_rows
    pinned = [resets.pin(d, [r for r in fine if start(d) <= r[0]]) for d in drops]
    return resets.settle(pinned, coarse, kwargs.pop("writes", ()), **kwargs)


REPAIR = Write(t("01:58:00"), 23, 4699, resets.RECOVER, "3f2a9c", "arn:aws:iam::1:user/op")


# ---- the reset's time ----------------------------------------------------------------------


@pytest.mark.parametrize("period", [60, 300, 3600])
@pytest.mark.parametrize("offset", [0, 17, 60, 134, 240, 299])
def test_the_time_is_the_first_count_at_the_low_level_whatever_the_window(period, offset):
    """02 read 5-minute buckets starting where the run started: its drop moved from 00:33 to
    00:37 and "to 1" became "to 2". Pinned by the 60 s Minimum, every window says one thing."""
    (reset,) = _detect(_story(after_repair=False), period, offset % period)

    assert reset.pinned and reset.time == t("00:38:00")
    assert (reset.before, reset.after, reset.level, reset.lost) == (4676, 1, 0, 4676)
    assert reset.previous_time == t("00:31:00"), "the minute of the last count before it"


def test_the_coarse_bucket_alone_moves_with_the_window():
    """Why the fine read: the bucket where a 5-minute Maximum drops depends on the start."""
    seen = {
        resets.find_drops([(k, hi) for k, _, hi in _buckets(_story(), 300, off)])[0].time
        for off in range(0, 300, 60)
    }
    assert len(seen) > 1


def test_a_reset_inside_one_minute_is_dated_to_that_minute():
    """The last count before and the first after in the same minute: its Maximum is the
    level before, its Minimum the first count at the low level."""
    raw = [(t("00:36:10"), 4675.0), (t("00:37:05"), 4676.0), (t("00:37:40"), 1.0)]
    raw += [(t("00:39:00"), 2.0), (t("00:44:00"), 3.0)]

    for period in (60, 300):
        (reset,) = _detect(raw, period)
        assert (reset.time, reset.previous_time) == (t("00:37:00"), t("00:37:00"))
        assert (reset.before, reset.after) == (4676, 1)


def test_without_fine_rows_the_coarse_date_stands():
    (drop,) = resets.find_drops([(t("00:30:00"), 4676.0), (t("00:35:00"), 3.0)])
    assert resets.pin(drop, []) == drop and not drop.pinned


def test_the_runbooks_own_lowering_write_dates_the_reset():
    """03_set_count with allow_decrease at 00:36:30: the audit time is the reset's time."""
    lowered = Write(t("00:36:30"), 4676, 0, resets.SET, "a1")
    (reset,) = _detect(_story(after_repair=False), 300, writes=[lowered])

    assert reset.made_by == lowered and reset.time == t("00:36:30")
    assert reset.level == 0 and not reset.repaired
    assert "(set by 03_set_count (-4676, audit id a1))" in resettext.dropped(reset, DAY)


# ---- repairs ------------------------------------------------------------------------------


def test_an_audited_repair_after_the_reset_is_a_repair_even_before_any_visit():
    (reset,) = _detect(_story(after_repair=False), 300, writes=[REPAIR], live=4699)

    assert reset.repaired and reset.repair.write == REPAIR
    assert reset.repair.evidence == ("audit log",)
    assert resettext.repaired(reset, DAY) == (
        "reset at 00:38 UTC (4676 → 1), repaired at 01:58 UTC by 07_recover "
        "(+4676, audit id 3f2a9c)"
    )


def test_with_the_audit_log_and_the_climb_both_are_named():
    (reset,) = _detect(_story(), 300, writes=[REPAIR], live=4700)
    assert reset.repair.evidence == ("audit log", "count metric")
    assert resettext.how_repaired(reset).endswith("and the count metric climbed back")


@pytest.mark.parametrize("offset", [0, 120])
def test_without_an_audit_log_the_climb_back_alone_is_a_repair(offset):
    """Another machine: no audit log, only the metric's one step up of about the loss."""
    (reset,) = _detect(_story(), 300, offset)

    assert reset.repaired and reset.repair.write is None
    assert reset.repair.evidence == ("count metric",) and reset.repair.gain == 4700 - 23
    assert "climbed back +4677 in one step" in resettext.repaired(reset, DAY)


def test_without_an_audit_log_or_a_visit_the_live_count_holds_the_repair():
    (reset,) = _detect(_story(after_repair=False), 300, live=4699)
    assert reset.repaired and reset.repair.evidence == ("live count",)
    (unknown,) = _detect(_story(after_repair=False), 300)
    assert not unknown.repaired and unknown.repair is None, "06 has no live count"


@pytest.mark.parametrize("live", [23, 30, 500])
def test_visits_are_not_a_repair(live):
    (reset,) = _detect(_story(after_repair=False), 300, live=live)
    assert not reset.repaired


def test_a_partial_repair_is_not_a_repair():
    partial = Write(t("01:58:00"), 23, 2000, resets.SET, "b2")
    raw = [*_story(after_repair=False), (t("02:03:10"), 2001.0)]

    (reset,) = _detect(raw, 300, writes=[partial], live=2001)

    assert not reset.repaired and reset.repair.covers is False
    assert reset.repair.gain == 1977
    assert resettext.shortfall(reset, DAY) == (
        "; 03_set_count (+1977, audit id b2) at 01:58 UTC did not cover the loss of 4676 "
        "(a partial repair)"
    )


def test_two_writes_that_together_cover_the_loss_repair_it():
    first = Write(t("01:50:00"), 23, 2000, resets.SET, "c1")
    second = Write(t("01:58:00"), 2000, 4700, resets.SET, "c2")
    (reset,) = _detect(_story(after_repair=False), 300, writes=[first, second], live=4700)
    assert reset.repaired and reset.repair.write == second and reset.repair.gain == 4677
    assert resettext.how_repaired(reset, DAY) == (
        "repaired at 01:58 UTC by 03_set_count (+4677 with the runbook's writes before it, "
        "audit id c2)"
    )


def test_a_write_before_the_reset_or_another_tables_is_no_repair():
    early = Write(t("00:10:00"), 4620, 9999, resets.SET, "d1")
    (reset,) = _detect(_story(after_repair=False), 300, writes=[early])
    assert reset.repair is None


def test_a_repair_the_live_count_no_longer_holds_is_undone():
    """Repaired at 01:58, then put back (an undo through 04, no audit record): live 30."""
    (reset,) = _detect(_story(after_repair=False), 300, writes=[REPAIR], live=30)
    assert not reset.repaired and reset.repair.undone
    assert "but the live count is below 4676 again" in resettext.shortfall(reset, DAY)


def test_a_busy_sites_step_of_visits_is_no_climb_back():
    """A step the size of the loss, but the hours around it hold steps as big: visits."""
    raw = [(t("00:00:00") + dt.timedelta(minutes=5 * i), 5000.0 * i) for i in range(10)]
    raw.append((t("00:50:00"), 100.0))  # a drop of 44,900
    raw += [
        (t("00:55:00") + dt.timedelta(minutes=5 * i), 100.0 + 45000 * (i + 1)) for i in range(4)
    ]

    (reset,) = _detect(raw, 300)
    assert not reset.repaired


def test_only_the_latest_reset_is_judged_with_the_live_count():
    raw = [*_story(), (t("03:00:00"), 4701.0), (t("03:05:00"), 2.0), (t("03:10:00"), 3.0)]
    first, second = _detect(raw, 300, live=3)
    assert first.repaired and first.repair.evidence == ("count metric",)
    assert not second.repaired and second.repair is None


# ---- visits and words ------------------------------------------------------------------------


def test_the_runbooks_own_rise_is_not_visits():
    coarse = [(k, hi) for k, _, hi in _buckets(_story(), 300)]
    found = _detect(_story(), 300, writes=[REPAIR])

    assert resets.own_jumps(found, [REPAIR], coarse, 300) == [(t("02:00:00"), 4676.0)]
    metric_only = _detect(_story(), 300)
    assert resets.own_jumps(metric_only, [], coarse, 300) == [(t("02:00:00"), 4676.0)]


def test_the_next_step_names_the_reset_when_it_is_not_the_latest():
    raw = [*_story(after_repair=False), (t("03:00:00"), 24.0), (t("03:05:00"), 1.0)]
    first, _ = _detect(raw, 300)

    text, step = resettext.problem([first, _], DAY, "in the last 24 h")
    assert text.startswith("count dropped from 4676 to 1 at 00:38 UTC (2 drops in the last 24 h")
    assert "runbook run 07_recover -p reset_time 2026-05-04T00:38Z (dry run first)" in step
    assert "restore the last backup from before 00:31 UTC (the last count before the drop)" in step
    assert resettext.at(t("00:38:00"), DAY + dt.timedelta(days=1)) == "2026-05-04 00:38 UTC"


# ---- the audit log as evidence ------------------------------------------------------------


def _record(**kw):
    base = {"id": "e1", "time": "2026-05-04T01:58:00+00:00", "action": "set_count", "table": "T",
            "old": 23, "new": 4699, "dry_run": False, "target": "http://127.0.0.1:5000",
            "region": "us-east-1", "reason": "07_recover: count rebuilt"}  # fmt: skip
    return {**base, **kw}


def test_audit_records_are_this_tables_on_this_endpoint_and_region():
    records = [
        _record(),
        _record(id="other-table", table="U"),
        _record(id="real-aws", target="aws"),
        _record(id="other-region", region="eu-west-1"),
        _record(id="dry", dry_run=True),
        _record(id="not-a-number", old=None),
        _record(id="by-hand", reason="restore after incident 42", time="2026-05-04T02:00:00"),
    ]
    writes = resetread.writes_from(records, "T", "http://127.0.0.1:5000/", "us-east-1")
    assert [(w.id, w.by) for w in writes] == [("e1", "07_recover"), ("by-hand", "03_set_count")]
    assert writes[1].time.tzinfo is not None


def test_a_bad_line_in_the_audit_log_hides_nothing(tmp_path):
    import json

    log = tmp_path / "audit.jsonl"
    log.write_text(
        json.dumps(_record()) + "\n{cut short\n[1, 2]\n" + json.dumps(_record(id="e2")) + "\n"
    )
    writes = resetread.audit_writes("T", "http://127.0.0.1:5000", "us-east-1", log)
    assert [w.id for w in writes] == ["e1", "e2"]
    assert resetread.audit_writes("T", "aws", "us-east-1", tmp_path / "none.jsonl") == []


@pytest.mark.parametrize(
    ("age", "period"),
    [(dt.timedelta(hours=1), 60), (dt.timedelta(days=15), 60), (dt.timedelta(days=20), 300),
     (dt.timedelta(days=100), 3600)],
)  # fmt: skip
def test_the_fine_read_uses_the_finest_period_cloudwatch_keeps(age, period):
    assert resetread.finest_period(age) == period


def test_a_deliberate_reset_with_03_set_count_is_told_not_alarmed():
    """03_set_count lowers a count only with allow_decrease and a confirm: a reset the audit
    log shows it made is settled (02 WARNs, exit 0; 06 tells it; 07 has nothing to recover),
    while the same drop without that record stays a problem."""
    lowered = Write(t("00:36:30"), 4676, 0, resets.SET, "a1")
    (reset,) = _detect(_story(after_repair=False), 300, writes=[lowered])
    assert reset.deliberate and reset.settled and not reset.repaired
    assert resettext.worst([reset]) is None
    text = resettext.all_repaired([reset], DAY, "in the last 24 h")
    assert text.startswith("count set from 4676 to 0 at 00:36 UTC by 03_set_count (-4676")
    assert "a deliberate reset (allow_decrease), nothing to repair" in text

    (incident,) = _detect(_story(after_repair=False), 300)
    assert not incident.deliberate and resettext.worst([incident]) == incident
    recovered = Write(t("00:36:30"), 4676, 0, resets.RECOVER, "r1")
    (by_recover,) = _detect(_story(after_repair=False), 300, writes=[recovered])
    assert not by_recover.deliberate  # only 03's own lowering is on purpose


def test_a_repair_then_a_deliberate_set_below_it_is_not_undone():
    """Repaired at 01:58 by 07, then lowered on purpose with 03_set_count (allow_decrease)
    before any visit published it: live 10 is the user's choice, not the repair taken back,
    so 02 and 07 do not alarm nor offer to write the old count over it. Without the set in
    the audit log, the same live count is an undone repair."""
    lowered = Write(t("02:30:00"), 4676, 10, resets.SET, "s1")
    (reset,) = _detect(_story(after_repair=False), 300, writes=[REPAIR, lowered], live=10)
    assert reset.repaired and not reset.repair.undone
    (undone,) = _detect(_story(after_repair=False), 300, writes=[REPAIR], live=10)
    assert undone.repair.undone
