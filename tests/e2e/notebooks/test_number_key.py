"""Every notebook on a counter the guide did not write: `{"id": {"N": "0"}, "visitcount": N}`
in a table of its own, given only its table name (the key, its type and the attribute are
read from the live table)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest

from runbook_lib import aws
from runbook_lib.aws import counter
from runbook_lib.aws.writetoken import WRITE_TOKEN
from runbook_lib.formats import itemfile
from runbook_lib.model import Target
from runbook_lib.notebook import runner
from runbook_lib.sandbox import seed
from runbook_lib.steps.backup import itembackup

pytestmark = pytest.mark.notebook
KEY = {"id": {"N": "0"}}


def _item_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if not p.name.endswith(itemfile.META_SUFFIX))


def _result(outcome) -> dict:
    return json.loads(Path(outcome.result_path).read_text())


@pytest.fixture
def crc(ddb, moto_url) -> Target:
    """crc-table-like: hash key `id` (N), one item holding `visitcount` = 42."""
    name = f"crc-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=name, Item={**KEY, "visitcount": {"N": "42"}})
    return Target(
        table=name, key_name="id", key_type="N", key_value="0", count_attribute="visitcount"
    )


def test_01_init_is_a_no_op_and_02_status_reads_the_number_key(crc, tmp_path):
    init = runner.run_notebook(
        "01_init", {"table_name": crc.table, "dry_run": False, "confirm": crc.table}, tmp_path
    )
    assert init.exit_code == 0, init.summary()
    assert (_result(init)["created"], _result(init)["value"]) == (False, 42)

    status = runner.run_notebook("02_status", {"table_name": crc.table}, tmp_path)
    checks = {c["name"]: c for c in _result(status)["checks"]}
    assert checks["key schema"]["state"] == "ok", checks["key schema"]
    assert "id (N)" in checks["key schema"]["detail"]
    assert checks["counter item present"]["state"] == "ok"
    assert _result(status)["count"] == 42
    html = Path(status.html_path).read_text()
    assert "id=0" in html and "visitcount" in html


def test_01_init_creates_a_number_keyed_item_in_an_empty_table(ddb, crc, tmp_path):
    ddb.delete_item(TableName=crc.table, Key=KEY)
    params = {"table_name": crc.table, "key_value": "0", "count_attribute": "visitcount"}
    out = runner.run_notebook(
        "01_init", {**params, "dry_run": False, "confirm": crc.table}, tmp_path
    )
    assert out.exit_code == 0, out.summary()
    item = ddb.get_item(TableName=crc.table, Key=KEY, ConsistentRead=True)["Item"]
    assert item.pop(WRITE_TOKEN)["S"], "init's write token (a lost answer is told apart)"
    assert item == {**KEY, "visitcount": {"N": "0"}}


def test_03_set_count_writes_and_backs_up_the_number_keyed_item(crc, tmp_path, backups):
    params = {"table_name": crc.table, "new_value": 50, "reason": "number key"}
    dry = runner.run_notebook("03_set_count", params, tmp_path)
    assert dry.exit_code == 0, dry.summary()
    assert counter.read_count(crc) == 42
    real = runner.run_notebook(
        "03_set_count", {**params, "dry_run": False, "confirm": crc.table}, tmp_path
    )
    assert real.exit_code == 0, real.summary()
    assert counter.read_count(crc) == 50
    (backup,) = _item_files(backups / crc.table)
    loaded = itembackup.load_backup(backup, target=crc)
    assert loaded.item["id"] == {"N": "0"} and loaded.count == 42


def test_04_backs_up_and_restores_the_number_keyed_item(crc, tmp_path, backups):
    made = runner.run_notebook(
        "04_backup_restore",
        {"table_name": crc.table, "action": "backup", "kind": "item", "reason": "n key"},
        tmp_path,
    )
    assert made.exit_code == 0, made.summary()
    counter.increment(crc, 8)
    (backup,) = _item_files(backups / crc.table)
    restore = {
        "table_name": crc.table,
        "action": "restore",
        "kind": "item",
        "backup_path": str(backup),
        "allow_decrease": True,
        "dry_run": False,
        "confirm": crc.table,
    }
    out = runner.run_notebook("04_backup_restore", restore, tmp_path)
    assert out.exit_code == 0, out.summary()
    assert counter.read_count(crc) == 42


def test_06_history_reads_the_tables_metric(crc, tmp_path):
    end = dt.datetime.now(dt.timezone.utc)
    frame = seed.synthetic_history(days=2, end=end)
    seed.seed_history(
        aws.client("cloudwatch"),
        frame,
        table=crc.table,
        function_name=f"{crc.table}-fn",
        api_id=uuid.uuid4().hex[:8],
    )
    out = runner.run_notebook(
        "06_history", {"table_name": crc.table, "days": 2, "period": 300}, tmp_path
    )
    assert out.exit_code == 0, out.summary()
    assert _result(out)["points"] > 0 and _result(out)["resets"] == []


def test_02_status_given_only_the_stack_finds_the_counter_and_warns(crc, tmp_path):
    stack = tmp_path / "site"
    stack.mkdir()
    (stack / "main.tf").write_text(
        f'resource "aws_dynamodb_table_item" "seed" {{\n  table_name = "{crc.table}"\n'
        '  hash_key   = "id"\n'
        '  item       = jsonencode({ id = { N = "0" }, visitcount = { N = "0" } })\n}\n'
    )
    out = runner.run_notebook("02_status", {"terraform_dir": str(stack)}, tmp_path)
    result = _result(out)
    assert result["count"] == 42, out.summary()
    checks = {c["name"]: c for c in result["checks"]}
    guard = checks["Terraform does not manage the item"]
    assert guard["state"] == "fail" and "aws_dynamodb_table_item.seed" in guard["detail"]
    assert out.exit_code == 3  # the stack would reset the count: a finding
