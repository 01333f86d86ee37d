"""A fleet entry that names only a stack becomes one run per counter item the stack manages
(issue 19): a tiny stack folder with its local terraform.tfstate, written here, read the way
every notebook reads a stack (`stackread.read_stack`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook_lib.fleet import command, expand, fleetfile
from runbook_lib.fleet.fleetfile import FleetRefused

TABLE = "fleet-site-visits"
MAIN_TF = f"""
locals {{
  items = {{
    prod   = {{ id = {{ S = "prod" }}, visits = {{ N = "0" }} }}
    test   = {{ id = {{ S = "test" }}, visits = {{ N = "0" }} }}
    banner = {{ id = {{ S = "banner" }}, text = {{ S = "Thanks for visiting!" }} }}
  }}
}}

resource "aws_dynamodb_table" "site" {{
  name         = "{TABLE}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {{
    name = "id"
    type = "S"
  }}
}}

resource "aws_dynamodb_table_item" "seed" {{
  for_each   = local.items
  table_name = aws_dynamodb_table.site.name
  hash_key   = aws_dynamodb_table.site.hash_key
  item       = jsonencode(each.value)
}}
"""


def item_instance(key: str, item: dict) -> dict:
    attributes = {
        "table_name": TABLE,
        "hash_key": "id",
        "range_key": None,
        "item": json.dumps(item),
    }
    return {"index_key": key, "schema_version": 0, "attributes": attributes}


def state(items: dict[str, dict]) -> dict:
    """A terraform.tfstate (format 4) as `terraform apply` leaves it."""
    provider = 'provider["registry.terraform.io/hashicorp/aws"]'
    table = {
        "name": TABLE,
        "hash_key": "id",
        "range_key": None,
        "attribute": [{"name": "id", "type": "S"}],
    }
    return {
        "version": 4,
        "terraform_version": "1.11.0",
        "serial": 3,
        "lineage": "fleet-test",
        "outputs": {},
        "resources": [
            {
                "mode": "managed",
                "type": "aws_dynamodb_table",
                "name": "site",
                "provider": provider,
                "instances": [{"schema_version": 1, "attributes": table}],
            },
            {
                "mode": "managed",
                "type": "aws_dynamodb_table_item",
                "name": "seed",
                "provider": provider,
                "instances": [item_instance(k, v) for k, v in items.items()],
            },
        ],
    }


ITEMS = {
    "banner": {"id": {"S": "banner"}, "text": {"S": "Thanks for visiting!"}},
    "prod": {"id": {"S": "prod"}, "visits": {"N": "1207"}},
    "test": {"id": {"S": "test"}, "visits": {"N": "3"}},
}


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    folder = tmp_path / "infra" / "site"
    folder.mkdir(parents=True)
    (folder / "main.tf").write_text(MAIN_TF)
    (folder / "terraform.tfstate").write_text(json.dumps(state(ITEMS)))
    return folder


def fleet_of(tmp_path: Path, body: str) -> fleetfile.Fleet:
    path = tmp_path / "fleet.toml"
    path.write_text(body)
    return fleetfile.load(path)


def test_a_stack_entry_becomes_one_run_per_counter_item(stack: Path, tmp_path: Path):
    fleet = fleet_of(tmp_path, '[[counter]]\nname = "site"\nterraform_dir = "infra/site"\n')
    specs = expand.expand(fleet)
    assert [s.name for s in specs] == ["site[id=prod]", "site[id=test]"]  # banner: no count
    assert [s.slug for s in specs] == ["site-id-prod", "site-id-test"]
    prod = specs[0]
    assert prod.params == {
        "terraform_dir": str(stack.resolve()),
        "table_name": TABLE,
        "key_value": "prod",
        "count_attribute": "visits",
    }
    assert prod.table == TABLE


def test_a_stack_with_one_counter_item_keeps_the_entrys_name(stack: Path, tmp_path: Path):
    (stack / "terraform.tfstate").write_text(json.dumps(state({"prod": ITEMS["prod"]})))
    (stack / "main.tf").write_text(
        MAIN_TF.replace('    test   = { id = { S = "test" }, visits = { N = "0" } }\n', "")
    )
    fleet = fleet_of(tmp_path, '[[counter]]\nname = "site"\nterraform_dir = "infra/site"\n')
    (spec,) = expand.expand(fleet)
    assert (spec.name, spec.slug, spec.params["key_value"]) == ("site", "site", "prod")


def test_an_entry_naming_its_item_or_a_migrated_stack_is_one_run(stack: Path, tmp_path: Path):
    body = '[[counter]]\nname = "p"\nterraform_dir = "infra/site"\nkey_value = "test"\n'
    (spec,) = expand.expand(fleet_of(tmp_path, body))
    assert spec.params["key_value"] == "test" and "count_attribute" not in spec.params
    migrated = tmp_path / "migrated"
    migrated.mkdir()
    (migrated / "main.tf").write_text(MAIN_TF.split('resource "aws_dynamodb_table_item"')[0])
    (spec,) = expand.expand(
        fleet_of(tmp_path, '[[counter]]\nname = "m"\nterraform_dir = "migrated"\n')
    )
    assert (spec.name, spec.table) == ("m", TABLE)  # the stack's only table: a write's confirm
    assert spec.params == {"terraform_dir": str(migrated.resolve())}


def test_a_write_over_a_stack_is_confirmed_with_the_stacks_table(stack: Path, tmp_path: Path):
    body = f'[[counter]]\nname = "site"\nterraform_dir = "infra/site"\nconfirm = "{TABLE}"\n'
    fleet_path = tmp_path / "fleet.toml"
    fleet_path.write_text(body)
    plan = command.prepare("07_recover", fleet_path, {"dry_run": "False"})
    assert [(p["key_value"], p["confirm"]) for p in plan.params] == [
        ("prod", TABLE),
        ("test", TABLE),
    ]
    fleet_path.write_text(body.replace(f'confirm = "{TABLE}"', 'confirm = "another-table"'))
    with pytest.raises(FleetRefused) as caught:
        command.prepare("07_recover", fleet_path, {"dry_run": "False"})
    assert [p.split(":")[0] for p in caught.value.problems] == ["site[id=prod]", "site[id=test]"]
    assert f"is not this counter's table {TABLE!r}" in caught.value.problems[0]


SITES_TF = """
variable "sites" {
  type    = list(string)
  default = []
}

resource "aws_dynamodb_table" "hits" {
  name         = "fleet-site-hits"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "site"

  attribute {
    name = "site"
    type = "S"
  }
}

resource "aws_dynamodb_table_item" "hits" {
  for_each   = toset(var.sites)
  table_name = aws_dynamodb_table.hits.name
  hash_key   = aws_dynamodb_table.hits.hash_key
  item       = jsonencode({ site = { S = each.key }, count = { S = "0" } })
}
"""


def test_items_that_exist_only_with_the_var_files_are_expanded_with_them(tmp_path: Path):
    """The sites come from the author's .tfvars; the count is a string (str(n))."""
    stack = tmp_path / "sites"
    stack.mkdir()
    (stack / "main.tf").write_text(SITES_TF)
    (stack / "prod.tfvars").write_text('sites = ["blog", "shop"]\n')
    body = '[[counter]]\nname = "s"\nterraform_dir = "sites"\nvar_files = ["prod.tfvars"]\n'
    specs = expand.expand(fleet_of(tmp_path, body))
    assert [s.name for s in specs] == ["s[site=blog]", "s[site=shop]"]
    assert specs[0].params == {
        "terraform_dir": str(stack.resolve()),
        "var_files": str((stack / "prod.tfvars").resolve()),  # whatever the run's cwd
        "table_name": "fleet-site-hits",
        "key_value": "blog",
        "count_attribute": "count",
    }
    without = expand.expand(
        fleet_of(tmp_path, '[[counter]]\nname = "s"\nterraform_dir = "sites"\n')
    )
    assert [(s.name, s.table) for s in without] == [("s", "fleet-site-hits")]  # no items
