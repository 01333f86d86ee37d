"""Target resolution: parameter, the stack given, environment, terraform/ output, the live
table (key names and types), the addressed or only item, defaults."""

from __future__ import annotations

import base64
import textwrap
import uuid
from pathlib import Path

import pytest

from runbook_lib.aws import counter
from runbook_lib.errors import InvalidInputError, StackMismatchError, TargetConflictError
from runbook_lib.model import Target, typed_value
from runbook_lib.resolve import resolve_target


def _name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _table(ddb, *, keys=(("id", "N"),), items=()) -> str:
    name = _name("crc")
    roles = ("HASH", "RANGE")
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": k, "KeyType": r} for (k, _), r in zip(keys, roles, strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": t} for k, t in keys],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in items:
        ddb.put_item(TableName=name, Item=item)
    return name


def _stack(folder: Path, table: str, item: str, hash_key: str = "id", kind: str = "N") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text(
        textwrap.dedent(f"""
        resource "aws_dynamodb_table" "crc" {{
          name         = "{table}"
          billing_mode = "PAY_PER_REQUEST"
          hash_key     = "{hash_key}"
          attribute {{
            name = "{hash_key}"
            type = "{kind}"
          }}
        }}

        resource "aws_dynamodb_table_item" "seed" {{
          table_name = aws_dynamodb_table.crc.name
          hash_key   = aws_dynamodb_table.crc.hash_key
          item       = <<-EOS
            {item}
          EOS
        }}
        """)
    )
    return folder


def test_parameters_win_over_environment(monkeypatch):
    monkeypatch.setenv("RUNBOOK_TABLE", "from-env")
    target = resolve_target("from-param", live=False)
    assert target.table == "from-param"
    assert target.sources["table"] == "parameter"
    assert any("RUNBOOK_* settings ignored" in n for n in target.notes)


def test_environment_then_defaults(monkeypatch):
    monkeypatch.setenv("RUNBOOK_TABLE", "env-table")
    target = resolve_target("", live=False)
    assert (target.table, target.key_name, target.key_value, target.count_attribute) == (
        "env-table",
        "stat",
        "Quantity",
        "viewCount",
    )
    assert target.sources["table"] == "env RUNBOOK_TABLE"
    assert target.sources["key_name"] == "default"
    assert target.key == {"stat": {"S": "Quantity"}}


def test_no_table_anywhere_says_how_to_fix():
    with pytest.raises(InvalidInputError, match="RUNBOOK_TABLE"):
        resolve_target(live=False)


@pytest.mark.parametrize("bad", ["ab", "has space", "x" * 256, "semi;colon"])
def test_invalid_table_names_are_refused_before_any_call(bad):
    with pytest.raises(InvalidInputError, match="not a valid DynamoDB table name"):
        resolve_target(bad)  # live=True: the name is checked before DescribeTable


def test_sandbox_detection(moto_url):
    target = resolve_target("some-table")
    assert target.is_sandbox and target.endpoint == moto_url
    assert any("key schema not read" in n for n in target.notes)


def test_a_number_keyed_counter_resolves_from_the_table_name_alone(ddb):
    item = {"id": {"N": "0"}, "visitcount": {"N": "42"}}
    table = _table(ddb, items=[item])
    target = resolve_target(table)
    assert (target.key_name, target.key_type, target.key_value) == ("id", "N", "0")
    assert target.count_attribute == "visitcount"
    assert target.key == {"id": {"N": "0"}}
    assert target.sources["key_name"] == "live table"
    assert target.sources["key_value"] == "the table's only item"
    assert target.sources["count_attribute"] == "live item"
    assert counter.read_count(target) == 42
    assert target.key_label == "id=0"


def test_the_addressed_item_names_the_count_in_a_table_of_many(ddb):
    items = [{"id": {"N": str(n)}, "hits": {"N": "7"}, "note": {"S": "x"}} for n in range(3)]
    table = _table(ddb, items=items)
    target = resolve_target(table, key_value="1")
    assert (target.count_attribute, target.sources["count_attribute"]) == ("hits", "live item")
    # several items and no key value: the default "Quantity" is not a number, said clearly
    with pytest.raises(InvalidInputError, match=r"number key .*'Quantity' is not a number"):
        resolve_target(table)


def test_a_key_name_parameter_the_live_table_lacks_is_bad_usage(ddb):
    table = _table(ddb, items=[{"id": {"N": "0"}, "visitcount": {"N": "1"}}])
    with pytest.raises(TargetConflictError, match=r"key_name 'stat' \(parameter\).*'id' \(N\)"):
        resolve_target(table, key_name="stat")


def test_env_key_settings_give_way_to_the_live_table(ddb, monkeypatch):
    table = _table(ddb, items=[{"id": {"N": "0"}, "visitcount": {"N": "1"}}])
    monkeypatch.setenv("RUNBOOK_TABLE", table)
    monkeypatch.setenv("RUNBOOK_KEY_NAME", "stat")
    target = resolve_target()
    assert (target.key_name, target.key_type) == ("id", "N")
    assert any("replaced by the live table" in n for n in target.notes)


def test_a_range_key_table_needs_and_takes_both_values(ddb):
    keys = (("site", "S"), ("page", "S"))
    item = {"site": {"S": "me.dev"}, "page": {"S": "home"}, "views": {"N": "5"}}
    table = _table(ddb, keys=keys, items=[item])
    target = resolve_target(table)
    assert target.key == {"site": {"S": "me.dev"}, "page": {"S": "home"}}
    assert target.key_label == "site=me.dev, page=home" and counter.read_count(target) == 5
    ddb.put_item(TableName=table, Item={**item, "page": {"S": "blog"}})
    with pytest.raises(InvalidInputError, match=r"range key 'page'.*range_key_value"):
        resolve_target(table, key_value="me.dev")
    assert resolve_target(table, key_value="me.dev", range_key_value="blog").key["page"] == {
        "S": "blog"
    }


def test_a_binary_key_travels_as_base64_text(ddb):
    raw = b"\x00counter"
    table = _table(ddb, keys=(("k", "B"),), items=[{"k": {"B": raw}, "n": {"N": "3"}}])
    target = resolve_target(table)
    assert target.key_value == base64.b64encode(raw).decode()
    assert target.key == {"k": {"B": raw}} and counter.read_count(target) == 3
    assert typed_value("N", "1") == {"N": "1"}


def test_the_stack_given_wins_over_the_environment(ddb, monkeypatch, tmp_path):
    table = _table(ddb, items=[{"id": {"N": "0"}, "visitcount": {"N": "9"}}])
    other = _table(ddb, keys=(("stat", "S"),))
    monkeypatch.setenv("RUNBOOK_TABLE", other)
    stack = _stack(tmp_path / "stack", table, '{"id": {"N": "0"}, "visitcount": {"N": "0"}}')
    target = resolve_target(terraform_dir=stack)
    assert (target.table, target.key_name, target.key_type) == (table, "id", "N")
    assert (target.key_value, target.count_attribute) == ("0", "visitcount")
    assert target.sources["table"] == "stack stack (configuration)"
    assert any(other in n for n in target.notes)


def test_a_table_name_the_stack_does_not_manage_is_bad_usage(ddb, tmp_path):
    table = _table(ddb)
    stack = _stack(tmp_path / "s", table, '{"id": {"N": "0"}, "c": {"N": "0"}}')
    with pytest.raises(TargetConflictError, match=f"'elsewhere' is not a table .*{table}"):
        resolve_target("elsewhere", terraform_dir=stack)


def test_a_stack_whose_key_the_live_table_lacks_is_a_finding(ddb, tmp_path):
    table = _table(ddb)  # hash key id (N)
    stack = _stack(tmp_path / "s", table, '{"pk": {"S": "a"}, "c": {"N": "0"}}', "pk", "S")
    with pytest.raises(StackMismatchError, match=r"key_name 'pk' \(stack s"):
        resolve_target(terraform_dir=stack)


def test_target_defaults_stay_the_guides():
    t = Target(table="x")
    assert t.key == {"stat": {"S": "Quantity"}} and t.key_names == ["stat"]
