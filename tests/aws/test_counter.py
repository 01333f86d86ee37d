"""Counter operations against a real moto server over HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from runbook_lib.aws import counter
from runbook_lib.errors import (
    CountConflictError,
    DecreaseRefusedError,
    InvalidInputError,
    ItemMissingError,
)


def test_init_creates_then_reports_existing(target, ddb):
    first = counter.init_counter(target, ddb=ddb)
    assert first.created and first.value == 0
    counter.increment(target, ddb=ddb)
    second = counter.init_counter(target, ddb=ddb)
    assert not second.created
    assert second.value == 1, "init must hand back the existing value, not reset it"
    assert counter.read_count(target, ddb=ddb) == 1


def test_sixteen_parallel_inits_create_exactly_once(target, ddb):
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: counter.init_counter(target, initial=7), range(16)))
    assert sum(r.created for r in results) == 1
    assert all(r.value == 7 for r in results)


def test_read_missing_item_says_run_init(target, ddb):
    with pytest.raises(ItemMissingError, match="01_init"):
        counter.read_count(target, ddb=ddb)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ({"S": "many"}, "type S"),  # a string count holds a whole number ("12" is one)
        ({"S": "-3"}, "negative"),
        ({"BOOL": True}, "type BOOL"),
        ({"N": "-3"}, "negative"),
        ({"N": "1.5"}, "whole number"),
    ],
)
def test_bad_stored_count_is_a_clear_error(target, ddb, stored, message):
    ddb.put_item(TableName=target.table, Item={**target.key, "viewCount": stored})
    with pytest.raises(counter.CountValueError, match=message):
        counter.read_count(target, ddb=ddb)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "negative"),
        (True, "whole number"),
        (1.5, "whole number"),
        ("ten", "whole number"),
        (10**38, "38"),
        (None, "whole number"),
    ],
)
def test_validate_count_refuses(value, message):
    with pytest.raises(InvalidInputError, match=message):
        counter.validate_count(value)


def test_validate_count_accepts_limits():
    assert counter.validate_count(0) == 0
    assert counter.validate_count("42") == 42
    assert counter.validate_count(10**38 - 1) == 10**38 - 1


def test_conditional_set_compare_and_set(target, ddb):
    counter.init_counter(target, initial=5, ddb=ddb)
    old = counter.conditional_set(target, 9, expected_current=5, ddb=ddb)
    assert old["viewCount"] == {"N": "5"}
    with pytest.raises(CountConflictError, match="live value is 9") as err:
        counter.conditional_set(target, 1, expected_current=5, allow_decrease=True, ddb=ddb)
    assert err.value.live_value == "9"
    assert counter.read_count(target, ddb=ddb) == 9


@pytest.mark.parametrize("expected", [None, 5])
def test_conditional_set_by_default_refuses_to_lower_the_count(target, ddb, expected):
    """GIVEN a count of 5, WHEN a set to 3 forgets allow_decrease (with or without
    expected_current), THEN it is refused and nothing is written; raising needs no flag,
    and allow_decrease=True lowers on purpose."""
    counter.init_counter(target, initial=5, ddb=ddb)
    with pytest.raises(DecreaseRefusedError, match=r"Refusing to lower viewCount .* from 5 .*to 3"):
        counter.conditional_set(target, 3, expected_current=expected, ddb=ddb)
    assert counter.read_count(target, ddb=ddb) == 5
    counter.conditional_set(target, 8, expected_current=expected and 5, ddb=ddb)
    assert counter.read_count(target, ddb=ddb) == 8
    counter.conditional_set(
        target, 3, expected_current=expected and 8, allow_decrease=True, ddb=ddb
    )
    assert counter.read_count(target, ddb=ddb) == 3


@pytest.mark.parametrize(
    ("item", "count"),
    [
        (None, None),  # no item
        ({"stat": {"S": "Quantity"}}, None),  # no count attribute
        ({"c": {"N": "57"}}, 57),
        ({"c": {"S": "57"}}, 57),  # a string count, as str(n) writes it
        ({"c": {"S": "057"}}, None),  # not what str(n) writes: no guess
        ({"c": {"S": "many"}}, None),
        ({"c": {"N": "-3"}}, None),
        ({"c": {"N": "1.5"}}, None),
        ({"c": {"BOOL": True}}, None),
    ],
)
def test_count_of_is_the_one_count_or_none_rule(item, count):
    assert counter.count_of(item, "c") == count


def test_read_count_or_none_reads_the_live_item(target, ddb):
    assert counter.read_count_or_none(target, ddb=ddb) is None
    ddb.put_item(TableName=target.table, Item={**target.key, "viewCount": {"BOOL": True}})
    assert counter.read_count_or_none(target, ddb=ddb) is None
    counter.conditional_set(target, 4, over_type="BOOL", ddb=ddb)  # a repair: nothing to lower
    assert counter.read_count_or_none(target, ddb=ddb) == 4


def test_conditional_set_never_creates_the_item(target, ddb):
    with pytest.raises(ItemMissingError):
        counter.conditional_set(target, 3, ddb=ddb)
    assert counter.get_item(target, ddb=ddb) is None
