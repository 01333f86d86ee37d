"""The stack reader, round 2 (issue 16): the region a stack puts its counter in, var files
and TF_VAR_*, count / for_each instances, several counter items, counts stored as strings.
No server and no Terraform: stacks written to tmp_path, read with python-hcl2."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from runbook_lib.errors import InvalidInputError, TerraformError
from runbook_lib.model import Target
from runbook_lib.notebook.banner import sources_text, target_banner
from runbook_lib.resolve import resolve_target
from runbook_lib.steps.status import stateguard
from runbook_lib.tf import hclconfig, stackconfig, stackmodel, stackread

ITEM = "aws_dynamodb_table_item"
TABLE = """
resource "aws_dynamodb_table" "crc" {
  name         = "visitors"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""
CHILD_PROVIDER = """
variable "region" {
  type = string
}
provider "aws" {
  region = var.region
}
"""
REGION_VAR = """
variable "aws_region" {
  type    = string
  default = "us-east-2"
}
"""


def write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(textwrap.dedent(text))
    return folder


def stack(tmp_path: Path, provider: str, *extra: str, name: str = "crc") -> Path:
    return write(tmp_path / name, main__tf="\n".join([provider, TABLE, *extra]))


def state_file(folder: Path, *resources: dict) -> None:
    raw = {"version": 4, "serial": 1, "lineage": "l", "outputs": {}, "resources": list(resources)}
    (folder / "terraform.tfstate").write_text(json.dumps(raw))


def state_table(name: str, arn_region: str) -> dict:
    arn = f"arn:aws:dynamodb:{arn_region}:123456789012:table/{name}"
    attrs = {"name": name, "arn": arn, "hash_key": "id", "attribute": [{"name": "id", "type": "S"}]}
    return {
        "mode": "managed",
        "type": "aws_dynamodb_table",
        "name": "crc",
        "instances": [{"attributes": attrs}],
    }


def state_item(name: str, key: str, count: dict, index: str | None = None) -> dict:
    item = json.dumps({"id": {"S": key}, "count": count})
    inst = {"attributes": {"table_name": "visitors", "hash_key": "id", "item": item}}
    if index is not None:
        inst["index_key"] = index
    return {"mode": "managed", "type": ITEM, "name": name, "instances": [inst]}


# --------------------------------------------------------------------------- the region


@pytest.fixture(autouse=True)
def _shell_in_us_east_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("TF_VAR_aws_region", "TF_VAR_sites"):
        monkeypatch.delenv(key, raising=False)


def region_of(folder: Path, **kw) -> tuple[str, str]:
    target = resolve_target(terraform_dir=folder, live=False, **kw)
    return target.region, target.sources["region"]


def test_a_literal_provider_region_is_the_targets(tmp_path):
    folder = stack(tmp_path, 'provider "aws" {\n  region = "eu-west-1"\n}\n')
    assert region_of(folder) == ("eu-west-1", "stack crc provider aws (literal)")


def test_the_region_variable_default_then_tf_var_then_tfvars_then_var_files(tmp_path, monkeypatch):
    folder = stack(tmp_path, REGION_VAR + 'provider "aws" {\n  region = var.aws_region\n}\n')
    assert region_of(folder) == (
        "us-east-2",
        "stack crc provider aws (variable aws_region default)",
    )
    monkeypatch.setenv("TF_VAR_aws_region", "ca-central-1")
    assert region_of(folder) == ("ca-central-1", "stack crc provider aws (TF_VAR_aws_region)")
    write(folder, terraform__tfvars='aws_region = "ap-southeast-1"\n')
    assert region_of(folder)[0] == "ap-southeast-1", "terraform.tfvars wins over TF_VAR_"
    write(folder, z__auto__tfvars='aws_region = "eu-central-1"\n')
    assert region_of(folder)[0] == "eu-central-1", "*.auto.tfvars wins over terraform.tfvars"
    write(
        folder, prod__tfvars='aws_region = "eu-west-2"\n', last__tfvars='aws_region = "sa-east-1"\n'
    )
    assert region_of(folder, var_files="prod.tfvars") == (
        "eu-west-2",
        "stack crc provider aws (variable aws_region from prod.tfvars)",
    )
    # in the order given, later files win, as with terraform -var-file
    assert region_of(folder, var_files="prod.tfvars,last.tfvars")[0] == "sa-east-1"
    target = resolve_target(terraform_dir=folder, live=False, var_files=["prod.tfvars"])
    assert target.var_files == (str((folder / "prod.tfvars").resolve()),)


def test_a_var_file_that_is_not_there_is_refused_naming_it(tmp_path):
    folder = stack(tmp_path, 'provider "aws" {\n  region = "eu-west-1"\n}\n')
    with pytest.raises(InvalidInputError, match=r"'nope\.tfvars' is not a file"):
        resolve_target(terraform_dir=folder, live=False, var_files="nope.tfvars")


def test_a_local_region_and_an_explicit_region_parameter(tmp_path):
    folder = stack(
        tmp_path,
        REGION_VAR + 'locals {\n  region = var.aws_region\n}\nprovider "aws" {\n'
        "  region = local.region\n}\n",
    )
    assert region_of(folder) == (
        "us-east-2",
        "stack crc provider aws (local region = variable aws_region default)",
    )
    target = resolve_target(terraform_dir=folder, live=False, region="eu-north-1")
    assert (target.region, target.sources["region"]) == ("eu-north-1", "parameter")
    assert "us-east-2 (stack crc provider aws" in target.sources["stack_region"]
    assert "the stack says region us-east-2" in sources_text(target)


def test_the_tables_aliased_provider_is_followed(tmp_path):
    providers = 'provider "aws" {\n  region = "us-east-1"\n}\n'
    providers += 'provider "aws" {\n  alias  = "west"\n  region = "us-west-2"\n}\n'
    folder = stack(tmp_path, providers)
    main = folder / "main.tf"
    main.write_text(
        main.read_text().replace(
            'name         = "visitors"', 'provider = aws.west\n  name = "visitors"'
        )
    )
    assert region_of(folder) == ("us-west-2", "stack crc provider aws.west (literal)")


def test_a_child_modules_provider_passed_or_declared(tmp_path):
    root = write(
        tmp_path / "env",
        main__tf="""
        provider "aws" {
          region = "us-east-1"
        }
        provider "aws" {
          alias  = "eu"
          region = "eu-west-1"
        }
        module "db" {
          source    = "./db"
          providers = { aws = aws.eu }
        }
        """,
    )
    write(root / "db", main__tf=TABLE)
    assert region_of(root) == ("eu-west-1", "stack env provider aws.eu (literal)")
    (root / "main.tf").write_text('module "db" {\n  source = "./db"\n  region = "ap-south-1"\n}\n')
    write(
        root / "db",
        vars__tf=CHILD_PROVIDER,
    )
    assert region_of(root) == (
        "ap-south-1",
        "stack env provider aws (variable region as a module input)",
    )


def test_without_a_provider_region_the_states_arn_says_it(tmp_path):
    folder = stack(tmp_path, 'provider "aws" {}\n')
    state_file(folder, state_table("visitors", "eu-west-1"))
    facts = stackread.read_stack(folder)
    assert [t.arn_region for t in facts.tables] == ["eu-west-1"]
    assert region_of(folder) == ("eu-west-1", "stack crc state ARN")


def test_neither_provider_nor_state_leaves_the_shells_region(tmp_path, monkeypatch):
    folder = stack(tmp_path, 'provider "aws" {}\n')
    assert region_of(folder) == ("us-east-1", "shell AWS_REGION")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    assert region_of(folder) == ("eu-west-3", "shell AWS_DEFAULT_REGION")


def test_the_banner_says_the_region_and_where_it_came_from(tmp_path):
    folder = stack(tmp_path, REGION_VAR + 'provider "aws" {\n  region = var.aws_region\n}\n')
    target = resolve_target(terraform_dir=folder, live=False)
    sandbox = Target(**{**target.__dict__, "endpoint": "http://127.0.0.1:5000"})
    text = str(target_banner(sandbox))
    assert "region us-east-2" in text
    assert "region us-east-2: stack crc provider aws (variable aws_region default)" in text


# --------------------------------------------------------------------------- instances

SITES = """
variable "sites" {
  type    = list(string)
  default = []
}
resource "aws_dynamodb_table_item" "views" {
  for_each   = toset(var.sites)
  table_name = aws_dynamodb_table.crc.name
  hash_key   = aws_dynamodb_table.crc.hash_key
  item = jsonencode({
    id    = { S = each.key }
    count = { N = "0" }
  })
}
"""


def test_for_each_over_tf_var_and_var_files_makes_one_finding_per_key(tmp_path, monkeypatch):
    folder = stack(tmp_path, 'provider "aws" {}\n', SITES)
    (empty,) = stackconfig.read_config(folder)[1]  # no sites: the block alone, writing none
    assert stackread.read_stack(folder).findings == [], "it writes no item"
    assert empty.no_instance and empty.address == f"{ITEM}.views"
    assert stateguard.guard(folder, Target(table="visitors"))[0] == stateguard.OK
    monkeypatch.setenv("TF_VAR_sites", '["b.example", "a.example"]')
    found = stackread.read_stack(folder).findings
    assert [f.address for f in found] == [
        f'{ITEM}.views["a.example"]',
        f'{ITEM}.views["b.example"]',
    ]
    assert found[0].key == {"id": {"S": "a.example"}} and found[0].resource == f"{ITEM}.views"
    assert found[1].item == {"id": {"S": "b.example"}, "count": {"N": "0"}}
    write(folder, ci__tfvars='sites = ["c.example"]\n')
    files = (folder / "ci.tfvars",)
    (only,) = stackread.read_stack(folder, var_files=files).findings
    assert only.address == f'{ITEM}.views["c.example"]'


def test_count_instances_and_a_map_for_each_with_each_value_attributes(tmp_path):
    items = """
    locals {
      pages = {
        home  = { start = 5 }
        about = { start = 7 }
      }
    }
    resource "aws_dynamodb_table_item" "page" {
      for_each   = local.pages
      table_name = "visitors"
      hash_key   = "id"
      item       = jsonencode({ id = { S = each.key }, hits = { N = tostring(each.value.start) } })
    }
    resource "aws_dynamodb_table_item" "slot" {
      count      = length(local.pages) > 1 ? 2 : 0
      table_name = "visitors"
      hash_key   = "id"
      item       = <<-EOT
        {"id": {"S": "slot-${count.index}"}, "hits": {"N": "${count.index * 10}"}}
      EOT
    }
    """
    folder = stack(tmp_path, 'provider "aws" {}\n', textwrap.dedent(items))
    found = {f.address: f for f in stackread.read_stack(folder).findings}
    assert found[f'{ITEM}.page["about"]'].configured_count is None  # counts come with_counts
    counted = {
        f.address: f.configured_count for f in stackread.with_counts(list(found.values()), "hits")
    }
    assert counted == {
        f'{ITEM}.page["about"]': 7,
        f'{ITEM}.page["home"]': 5,
        f"{ITEM}.slot[0]": 0,
        f"{ITEM}.slot[1]": 10,
    }


def test_a_for_each_that_cannot_be_evaluated_keeps_one_finding_and_says_why(tmp_path):
    items = """
    resource "aws_dynamodb_table_item" "row" {
      for_each   = toset(data.aws_ssm_parameter.sites.value)
      table_name = "visitors"
      hash_key   = "id"
      item       = jsonencode({ id = { S = each.key }, n = { N = "0" } })
    }
    """
    folder = stack(tmp_path, 'provider "aws" {}\n', textwrap.dedent(items))
    facts = stackread.read_stack(folder)
    (block,) = facts.findings
    assert block.address == block.resource == f"{ITEM}.row" and block.key is None
    assert any(
        "for_each = toset(data.aws_ssm_parameter.sites.value) cannot be evaluated" in n
        for n in facts.notes
    )
    # joined with the state's instances by the block
    state_file(folder, state_item("row", "x", {"N": "3"}, index="x"))
    (joined,) = stackread.read_stack(folder).findings
    assert joined.address == f'{ITEM}.row["x"]' and joined.in_config and joined.in_state


def test_state_instances_join_config_instances_by_address(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_VAR_sites", '["a", "b"]')
    folder = stack(tmp_path, 'provider "aws" {}\n', SITES)
    state_file(
        folder,
        {
            **state_item("views", "a", {"N": "12"}, index="a"),
            "instances": [
                state_item("views", "a", {"N": "12"}, index="a")["instances"][0],
                state_item("views", "old", {"N": "4"}, index="old")["instances"][0],
            ],
        },
    )
    by = {f.address: f for f in stackread.read_stack(folder).findings}
    assert set(by) == {f'{ITEM}.views["a"]', f'{ITEM}.views["b"]', f'{ITEM}.views["old"]'}
    assert by[f'{ITEM}.views["a"]'].in_state and by[f'{ITEM}.views["a"]'].item is not None
    assert not by[f'{ITEM}.views["b"]'].in_state, "configured, not applied yet"
    old = by[f'{ITEM}.views["old"]']  # the block no longer makes it: the block still owns it
    assert old.in_config and old.in_state and old.item is None and old.file


# --------------------------------------------------------------------------- several items


EVENTS = """
resource "aws_dynamodb_table_item" "prod" {
  table_name = aws_dynamodb_table.crc.name
  hash_key   = "id"
  item       = jsonencode({ id = { S = "prod" }, count = { S = "0" } })
}
resource "aws_dynamodb_table_item" "test" {
  table_name = aws_dynamodb_table.crc.name
  hash_key   = "id"
  item       = jsonencode({ id = { S = "test" }, count = { S = "0" } })
}
"""


def test_several_counter_items_one_is_chosen_and_the_others_named(tmp_path):
    folder = stack(tmp_path, 'provider "aws" {}\n', EVENTS)
    target = resolve_target(terraform_dir=folder, live=False)
    assert (target.key_value, target.count_attribute, target.count_type) == ("prod", "count", "S")
    (note,) = [n for n in target.notes if "counter items" in n]
    assert f"look at {ITEM}.prod (id=prod)" in note
    assert f"{ITEM}.test (id=test)" in note and "-p key_value test" in note
    assert "the stack manages 2 counter items" in sources_text(target), "the banner says so"
    other = resolve_target(terraform_dir=folder, live=False, key_value="test")
    assert other.key_value == "test" and f"look at {ITEM}.test" in " ".join(other.notes)
    assert "-p key_value prod" in " ".join(other.notes)


def test_tfguard_names_each_item_that_would_reset(tmp_path):
    folder = stack(tmp_path, 'provider "aws" {}\n', EVENTS)
    state_file(
        folder,
        state_item("prod", "prod", {"S": "57"}),
        state_item("test", "test", {"S": "3"}),
    )
    state, detail, step = stateguard.guard(folder, Target(table="visitors", count_type="S"))
    assert state == stateguard.FAIL
    assert f"{ITEM}.prod (visitors item id=prod, count = 57)" in detail
    assert f"{ITEM}.test (visitors item id=test, count = 3)" in detail
    assert "resets the count of each" in detail and "05_migrate" in step


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"id": {"S": "c"}, "count": {"S": "57"}}, ["count"]),
        ({"id": {"S": "c"}, "count": {"S": "57"}, "hits": {"N": "1"}}, ["hits"]),
        ({"id": {"S": "c"}, "label": {"S": "fifty"}}, []),
        ({"id": {"S": "c"}, "count": {"S": "-1"}}, []),
    ],
)
def test_count_attributes_reads_a_whole_number_string_when_there_is_no_number(item, expected):
    assert stackmodel.count_attributes(item, {"id"}) == expected
    if expected:
        assert stackmodel.count_of(item, expected[0]) == int(next(iter(item[expected[0]].values())))


def test_a_string_count_is_read_as_the_count_and_its_type_kept(tmp_path):
    one_item = EVENTS.split('resource "aws_dynamodb_table_item" "test"')[0]
    folder = stack(tmp_path, 'provider "aws" {}\n', one_item)
    target = resolve_target(terraform_dir=folder, live=False)
    assert (target.count_attribute, target.count_type) == ("count", "S")
    assert target.sources["count_type"] == "stack crc (configuration)"
    assert not [n for n in target.notes if "counter items" in n]
    shown = Target(**{**target.__dict__, "endpoint": "http://127.0.0.1:1"})  # the sandbox
    assert "attribute count (S: a count stored as a string)" in str(target_banner(shown))


# --------------------------------------------------------------------------- expressions


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('${var.on ? "a" : "b"}', "a"),
        ("${!var.on}", False),
        ("${var.n == 2 && var.on}", True),
        ('${[for s in var.l : upper(s) if s != "x"]}', ["A", "B"]),
        ("${{for s in var.l : s => length(s)}}", {"a": 1, "b": 1, "x": 1}),
        ('${lookup(var.m, "k", "d")}', "v"),
        ('${try(data.x.y.z, "fallback")}', "fallback"),
        ('${format("%s-%d", "t", 3)}', "t-3"),
        ('${merge(var.m, {k = "w"})["k"]}', "w"),
        ('${"say \\"${var.m.k}\\""}', 'say "v"'),
        ("a $${literal}", "a ${literal}"),
    ],
)
def test_the_evaluator_handles_what_counter_stacks_write(expr, expected):
    variables = {"on": True, "n": 2, "l": ["a", "b", "x"], "m": {"k": "v"}}
    assert hclconfig.resolve(expr, variables, {}) == expected


def test_each_and_count_outside_their_resource_cannot_be_evaluated():
    with pytest.raises(TerraformError, match="Cannot evaluate"):
        hclconfig.resolve("${each.key}", {}, {})
    with pytest.raises(TerraformError, match="Cannot evaluate"):
        hclconfig.resolve("${count.index}", {}, {})
    extra = {"each": {"key": "k", "value": {"a": {"b": 1}}}, "count": {"index": 3}}
    assert hclconfig.resolve("${each.value.a.b + count.index}", {}, {}, extra) == 4


def test_tf_var_reaches_the_root_module_only(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_VAR_region", "eu-west-1")
    root = write(tmp_path / "env", main__tf='module "db" {\n  source = "./db"\n}\n')
    write(
        root / "db",
        main__tf=CHILD_PROVIDER.replace("type = string", 'default = "us-west-1"') + TABLE,
    )
    assert region_of(root)[0] == "us-west-1", "a child's variables come from its module block"


def test_an_unreadable_var_file_is_bad_input_and_an_automatic_one_a_note(tmp_path):
    folder = stack(tmp_path, REGION_VAR + 'provider "aws" {\n  region = var.aws_region\n}\n')
    write(folder, broken__tfvars="aws_region = = \n")
    with pytest.raises(InvalidInputError, match=r"broken\.tfvars cannot be read as a \.tfvars"):
        resolve_target(terraform_dir=folder, live=False, var_files="broken.tfvars")
    write(folder, x__auto__tfvars="aws_region = = \n")
    facts = stackread.read_stack(folder)
    assert [t.region for t in facts.tables] == ["us-east-2"], "the defaults still count"
    assert any("x.auto.tfvars cannot be read" in n for n in facts.notes)


def test_guard_plan_says_a_string_count_as_a_string():
    from runbook_lib.steps.guard import item_effects

    side = {"table_name": "visitors", "hash_key": "id"}
    change = {
        "action": "update",
        "before": {**side, "item": json.dumps({"id": {"S": "c"}, "count": {"S": "57"}})},
        "after": {**side, "item": json.dumps({"id": {"S": "c"}, "count": {"S": "0"}})},
    }
    (effect,) = item_effects(change, live=False)
    assert effect.startswith('would set count in visitors to "0" (live value not read')


def test_runbook_run_refuses_a_var_file_that_is_not_there_before_a_kernel(tmp_path):
    from runbook_lib.notebook import paramcheck

    folder = stack(tmp_path, 'provider "aws" {}\n')
    write(folder, dev__tfvars='aws_region = "eu-west-1"\n')
    paramcheck.check_var_files("dev.tfvars", str(folder))  # there: nothing to say
    with pytest.raises(InvalidInputError, match=r"'prod\.tfvars' is not a file"):
        paramcheck.check_var_files("dev.tfvars,prod.tfvars", str(folder))
