"""05_migrate's counter items against the moto server (issue 16, items 6 to 8).

A stack with several counter items (one table holding `event=prod` and `event=test`), and
a count stored as a string (`{"S": "57"}`): each item's live count is read, each is backed
up to a file of its own, an apply that lowers one puts back exactly that item (its type
kept), and a run that read no count never reports success.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest

from runbook_lib.aws import counter
from runbook_lib.errors import StackMismatchError
from runbook_lib.model import Target
from runbook_lib.steps import migrate
from runbook_lib.steps.migrate import apply, counteritems, report
from runbook_lib.tf.stackmodel import Finding

ITEM = "aws_dynamodb_table_item"


@pytest.fixture
def events(ddb, moto_url, backups) -> Target:
    """A table keyed site + event, holding a prod (N 41) and a test (S "57") counter."""
    name = f"ev-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "site", "KeyType": "HASH"},
            {"AttributeName": "event", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "site", "AttributeType": "S"},
            {"AttributeName": "event", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for event, count in (("prod", {"N": "41"}), ("test", {"S": "57"})):
        item = {"site": {"S": "home"}, "event": {"S": event}, "count": count}
        ddb.put_item(TableName=name, Item={**item, "note": {"S": f"{event} row"}})
    return Target(
        table=name,
        key_name="site",
        key_value="home",
        range_key_name="event",
        range_key_value="prod",
        count_attribute="count",
        endpoint=moto_url,
        region="us-east-1",
    )


def _finding(target: Target, event: str, count: dict, in_state: bool = True) -> Finding:
    key = {"site": {"S": "home"}, "event": {"S": event}}
    address = f'{ITEM}.counter["{event}"]'
    return Finding(
        address=address,
        resource=f"{ITEM}.counter",
        table=target.table,
        hash_key="site",
        range_key="event",
        recorded={**key, "count": count},
        key=key,
        in_state=in_state,
    )


def _findings(target: Target) -> list[Finding]:
    banner = Finding(
        address=f'{ITEM}.counter["banner"]',
        resource=f"{ITEM}.counter",
        table=target.table,
        recorded={"site": {"S": "home"}, "event": {"S": "banner"}, "text": {"S": "hi"}},
        key={"site": {"S": "home"}, "event": {"S": "banner"}},
        in_state=True,
    )
    return [
        _finding(target, "prod", {"N": "0"}),
        _finding(target, "test", {"S": "0"}),
        banner,
    ]


def test_every_counter_item_is_found_with_its_own_key_attribute_and_type(events):
    items = counteritems.counter_items(_findings(events), events)
    assert [i.address for i in items] == [f'{ITEM}.counter["prod"]', f'{ITEM}.counter["test"]']
    prod, test = items
    assert prod.target is events, "the target's own item keeps the target"
    assert (test.target.range_key_value, test.target.count_type) == ("test", "S")
    assert [counteritems.live_count(i.target) for i in items] == [41, 57]


def test_a_string_count_is_read_as_its_number_and_never_made_one(events, ddb):
    test = replace(events, range_key_value="test", count_type="S")
    assert counteritems.live_count(test) == 57
    assert ddb.get_item(TableName=events.table, Key=test.key)["Item"]["count"] == {"S": "57"}
    missing = replace(events, range_key_value="nope")
    assert counteritems.live_count(missing) is None
    assert counteritems.live_count(replace(events, table="no-such-table-here")) is None


@pytest.mark.parametrize(
    "bad", [{"S": "abc"}, {"S": "-1"}, {"N": "-3"}, {"N": "1.5"}, {"BOOL": True}]
)
def test_migrate_reads_by_the_one_rule_and_refuses_what_is_no_count(events, ddb, bad):
    """counter.count_of's rule, with migrate's own cases: an item that holds only its key
    counts 0 (the Lambda ADDs the count later); a value that is no count is refused, since
    it could be neither backed up as a count nor checked after an apply."""
    key_only = replace(events, range_key_value="key-only")
    ddb.put_item(TableName=events.table, Item=key_only.key)
    assert counteritems.live_count(key_only) == 0
    ddb.put_item(TableName=events.table, Item={**key_only.key, "count": bad})
    assert counter.count_of({"count": bad}, "count") is None
    with pytest.raises(counter.CountValueError, match="not a whole number"):
        counteritems.live_count(key_only)


def _protected(events: Target) -> report.MigrationResult:
    """GIVEN a real run's result with every counter item read and backed up (migrate's
    steps 2 and 4: _protect_step's reads, then _backup)."""
    result = report.MigrationResult("stack", events.table, "removed", False)
    result.findings = _findings(events)
    result.items = counteritems.counter_items(result.findings, events)
    for item in result.items:
        item.count_before = counteritems.live_count(item.target)
    result.count_before = result.items[0].count_before
    migrate._backup("removed", result, lambda _line: None)
    return result


def test_each_item_is_backed_up_to_a_file_of_its_own_type_kept(events, backups):
    result = _protected(events)
    prod, test = result.items
    assert prod.backup and test.backup and prod.backup.path != test.backup.path
    assert result.backup_path == str(prod.backup.path)
    saved = json.loads(test.backup.path.read_text())
    assert saved["count"] == {"S": "57"} and saved["event"] == {"S": "test"}
    assert json.loads(prod.backup.path.read_text())["count"] == {"N": "41"}


def test_an_apply_that_lowers_one_item_puts_back_exactly_that_item(events, ddb, backups):
    result = _protected(events)
    test_key = result.items[1].target.key

    class ResettingApply:  # the configured item written back over the test counter only
        def converge(self) -> bool:
            item = {**test_key, "count": {"S": "0"}}
            ddb.put_item(TableName=events.table, Item=item)
            return True

    lines: list[str] = []
    apply.apply_step(ResettingApply(), result, "verify 1", None, result.items, lines.append)
    (record,) = result.applies
    assert record["count"] == 41
    assert record["counts"] == {f'{ITEM}.counter["prod"]': 41, f'{ITEM}.counter["test"]': 0}
    live = ddb.get_item(TableName=events.table, Key=test_key, ConsistentRead=True)["Item"]
    assert live == {**test_key, "count": {"S": "57"}, "note": {"S": "test row"}}, "exactly"
    prod, test = result.items
    assert test.restored_from == str(test.backup.path) and prod.restored_from is None
    assert result.restored_from_backup == str(test.backup.path)
    assert any("COUNT LOST" in line and "test" in line for line in lines)
    for item in result.items:
        item.count_after = counteritems.live_count(item.target)
    assert result.problem is True, "restored, but the migration did not protect the count"
    listed = result.to_dict()["items"]
    assert [(i["count_before"], i["count_after"], i["count_type"]) for i in listed] == [
        (41, 41, "N"),
        (57, 57, "S"),
    ]


def _read(findings: list[Finding], target: Target) -> list[counteritems.CounterItem]:
    items = counteritems.counter_items(findings, target)
    for item in items:
        item.count_before = counteritems.live_count(item.target)
    return items


def test_an_item_the_state_holds_but_no_count_was_read_for_stops_the_run(events):
    findings = [*_findings(events), _finding(events, "gone", {"N": "0"})]
    with pytest.raises(StackMismatchError, match=r'"gone"\].*has no item site=home, event=gone'):
        counteritems.require_live_items(_read(findings, events), findings, events)
    # not applied yet (not in the state): nothing to stop for
    findings[-1] = _finding(events, "gone", {"N": "0"}, in_state=False)
    counteritems.require_live_items(_read(findings, events), findings, events)


def test_a_real_run_that_read_no_count_is_never_a_success():
    result = report.MigrationResult("stack", "t", "removed", False)
    result.migrated = True
    result.items = [counteritems.CounterItem("a", Target(table="t"))]
    assert result.unchecked and result.problem
    assert result.to_dict()["unchecked"] is True
    result.nothing_to_protect = True  # nothing applied yet: said, not a problem
    assert not result.unchecked and not result.problem
    assert result.to_dict()["nothing_to_protect"] is True
