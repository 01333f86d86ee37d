"""02_status's Terraform guard: always a row, child modules included, never a silent skip."""

from __future__ import annotations

import json
from pathlib import Path

from runbook_lib.model import Target
from runbook_lib.steps.status import stateguard


def _state(folder: Path, *resources: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text('module "counter" {\n  source = "./modules/counter"\n}\n')
    (folder / "terraform.tfstate").write_text(json.dumps({"version": 4, "resources": resources}))
    return folder


def _item(table: str, module: str = "", key: str = '{"id": {"N": "0"}, "hits": {"N": "0"}}'):
    res = {
        "mode": "managed",
        "type": "aws_dynamodb_table_item",
        "name": "seed",
        "instances": [{"attributes": {"table_name": table, "hash_key": "id", "item": key}}],
    }
    return {**res, "module": module} if module else res


def test_an_item_in_a_child_module_state_is_a_warning(tmp_path):
    folder = _state(tmp_path / "stack", _item("crc-table", "module.counter"))
    state, detail, step = stateguard.guard(folder, Target(table="crc-table"))
    assert state == stateguard.FAIL
    assert "module.counter.aws_dynamodb_table_item.seed" in detail
    assert "05_migrate" in step and str(tmp_path) in step  # the command names the folder given


def test_an_item_writing_another_tables_number_is_a_warning_too(tmp_path):
    folder = _state(tmp_path / "stack", _item("other-table"))
    assert stateguard.guard(folder, Target(table="crc-table"))[0] == stateguard.FAIL
    # an item of another table that holds no number is no counter: left alone
    folder = _state(tmp_path / "s2", _item("other-table", key='{"id": {"N": "0"}}'))
    assert stateguard.guard(folder, Target(table="crc-table"))[0] == stateguard.OK


def test_a_clean_state_is_ok_and_says_how_it_was_read(tmp_path):
    folder = _state(tmp_path / "stack")
    state, detail, _ = stateguard.guard(folder, Target(table="crc-table"))
    assert state == stateguard.OK and "terraform.tfstate" in detail


def test_a_stack_folder_that_is_not_there_is_not_checked(tmp_path):
    state, detail, step = stateguard.guard(tmp_path / "typo", Target(table="crc-table"))
    assert state == stateguard.NOT_CHECKED and "is not a folder" in detail and step


def test_an_unapplied_item_in_the_configuration_warns(tmp_path):
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "main.tf").write_text(
        'resource "aws_dynamodb_table_item" "seed" {\n  table_name = "crc-table"\n'
        '  hash_key   = "id"\n  item       = jsonencode({ id = { N = "0" } })\n}\n'
    )
    state, detail, _ = stateguard.guard(folder, Target(table="crc-table"))
    assert state == stateguard.FAIL and "not applied yet" in detail


def test_without_any_stack_on_real_aws_the_row_says_not_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNBOOK_HOME", str(tmp_path))  # a checkout whose terraform/ is unapplied
    state, detail, step = stateguard.guard(None, Target(table="crc-table"))
    assert state == stateguard.NOT_CHECKED and "no Terraform stack" in detail
    assert "terraform_dir" in step
    sandbox = Target(table="crc-table", endpoint="http://127.0.0.1:5999")
    assert stateguard.guard(None, sandbox)[0] == stateguard.OK  # made without Terraform: no state


def test_an_item_under_ignore_changes_is_a_warning_not_a_failure(tmp_path):
    folder = _state(tmp_path / "stack", _item("crc-table"))
    (folder / "main.tf").write_text(
        'resource "aws_dynamodb_table_item" "seed" {\n  table_name = "crc-table"\n'
        '  hash_key   = "id"\n  item       = jsonencode({ id = { N = "0" } })\n'
        "  lifecycle {\n    ignore_changes = [item]\n  }\n}\n"
    )
    state, detail, step = stateguard.guard(folder, Target(table="crc-table"))
    assert state == stateguard.WARN and "ignore_changes" in detail and "05_migrate" in step
