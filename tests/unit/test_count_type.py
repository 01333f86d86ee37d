"""The count's type, decided without a server: a string count (S, a site that writes str(n))
is a count, reported with a warning, written as a string; no write changes the type or adds
a second count beside the item's own (issue 16, item 7)."""

from __future__ import annotations

import dataclasses

import pytest

from runbook_lib.aws import countset
from runbook_lib.aws.writetoken import WriteToken
from runbook_lib.errors import DecreaseRefusedError, InvalidInputError, exit_code_for
from runbook_lib.formats import countshape
from runbook_lib.formats.countvalue import (
    CountAttributeError,
    CountElsewhereError,
    CountTypeError,
    CountValueError,
    StoredCount,
    grew,
    holds_count,
    requested_type,
    stored_count,
)
from runbook_lib.model import Target
from runbook_lib.steps.common import auditlog as setrecord
from runbook_lib.steps.recover.text import recover_command
from runbook_lib.steps.setcount import outcome as setresult
from runbook_lib.steps.setcount.plan import SetPlan
from runbook_lib.steps.status import checks as statuschecks
from runbook_lib.steps.status import report as statusreport

SITE = {"id": {"S": "Counter"}, "count": {"S": "57"}}  # the item, verbatim
TARGET = Target(table="visitors", key_name="id", key_value="Counter", count_attribute="count")
STRING = dataclasses.replace(TARGET, count_type="S")
GUIDE = Target(table="visitors", key_name="id", key_value="Counter")  # viewCount, defaulted


def test_a_whole_number_in_a_string_is_a_count_of_type_s():
    assert stored_count(SITE, "count") == StoredCount(57, "S")
    assert stored_count({"c": {"N": "57"}}, "c") == StoredCount(57, "N")
    assert StoredCount(60, "S").wire() == {"S": "60"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"S": "many"}, "not a whole number"),
        ({"S": "057"}, "not a whole number"),  # not what str(n) writes: no guess
        ({"S": " 5"}, "not a whole number"),
        ({"S": "1.5"}, "not a whole number"),
        ({"S": "-3"}, "negative"),
        ({"BOOL": True}, "type BOOL"),
        ({"N": "2.5"}, "whole number"),
    ],
)
def test_what_is_not_a_count_says_so(value, message):
    with pytest.raises(CountValueError, match=message):
        stored_count({"c": value}, "c")


def test_holds_count_and_grew_take_both_types_never_across():
    assert holds_count({"S": "0"}) and holds_count({"N": "1.5"}) and not holds_count({"S": "x"})
    assert grew({"S": "57"}, {"S": "60"}) and grew({"N": "57"}, {"N": "57"})
    assert not grew({"S": "57"}, {"N": "60"}) and not grew({"S": "60"}, {"S": "57"})


@pytest.mark.parametrize(("given", "kind"), [("", ""), ("s", "S"), (" N ", "N")])
def test_count_type_parameter(given, kind):
    assert requested_type(given) == kind


def test_a_count_type_that_is_no_type_is_refused():
    with pytest.raises(InvalidInputError, match="count_type must be S"):
        requested_type("string")


# ---- a count under another name ------------------------------------------------------------


def test_a_count_under_another_name_is_named_with_the_fix():
    error = countshape.count_elsewhere(GUIDE, SITE)
    assert isinstance(error, CountElsewhereError) and not isinstance(error, InvalidInputError)
    assert str(error) == (
        "visitors's item id=Counter holds its count as 'count' (S \"57\"), not 'viewCount'; "
        "a 'viewCount' beside it would be a second count. Nothing was written. "
        "Next step: pass -p count_attribute count."
    )
    assert exit_code_for(type(error).__name__) == 3  # a finding: the runbook resolved the name


def test_a_count_attribute_the_user_passed_wrong_is_bad_usage():
    passed = Target(table="visitors", key_name="id", sources={"count_attribute": "parameter"})
    error = countshape.count_elsewhere(passed, SITE)
    assert isinstance(error, CountAttributeError) and isinstance(error, InvalidInputError)
    assert "(passed as count_attribute)" in str(error)
    assert exit_code_for(type(error).__name__) == 2


def test_keys_the_runbooks_token_and_text_are_not_counts():
    item = {"id": {"S": "7"}, "runbookWriteId": {"S": "12"}, "note": {"S": "hi"}}
    assert countshape.count_elsewhere(GUIDE, item) is None  # 01/03 may add the count
    assert countshape.count_elsewhere(TARGET, SITE) is None  # it is where it is looked for
    two = {**SITE, "hits": {"N": "3"}}
    assert "pass -p count_attribute NAME" in str(countshape.count_elsewhere(GUIDE, two))


# ---- the type a write uses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "requested", "refused_as"),
    [
        (SITE, "", "S"),  # a number over a string count: refused unless told
        (SITE, "N", "S"),  # told to change it: refused whatever
        (SITE, "S", None),
        ({**SITE, "count": {"N": "57"}}, "S", "N"),
        ({**SITE, "count": {"N": "57"}}, "", None),
        ({"id": {"S": "Counter"}}, "S", None),  # no count yet: nothing to change
    ],
)
def test_a_write_keeps_the_type(item, requested, refused_as):
    refusal = countshape.type_refusal(TARGET, item, requested, 60)
    assert (refusal.count_type if refusal else None) == refused_as


def test_the_refusal_explains_the_string_count():
    refusal = countshape.type_refusal(TARGET, SITE, "N", 60)
    assert 'holds count as a string (S "57"), as a site whose code writes str(n)' in str(refusal)
    assert "(count_type N) would change its type and break the site" in str(refusal)
    assert str(refusal).endswith("Next step: to write it as a string, as the site does, "
                                 "pass -p count_type S.")  # fmt: skip


def test_the_type_written_is_the_items_own_else_asked_else_the_targets():
    assert countshape.type_to_write(TARGET, SITE, "") == "S"
    assert countshape.type_to_write(TARGET, {"id": {"S": "Counter"}}, "") == "N"
    assert countshape.type_to_write(STRING, {"id": {"S": "Counter"}}, "") == "S"


def test_a_restore_of_another_type_is_refused():
    with pytest.raises(CountTypeError, match=r'holds count as N "20", the live item as S "57"'):
        countshape.restore_type(TARGET, SITE, {"count": {"N": "20"}}, "The backup b.json")
    assert countshape.restore_type(TARGET, SITE, {"count": {"S": "20"}}, "x") == "S"
    assert countshape.restore_type(TARGET, None, {"count": {"S": "20"}}, "x") == "S"


# ---- the conditional write's request -------------------------------------------------------


def _request(target, **kw):
    kw = {"expected": None, "read": None, "allow_decrease": False, "over_type": None, **kw}
    spec = countset.spec(target, 60, count_type=kw.pop("count_type", None), **kw)
    return countset.set_request(target, spec, WriteToken())


def test_a_string_set_writes_a_string_and_checks_the_type_and_the_value_read():
    request = _request(STRING, read=57)
    values = request["ExpressionAttributeValues"]
    assert values[":new"] == {"S": "60"} and values[":was"] == {"S": "S"}
    assert "attribute_type(#c, :was)" in request["ConditionExpression"]
    # never `#c <= :new` on a string: "100" <= "60" as text
    assert "<=" not in request["ConditionExpression"] and values[":read"] == {"S": "57"}


def test_a_number_set_keeps_its_numeric_guard():
    request = _request(TARGET, read=57)
    assert request["ExpressionAttributeValues"][":new"] == {"N": "60"}
    assert "#c <= :new" in request["ConditionExpression"]


def test_n_over_s_is_refused_before_anything_is_sent():
    with pytest.raises(CountTypeError, match="would change its type"):
        _request(TARGET, over_type="S")


def test_a_string_count_is_not_lowered_without_allow_decrease():
    with pytest.raises(DecreaseRefusedError, match="from 100 to 60"):
        _request(STRING, read=100)
    assert _request(STRING, read=100, allow_decrease=True)  # told to: a forced set


# ---- what 02, 03 and 07 say ----------------------------------------------------------------


def test_status_reports_a_string_count_with_a_warning_and_its_value():
    present, valid, value = statuschecks.check_item(SITE, None, TARGET)
    assert (present.state, valid.state, value) == ("ok", "warn", 57)
    assert 'count = 57, stored as a string (S "57")' in valid.detail
    assert "atomic ADD fails on a string" in valid.detail
    assert "the runbook keeps the type" in valid.next_step
    report = statusreport.StatusReport(TARGET, [present, valid], count=value, count_type="S")
    assert report.healthy and report.verdict.startswith("HEALTHY with 1 warning")  # exit 0
    assert report.to_dict()["count_type"] == "S"


def test_status_names_a_count_under_another_name_never_missing():
    _, valid, value = statuschecks.check_item(SITE, None, GUIDE)
    assert valid.state == "fail" and value is None
    assert valid.detail == (
        "visitors's item id=Counter holds its count as 'count' (S \"57\"), not 'viewCount'"
    )
    assert valid.next_step == "pass -p count_attribute count"
    assert "has no" not in valid.detail and "03_set_count" not in valid.next_step


def test_the_commands_carry_count_type_s():
    assert "-p count_type S" in setrecord.set_command(TARGET, 60, count_type="S")
    assert "count_type" not in setrecord.set_command(TARGET, 60)
    assert "-p count_type S -p dry_run False" in recover_command(TARGET, count_type="S")
    assert "count_type" not in recover_command(TARGET, count_type="N")


def test_a_refused_number_over_a_string_hands_over_the_string_command():
    refusal = countshape.type_refusal(TARGET, SITE, "N", 60)
    got = setresult.refused_result(TARGET, 60, refusal, count_type="N", dry_run=False)
    assert got.problem and got.count_type == "S"
    assert "-p new_value 60 -p count_type S -p dry_run False" in got.command
    assert got.message.startswith("REFUSED: visitors's item id=Counter holds count as a string")


def test_a_dry_run_over_a_string_count_says_the_confirmed_run_needs_count_type_s():
    plan = SetPlan(new_value=60, expected_current=None, reason="", apply=False)
    got = setresult.dry_run_result(TARGET, plan, SITE)
    assert not got.problem and got.count_type == "S"
    assert "A confirmed run is REFUSED without count_type S" in got.message
    assert "-p count_type S" in got.command
