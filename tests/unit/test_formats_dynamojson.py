"""The DynamoDB JSON codec and checks (formats/dynamojson.py), without a server."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings

from runbook_lib.errors import BackupFileError
from runbook_lib.formats import dynamojson, exportfile
from tests.itemstrategies import tables


@settings(max_examples=200, deadline=None)
@given(items=tables)
def test_line_codec_is_lossless(items):
    for item in items:
        line, digest = exportfile.encode_json_line(dynamojson.item_to_json(item))
        back = dynamojson.item_from_json(json.loads(line))
        assert back == item, "no float, no lost bytes, no reordered lists"
        assert dynamojson.item_digest(json.loads(line)) == digest


def test_numbers_are_decimal_never_float():
    assert dynamojson.check_number("0.1", "x") == Decimal("0.1")


def test_binary_is_base64_text_in_json_and_bytes_on_the_wire():
    wire = {"b": {"B": b"\x00\xff"}, "l": {"L": [{"BS": [b"\x01"]}]}}
    as_json = dynamojson.item_to_json(wire)
    assert as_json == {"b": {"B": "AP8="}, "l": {"L": [{"BS": ["AQ=="]}]}}
    assert dynamojson.item_from_json(as_json) == wire


def test_the_digest_ignores_set_order_but_not_list_order():
    a = {"k": {"S": "x"}, "s": {"SS": ["a", "b"]}, "l": {"L": [{"N": "1"}, {"N": "2"}]}}
    b = {"k": {"S": "x"}, "s": {"SS": ["b", "a"]}, "l": {"L": [{"N": "1"}, {"N": "2"}]}}
    c = {"k": {"S": "x"}, "s": {"SS": ["a", "b"]}, "l": {"L": [{"N": "2"}, {"N": "1"}]}}
    assert dynamojson.item_digest(a) == dynamojson.item_digest(b) != dynamojson.item_digest(c)


def test_a_bad_item_fails_before_it_is_decoded():
    with pytest.raises(BackupFileError, match=r"attribute v\.N: .*twelve"):
        dynamojson.item_from_json({"k": {"S": "x"}, "v": {"N": "twelve"}})
