"""The corpus of real-world stack shapes (tests/fixtures/stacks/), checked without Terraform.

Each folder is one shape people write (see its expect.json `note`); expect.json is the
ground truth tests/e2e/test_corpus_terraform.py holds 05_migrate to. These checks keep that
truth honest: complete, consistent with the HCL (python-hcl2), every table name unique
(the whole corpus is applied into one moto server), and every stack within the rules
(only the hashicorp/aws provider, pins a 5.x provider satisfies, no sandbox settings).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest

from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.environment import terraform_env

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "stacks"
STACKS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
OUTCOMES = ("migrate", "refuse_pin")
KEY_TYPES = ("S", "N", "B")
REQUIRED = {
    "table": str,
    "key_name": str,
    "key_type": str,
    "key_value": str,
    "count_attribute": str,
    "items": list,
    "counter_item": str,
    "tables": dict,
    "outcome": str,
    "note": str,
}
NULLABLE = ("range_key_name", "range_key_type", "range_key_value", "initial_count")
PROVIDER_VERSION = "5.100.0"  # the provider in this project's mirror
TERRAFORM_VERSION = "1.11.4"  # the binary the corpus is applied with
ALLOWED_RESOURCES = {"aws_dynamodb_table", "aws_dynamodb_table_item"}
ALLOWED_BLOCKS = {"terraform", "provider", "resource", "variable", "locals", "output", "module"}
# the runbook adds these through its generated override; a stack must not need them
SANDBOX_SETTINGS = ("endpoints", "skip_credentials_validation", "skip_requesting_account_id")


def expect(stack: str) -> dict[str, Any]:
    return json.loads((CORPUS / stack / "expect.json").read_text())


def module_dirs(root: Path, prefix: str = "") -> Iterator[tuple[str, Path]]:
    """(address prefix, folder) of the root and every local module it calls, recursively."""
    yield prefix, root
    for doc in parse_dir(root).values():
        for block in doc.get("module", []):
            for name, body in block.items():
                source = body["source"]
                assert source.startswith("./"), f"{root}: module {name} is not local: {source}"
                yield from module_dirs((root / source).resolve(), f"{prefix}module.{name}.")


def parse_dir(folder: Path) -> dict[Path, dict[str, Any]]:
    return {p: hcl2.loads(p.read_text()) for p in sorted(folder.glob("*.tf"))}


def resources(stack: str, rtype: str) -> dict[str, dict[str, Any]]:
    """{address without instance key: body} of every `rtype` resource, modules included."""
    found = {}
    for prefix, folder in module_dirs(CORPUS / stack):
        for doc in parse_dir(folder).values():
            for block in doc.get("resource", []):
                for name, body in block.get(rtype, {}).items():
                    found[f"{prefix}{rtype}.{name}"] = body
    return found


def base_address(address: str) -> str:
    """aws_dynamodb_table_item.seed["counter"] -> aws_dynamodb_table_item.seed"""
    return re.sub(r"\[[^\]]*\]$", "", address)


def literal_item(value: str) -> dict[str, Any] | None:
    """The item's DynamoDB JSON when the HCL writes it literally (a heredoc, or jsonencode
    of constants); None when it interpolates anything (evaluated by the product, not here)."""
    text = value.strip()
    match = re.fullmatch(r"\$\{jsonencode\((.*)\)\}", text, re.DOTALL)
    if match:
        text = match.group(1)
    if "${" in text:
        return None
    return json.loads(text)


def satisfies(version: str, constraint: str) -> bool:
    """Terraform's version constraint syntax (=, !=, >, >=, <, <=, ~>; comma = and)."""

    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in text.strip().split("."))

    have = parts(version)
    for clause in constraint.split(","):
        op, want_text = re.fullmatch(r"\s*(~>|>=|<=|!=|=|>|<)?\s*([\d.]+)\s*", clause).groups()
        want = parts(want_text)
        padded = want + (0,) * (3 - len(want))
        ok = {
            None: have == padded,
            "=": have == padded,
            "!=": have != padded,
            ">": have > padded,
            ">=": have >= padded,
            "<": have < padded,
            "<=": have <= padded,
            # ~> 1.3.7: >= 1.3.7, < 1.4; ~> 5.0: >= 5.0, < 6
            "~>": have >= padded and have[: len(want) - 1] == want[: len(want) - 1],
        }[op]
        if not ok:
            return False
    return True


def test_the_corpus_covers_the_shapes_the_issue_lists():
    listed = {
        "s_key_id_count",
        "number_key_heredoc",
        "provisioned_gsi",
        "jsonencode_item",
        "two_tables_one_item",
        "local_child_module",
        "child_module_own_provider",
        "vars_and_tfvars",
        "ignore_changes_item",
        "ignore_changes_all",
        "key_only_item",
        "range_key",
        "count_item",
        "for_each_item",
        "old_pin_137",
    }
    assert listed <= set(STACKS), f"missing: {sorted(listed - set(STACKS))}"


def test_the_version_checker_reads_terraform_constraints():
    """The helper below decides what "satisfiable" means: it must tell both ways."""
    assert satisfies("5.100.0", "~> 5.0") and satisfies("5.100.0", ">= 4.0, < 6.0")
    assert not satisfies("5.100.0", "~> 4.0") and not satisfies("5.100.0", "< 5.0")
    assert satisfies("1.3.9", "~> 1.3.7") and not satisfies("1.11.4", "~> 1.3.7")
    assert not satisfies("1.11.4", "= 1.3.7") and satisfies("1.11.4", ">= 1.7")


@pytest.mark.parametrize("stack", STACKS)
def test_expect_json_is_complete_and_consistent(stack):
    exp = expect(stack)
    for key, kind in REQUIRED.items():
        assert isinstance(exp.get(key), kind) and exp[key], f"{stack}: {key} missing or empty"
    for key in NULLABLE:
        assert key in exp, f"{stack}: {key} missing (null when it does not apply)"
    assert exp["key_type"] in KEY_TYPES and exp["outcome"] in OUTCOMES
    ranged = [exp["range_key_name"], exp["range_key_type"], exp["range_key_value"]]
    assert ranged == [None] * 3 or all(isinstance(v, str) and v for v in ranged), stack
    assert exp["range_key_type"] in (None, *KEY_TYPES)
    count = exp["initial_count"]
    assert count is None or (isinstance(count, int) and not isinstance(count, bool))
    assert exp["counter_item"] in exp["items"] and len(set(exp["items"])) == len(exp["items"])
    assert exp["table"] in exp["tables"].values()
    if exp["outcome"] == "refuse_pin":
        assert exp.get("pin") and exp["pin"] in (CORPUS / stack / "main.tf").read_text()


@pytest.mark.parametrize("stack", STACKS)
def test_every_tf_file_parses_and_declares_what_expect_json_says(stack):
    exp = expect(stack)
    items = resources(stack, "aws_dynamodb_table_item")
    tables = resources(stack, "aws_dynamodb_table")
    assert items, f"{stack} declares no aws_dynamodb_table_item (root or local module)"
    assert {base_address(a) for a in exp["items"]} == set(items)
    assert set(exp["tables"]) == set(tables)
    for address, name in exp["tables"].items():
        literal = tables[address]["name"]
        assert "${" in literal or literal == name, f"{address}: {literal} != {name}"


@pytest.mark.parametrize("stack", STACKS)
def test_a_literal_counter_item_holds_the_key_and_count_expect_json_gives(stack):
    exp = expect(stack)
    body = resources(stack, "aws_dynamodb_table_item")[base_address(exp["counter_item"])]
    if "for_each" in body:  # jsonencode(each.value): the rows are in locals
        (doc,) = [d for d in parse_dir(CORPUS / stack).values() if "locals" in d]
        rows = [row for block in doc["locals"] for row in block["seed_items"].values()]
        item = next(r for r in rows if r[exp["key_name"]] == {exp["key_type"]: exp["key_value"]})
    else:
        item = literal_item(body["item"])
    if item is None:
        pytest.skip(f"{stack}: the item interpolates; the stack reader is checked on it below")
    assert item[exp["key_name"]] == {exp["key_type"]: exp["key_value"]}
    if exp["range_key_name"]:
        assert item[exp["range_key_name"]] == {exp["range_key_type"]: exp["range_key_value"]}
    if exp["initial_count"] is None:
        assert exp["count_attribute"] not in item
        assert not any("N" in v for k, v in item.items() if k != exp["key_name"])
    else:
        assert item[exp["count_attribute"]] == {"N": str(exp["initial_count"])}


@pytest.mark.parametrize("stack", STACKS)
def test_every_table_name_is_unique_across_the_corpus(stack):
    mine = set(expect(stack)["tables"].values())
    assert len(mine) == len(expect(stack)["tables"])
    for other in STACKS:
        if other != stack:
            clash = mine & set(expect(other)["tables"].values())
            assert not clash, f"{stack} and {other} both create {sorted(clash)}"
    assert all(name.startswith("corpus-") for name in mine), "prefix corpus-: no clash elsewhere"


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_keeps_to_the_corpus_rules(stack):
    exp = expect(stack)
    for prefix, folder in module_dirs(CORPUS / stack):
        for path, doc in parse_dir(folder).items():
            text = path.read_text()
            assert "../" not in text, f"{path}: the folder must be self-contained"
            assert set(doc) <= ALLOWED_BLOCKS, f"{path}: {sorted(set(doc) - ALLOWED_BLOCKS)}"
            for block in doc.get("resource", []):
                assert set(block) <= ALLOWED_RESOURCES, f"{path}: {sorted(block)}"
            for block in doc.get("provider", []):
                assert set(block) == {"aws"}, f"{path}: providers {sorted(block)}"
                assert not any(s in json.dumps(block) for s in SANDBOX_SETTINGS), path
            for block in doc.get("terraform", []):
                for providers in block.get("required_providers", []):
                    assert set(providers) == {"aws"}, f"{path}: {sorted(providers)}"
                    spec = providers["aws"]
                    assert spec.get("source", "hashicorp/aws") == "hashicorp/aws", path
                    if "version" in spec:
                        assert satisfies(PROVIDER_VERSION, spec["version"]), path
                pin = block.get("required_version")
                if pin is not None:
                    expected = exp["outcome"] != "refuse_pin" or prefix
                    assert satisfies(TERRAFORM_VERSION, pin) == bool(expected), f"{path}: {pin}"


@pytest.mark.skipif(find_terraform() is None, reason="no terraform binary on PATH")
def test_the_corpus_is_terraform_fmt_clean():
    proc = subprocess.run(
        [find_terraform(), "fmt", "-check", "-recursive", "-list=true", str(CORPUS)],
        capture_output=True,
        text=True,
        env={**terraform_env(), "TF_CLI_CONFIG_FILE": "/dev/null"},
        timeout=60,
    )
    assert proc.returncode == 0, f"not fmt-clean: {proc.stdout}{proc.stderr}"


@pytest.mark.parametrize("stack", [s for s in STACKS if expect(s)["outcome"] == "migrate"])
def test_the_configuration_alone_names_the_counter_expect_json_gives(stack):
    """Before any apply (no state, no table): the stack reader evaluates variables, .tfvars,
    locals, references, heredocs, jsonencode and local modules to the same counter."""
    from runbook_lib.target.model import resolve_target

    exp = expect(stack)
    target = resolve_target(terraform_dir=CORPUS / stack, live=False)
    assert target.table == exp["table"]
    body = resources(stack, "aws_dynamodb_table_item")[base_address(exp["counter_item"])]
    if "each." in str(body.get("item")):  # one item per for_each key: only the state says
        assert not target.sources["key_value"].startswith("stack"), "a guess, not a reading"
        return
    got = (target.key_name, target.key_type, target.key_value)
    assert got == (exp["key_name"], exp["key_type"], exp["key_value"])
    if exp["range_key_name"]:
        ranged = (target.range_key_name, target.range_key_type, target.range_key_value)
        assert ranged == (exp["range_key_name"], exp["range_key_type"], exp["range_key_value"])
    if exp["initial_count"] is not None:  # a key-only item names no count: the live item does
        assert target.count_attribute == exp["count_attribute"]
