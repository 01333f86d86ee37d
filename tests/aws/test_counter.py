"""Counter operations against a real moto server over HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from runbook_lib.aws import counter
from runbook_lib.errors import CountConflictError, InvalidInputError, ItemMissingError


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
        counter.conditional_set(target, 1, expected_current=5, ddb=ddb)
    assert err.value.live_value == "9"
    assert counter.read_count(target, ddb=ddb) == 9


def test_conditional_set_never_creates_the_item(target, ddb):
    with pytest.raises(ItemMissingError):
        counter.conditional_set(target, 3, ddb=ddb)
    assert counter.get_item(target, ddb=ddb) is None
