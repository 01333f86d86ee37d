"""`runbook guard-plan PLAN`: the CI guard against an apply that resets the count.

Hand-written plan JSON (`terraform show -json` documents) for each outcome, the live item
read from the moto server. Real saved plans of sandbox stacks: tests/e2e/
test_guard_plan_terraform.py.
"""

from __future__ import annotations

import json
import socket
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from runbook_lib import cli
from runbook_lib.tf import planrules
from runbook_lib.tf import workspace as tfworkspace

ITEM = "aws_dynamodb_table_item"
TABLE = "aws_dynamodb_table"


# ---- plan documents ------------------------------------------------------------------------


def _item_change(
    address: str,
    actions: list[str],
    table: str,
    item: dict[str, Any] | None,
    *,
    before: dict[str, Any] | None = None,
    hash_key: str = "id",
    range_key: str | None = None,
) -> dict[str, Any]:
    """One resource_changes entry of an aws_dynamodb_table_item, as Terraform writes it:
    the item is JSON text in `change.after.item` (null when deleted)."""

    def side(body: dict[str, Any] | None) -> dict[str, Any] | None:
        if body is None:
            return None
        return {
            "table_name": table,
            "hash_key": hash_key,
            "range_key": range_key,
            "item": json.dumps(body),
        }

    return {
        "address": address,
        "mode": "managed",
        "type": ITEM,
        "name": address.split(".")[-1].split("[")[0],
        "change": {
            "actions": actions,
            "before": side(before),
            "after": None if actions == ["delete"] else side(item),
        },
    }


def _other_change(address: str, rtype: str, actions: list[str], name: str = "t") -> dict:
    body = {"name": name}
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "change": {"actions": actions, "before": body, "after": body},
    }


def _plan(tmp_path: Path, *changes: dict[str, Any], name: str = "plan.json") -> Path:
    doc = {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {}},
        "resource_changes": list(changes),
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _guard(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["guard-plan", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def crc(ddb) -> str:
    """The issue's shape: table crc-table-*, a number hash key `id`, visitcount 1234."""
    name = f"crc-table-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=name, Item={"id": {"N": "0"}, "visitcount": {"N": "1234"}})
    return name


CRC_ITEM = {"id": {"N": "0"}, "visitcount": {"N": "0"}}


# ---- 1. one set of rules for both plan sources ---------------------------------------------


@pytest.mark.parametrize(
    ("actions", "word"),
    [
        (["no-op"], "noop"),
        (["read"], "read"),
        (["create"], "create"),
        (["update"], "update"),
        (["delete"], "delete"),
        (["delete", "create"], "replace"),
        (["create", "delete"], "replace"),
        (["forget"], "remove"),
        (["create", "forget"], "replace"),
        ("update", "update"),
    ],
)
def test_saved_plan_actions_normalise_to_the_ui_streams_words(actions, word):
    assert planrules.normalize_action(actions) == word


def test_the_rules_judge_items_and_tables_apart():
    for word in ("create", "update", "delete", "replace", "some+new"):
        assert planrules.is_unsafe(ITEM, word), word
    for word in ("noop", "read", "remove", "move"):
        assert not planrules.is_unsafe(ITEM, word), word
    assert planrules.is_unsafe(TABLE, "delete") and planrules.is_unsafe(TABLE, "replace")
    assert not planrules.is_unsafe(TABLE, "update") and not planrules.is_unsafe(TABLE, "create")
    assert not planrules.is_unsafe("aws_lambda_function", "delete")


def test_05_migrates_proof_uses_the_same_rules():
    assert tfworkspace.unsafe_changes is planrules.unsafe_changes
    assert tfworkspace.parse_plan_lines is planrules.parse_plan_lines
    # a saved plan's list reaches the same verdict as the UI stream's word
    saved = {"address": "a", "type": ITEM, "action": ["delete", "create"]}
    assert tfworkspace.unsafe_changes([saved]) == [saved]
    assert tfworkspace.unsafe_changes([{**saved, "action": ["forget"]}]) == []


# ---- 2. outcomes on hand-written plans -----------------------------------------------------


def test_a_plan_that_leaves_the_counter_alone_passes(tmp_path, capsys, crc):
    plan = _plan(
        tmp_path,
        _other_change("aws_dynamodb_table.t", TABLE, ["update"]),
        _other_change("aws_lambda_function.f", "aws_lambda_function", ["delete", "create"]),
        _other_change("aws_dynamodb_table.new", TABLE, ["create"]),
        _item_change("aws_dynamodb_table_item.c", ["no-op"], crc, CRC_ITEM, before=CRC_ITEM),
        {**_other_change("data.aws_dynamodb_table_item.r", ITEM, ["read"]), "mode": "data"},
    )
    code, out, err = _guard(capsys, str(plan))
    assert code == 0, out + err
    assert out.strip().startswith("OK:") and "UNSAFE" not in out
    assert "(4 resource change(s) checked)" in out


def test_an_item_update_fails_and_says_what_it_does_to_the_live_count(tmp_path, capsys, crc):
    """The issue's example, with a number key typed from the item JSON."""
    plan = _plan(
        tmp_path,
        _item_change(
            "aws_dynamodb_table_item.counter",
            ["update"],
            crc,
            CRC_ITEM,
            before={"id": {"N": "0"}, "visitcount": {"N": "1"}},
        ),
    )
    code, out, _ = _guard(capsys, str(plan))
    assert code == 3
    first, verdict = out.strip().splitlines()
    assert first.startswith("UNSAFE update  aws_dynamodb_table_item.counter: ")
    assert f"would set visitcount in {crc} from 1234 (live) to 0" in first
    assert verdict.startswith("FAILED: 1 planned change(s) in plan.json would write")
    assert "05_migrate" in verdict and str(tmp_path) not in out, "no machine path in a CI log"


def test_an_item_create_fails_over_a_live_item_and_over_none(tmp_path, capsys, crc):
    other = {"id": {"N": "7"}, "visitcount": {"N": "0"}, "note": {"S": "x"}}
    plan = _plan(
        tmp_path,
        _item_change("aws_dynamodb_table_item.a", ["create"], crc, CRC_ITEM),
        _item_change("aws_dynamodb_table_item.b", ["create"], crc, other),
    )
    code, out, _ = _guard(capsys, str(plan))
    assert code == 3
    assert f"aws_dynamodb_table_item.a: would set visitcount in {crc} from 1234 (live) to 0" in out
    assert f"would create the item id=7 in {crc} with visitcount = 0 (no live item)" in out
    assert "FAILED: 2 planned change(s)" in out


def test_an_item_delete_fails_naming_the_live_count(tmp_path, capsys, crc):
    plan = _plan(
        tmp_path,
        _item_change("aws_dynamodb_table_item.c", ["delete"], crc, None, before=CRC_ITEM),
    )
    code, out, _ = _guard(capsys, str(plan))
    assert code == 3
    assert f"UNSAFE delete  aws_dynamodb_table_item.c: would delete the item id=0 from {crc}" in out
    assert "(visitcount = 1234 live)" in out


def test_a_key_only_item_created_again_would_drop_the_live_count(tmp_path, capsys, crc):
    plan = _plan(
        tmp_path,
        _item_change("aws_dynamodb_table_item.c", ["delete", "create"], crc, {"id": {"N": "0"}}),
    )
    code, out, _ = _guard(capsys, str(plan))
    assert code == 3 and "UNSAFE replace" in out
    assert f"would remove visitcount (1234 live) from the item id=0 in {crc}" in out


def test_a_range_key_is_read_with_the_types_of_the_item_json(tmp_path, capsys, ddb):
    name = f"rk-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "site", "KeyType": "HASH"},
            {"AttributeName": "page", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "site", "AttributeType": "N"},
            {"AttributeName": "page", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    key = {"site": {"N": "1"}, "page": {"S": "home"}}
    ddb.put_item(TableName=name, Item={**key, "hits": {"N": "88"}})
    item = {**key, "hits": {"N": "0"}}
    change = _item_change(
        "aws_dynamodb_table_item.c", ["update"], name, item, before=item, hash_key="site"
    )
    change["change"]["after"]["range_key"] = "page"
    code, out, _ = _guard(capsys, str(_plan(tmp_path, change)))
    assert code == 3 and f"would set hits in {name} from 88 (live) to 0" in out


def test_a_binary_key_given_as_base64_in_the_item_json_is_read(tmp_path, capsys, ddb):
    name = f"bk-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "B"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=name, Item={"k": {"B": b"\x00\x01"}, "n": {"N": "9"}})
    item = {"k": {"B": "AAE="}, "n": {"N": "0"}}
    change = _item_change("aws_dynamodb_table_item.c", ["update"], name, item, hash_key="k")
    code, out, _ = _guard(capsys, str(_plan(tmp_path, change)))
    assert code == 3 and f"would set n in {name} from 9 (live) to 0" in out


@pytest.mark.parametrize("actions", [["delete"], ["delete", "create"], ["create", "delete"]])
def test_a_table_deleted_or_replaced_fails(tmp_path, capsys, actions):
    plan = _plan(tmp_path, _other_change("aws_dynamodb_table.t", TABLE, actions, "crc-table"))
    code, out, _ = _guard(capsys, str(plan), "--no-live")
    assert code == 3
    assert "aws_dynamodb_table.t: would delete table crc-table" in out
    assert ("create it again empty" in out) == (len(actions) == 2)
    assert "04_backup_restore" in out and "05_migrate" not in out


def test_a_forget_is_safe_and_counted(tmp_path, capsys, crc):
    """A `removed { lifecycle { destroy = false } }` block: Terraform forgets the item."""
    plan = _plan(
        tmp_path,
        _item_change("aws_dynamodb_table_item.c", ["forget"], crc, None, before=CRC_ITEM),
    )
    code, out, _ = _guard(capsys, str(plan))
    assert code == 0, out
    assert "1 item(s) forgotten and left in place" in out


def test_child_module_count_and_for_each_instances_are_each_named(tmp_path, capsys, crc):
    addresses = [
        "module.counter.aws_dynamodb_table_item.this",
        "module.site.module.db.aws_dynamodb_table_item.seed[0]",
        'aws_dynamodb_table_item.pages["home"]',
    ]
    changes = [_item_change(a, ["update"], crc, CRC_ITEM, before=CRC_ITEM) for a in addresses]
    safe = _item_change("aws_dynamodb_table_item.seed[1]", ["no-op"], crc, CRC_ITEM)
    code, out, _ = _guard(capsys, str(_plan(tmp_path, *changes, safe)))
    assert code == 3
    lines = out.strip().splitlines()
    assert len(lines) == 4, out
    for address, line in zip(addresses, lines, strict=False):
        assert line.startswith(f"UNSAFE update  {address}: would set visitcount in {crc}")
    assert "seed[1]" not in out


def test_json_output_for_machines(tmp_path, capsys, crc):
    plan = _plan(
        tmp_path, _item_change("aws_dynamodb_table_item.c", ["update"], crc, CRC_ITEM, before={})
    )
    code, out, _ = _guard(capsys, str(plan), "--json")
    doc = json.loads(out)
    assert code == doc["exit_code"] == 3 and doc["safe"] is False
    (change,) = doc["unsafe"]
    assert change["address"] == "aws_dynamodb_table_item.c" and change["actions"] == ["update"]
    assert change["effects"] == [f"would set visitcount in {crc} from 1234 (live) to 0"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_live_item_that_cannot_be_read_is_said_and_the_verdict_stands(
    tmp_path, capsys, monkeypatch, moto_url
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    plan = _plan(
        tmp_path, _item_change("aws_dynamodb_table_item.c", ["update"], "crc-table", CRC_ITEM)
    )
    code, out, err = _guard(capsys, str(plan))
    assert code == 3, err
    assert "would set visitcount in crc-table to 0 (live value not read: " in out
    assert "cannot reach" in out
    code, out, _ = _guard(capsys, str(plan), "--no-live")
    assert code == 3 and "live value not read: skipped (--no-live)" in out


def test_an_item_whose_values_are_unknown_until_apply_still_fails(tmp_path, capsys):
    change = _item_change("aws_dynamodb_table_item.c", ["create"], "t", CRC_ITEM)
    change["change"]["after"] = {"hash_key": "id"}  # table_name and item "known after apply"
    code, out, _ = _guard(capsys, str(_plan(tmp_path, change)))
    assert code == 3 and "not known until apply" in out


# ---- 3. not a plan: exit 2, one line, nothing else -----------------------------------------


def _zip(path: Path, member: str) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(member, "x")
    return path


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"resource aws_s3_bucket b {}\n", "neither a saved plan nor JSON"),
        (b'{"a": 1}', "JSON without format_version"),
        (b'{"format_version": "1.0", "values": {}}', "JSON without format_version"),
        (b"[1, 2]", "JSON without format_version"),
        (bytes(range(256)) * 4, "neither a saved plan nor JSON"),
        (b"", "neither a saved plan nor JSON"),
        ("zip", "a zip archive without a tfplan entry"),
    ],
)
def test_a_file_that_is_not_a_plan_is_bad_usage(tmp_path, capsys, content, why):
    path = tmp_path / "tfplan"
    if content == "zip":
        _zip(path, "hello.txt")
    else:
        path.write_bytes(content)
    code, out, err = _guard(capsys, str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"runbook: {path} is not a Terraform plan: {why}")
    assert len(err.strip().splitlines()) == 1


def test_a_missing_plan_file_is_bad_usage(tmp_path, capsys):
    code, out, err = _guard(capsys, str(tmp_path / "nope"))
    assert (code, out) == (2, "") and "no such file" in err
