"""The corpus of real-world stack shapes (tests/fixtures/stacks/), checked without Terraform.

Each folder is one shape people write (see its expect.json `note`); expect.json is the
ground truth tests/e2e/test_corpus_terraform.py holds 05_migrate to. These checks keep that
truth honest: complete, consistent with the HCL (python-hcl2: tables, items, keys, counts,
the region the table's provider evaluates to, the var files, the S3 backend), every table
name unique (the whole corpus is applied into one moto server), and every stack within the
rules (only the hashicorp/aws provider, pins a 5.x provider satisfies, no sandbox settings
in a provider, module paths inside the stack folder).

expect.json: the REQUIRED and NULLABLE fields describe the counter item the run looks at
(`counter_item`); OPTIONAL ones, where a stack needs them: `region` (where its tables live,
never the test shell's us-east-1; absent: us-east-1), `terraform_dir` (the folder
Terraform runs in, relative to the stack folder, which is then the repository root),
`var_files` (the -var-file names the author's CI passes, relative to terraform_dir),
`count_type` ("N", the default, or "S"), `counter_items` (every item that counts, when
there are several: {item, key (DynamoDB JSON), count_attribute, count_type,
initial_count}), `s3_backend` (the backend's bucket, key, region, lock table and the
endpoint placeholder the test replaces with the moto server's URL), `pin` (refuse_pin).
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
COUNT_TYPES = ("N", "S")
SHELL_REGION = "us-east-1"  # the e2e test's shell (sandbox.REGION): a stack's own is another
ITEM = "aws_dynamodb_table_item"
TABLE = "aws_dynamodb_table"
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
OPTIONAL = {
    "region": str,
    "terraform_dir": str,
    "var_files": list,
    "count_type": str,
    "counter_items": list,
    "s3_backend": dict,
    "pin": str,
}
COUNTER_FIELDS = {
    "item": str,
    "key": dict,
    "count_attribute": str,
    "count_type": str,
    "initial_count": (int, type(None)),  # None: a key-only item (the Lambda adds the count)
}
S3_BACKEND_FIELDS = ("bucket", "key", "region", "lock_table", "endpoint_placeholder")
REGION_SHAPE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
PROVIDER_VERSION = "5.100.0"  # the provider in this project's mirror
TERRAFORM_VERSION = "1.11.4"  # the binary the corpus is applied with
ALLOWED_RESOURCES = {TABLE, ITEM}
ALLOWED_BLOCKS = {"terraform", "provider", "resource", "variable", "locals", "output", "module"}
# the runbook adds these through its generated override; a stack must not need them
SANDBOX_SETTINGS = ("endpoints", "skip_credentials_validation", "skip_requesting_account_id")
# a module path that leaves its folder: allowed only on a module's `source` line
SOURCE_LINE = re.compile(r'\s*source\s*=\s*"(\.\./)+[\w./-]+"\s*')


def expect(stack: str) -> dict[str, Any]:
    return json.loads((CORPUS / stack / "expect.json").read_text())


def stack_root(stack: str) -> Path:
    """The folder Terraform runs in: the stack folder, or its `terraform_dir`."""
    return CORPUS / stack / expect(stack).get("terraform_dir", "")


def var_file_paths(stack: str) -> list[Path]:
    return [stack_root(stack) / name for name in expect(stack).get("var_files", [])]


def typed_key(exp: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The top-level counter's key in DynamoDB JSON (range key included)."""
    key = {exp["key_name"]: {exp["key_type"]: exp["key_value"]}}
    if exp["range_key_name"]:
        key[exp["range_key_name"]] = {exp["range_key_type"]: exp["range_key_value"]}
    return key


def counters(exp: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item that counts: `counter_items`, else the one the top-level fields name."""
    if "counter_items" in exp:
        return exp["counter_items"]
    return [
        {
            "item": exp["counter_item"],
            "key": typed_key(exp),
            "count_attribute": exp["count_attribute"],
            "count_type": exp.get("count_type", "N"),
            "initial_count": exp["initial_count"],
        }
    ]


def parse_dir(folder: Path) -> dict[Path, dict[str, Any]]:
    return {p: hcl2.loads(p.read_text()) for p in sorted(folder.glob("*.tf"))}


def module_calls(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        name: body
        for doc in parse_dir(folder).values()
        for block in doc.get("module", [])
        for name, body in block.items()
    }


def module_dirs(stack: str) -> Iterator[tuple[str, Path]]:
    """(address prefix, folder) of the root and every local module it calls, recursively;
    a module path may leave its caller's folder (../../modules/x) but never the stack's."""
    top = (CORPUS / stack).resolve()

    def walk(folder: Path, prefix: str) -> Iterator[tuple[str, Path]]:
        yield prefix, folder
        for name, body in module_calls(folder).items():
            source = body["source"]
            assert source.startswith(("./", "../")), f"{folder}: module {name}: {source}"
            child = (folder / source).resolve()
            assert child.is_relative_to(top), f"{folder}: module {name} leaves the stack"
            yield from walk(child, f"{prefix}module.{name}.")

    yield from walk(stack_root(stack).resolve(), "")


def declared(stack: str, rtype: str) -> dict[str, tuple[Path, dict[str, Any]]]:
    """{address without instance key: (its module folder, body)} of every `rtype`."""
    found = {}
    for prefix, folder in module_dirs(stack):
        for doc in parse_dir(folder).values():
            for block in doc.get("resource", []):
                for name, body in block.get(rtype, {}).items():
                    found[f"{prefix}{rtype}.{name}"] = (folder, body)
    return found


def resources(stack: str, rtype: str) -> dict[str, dict[str, Any]]:
    return {address: body for address, (_, body) in declared(stack, rtype).items()}


def base_address(address: str) -> str:
    """aws_dynamodb_table_item.seed["counter"] -> aws_dynamodb_table_item.seed"""
    return re.sub(r"\[[^\]]*\]$", "", address)


def instance_key(address: str) -> str | int | None:
    """aws_dynamodb_table_item.seed["counter"] -> "counter"; ...[0] -> 0; none: None"""
    match = re.search(r"\[([^\]]*)\]$", address)
    return json.loads(match.group(1)) if match else None


def variable_values(folder: Path, var_files: list[Path]) -> dict[str, Any]:
    """A root module's variables as Terraform sets them (no TF_VAR_ here): the defaults,
    then terraform.tfvars, then each -var-file in order (a later one wins)."""
    values = defaults(folder)
    for path in [folder / "terraform.tfvars", *var_files]:
        if path.is_file():
            values.update(hcl2.loads(path.read_text()))
    return values


def defaults(folder: Path) -> dict[str, Any]:
    return {
        name: body["default"]
        for doc in parse_dir(folder).values()
        for block in doc.get("variable", [])
        for name, body in block.items()
        if "default" in body
    }


def evaluate(value: Any, variables: dict[str, Any]) -> Any:
    """A literal, or a whole `${var.NAME}`; anything else None (not evaluated here)."""
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{var\.(\w+)\}", value)
        if match:
            return variables.get(match.group(1))
        if "${" in value:
            return None
    return value


def module_chain(stack: str, prefix: str) -> list[tuple[Path, dict[str, Any]]]:
    """(folder, variable values) of the root and each module down to `prefix`'s: a module's
    variables are its defaults and the arguments its caller passes (evaluated there)."""
    root = stack_root(stack).resolve()
    chain = [(root, variable_values(root, var_file_paths(stack)))]
    for name in re.findall(r"module\.([^.]+)\.", prefix):
        folder, values = chain[-1]
        call = module_calls(folder)[name]
        child = (folder / call["source"]).resolve()
        passed = {k: evaluate(v, values) for k, v in call.items() if k != "source"}
        chain.append((child, {**defaults(child), **passed}))
    return chain


def table_region(stack: str, address: str, body: dict[str, Any]) -> str:
    """The region of the provider a resource uses, as Terraform picks it: its `provider =
    aws.ALIAS`, else the default configuration, in its own module, else inherited from the
    calling modules; no such provider or no region in it: the shell's."""
    match = re.fullmatch(r"\$\{aws\.(\w+)\}", body.get("provider", ""))
    alias = match.group(1) if match else None
    prefix = address[: address.index(f"{TABLE}.")]
    for folder, values in reversed(module_chain(stack, prefix)):
        for doc in parse_dir(folder).values():
            for block in doc.get("provider", []):
                config = block.get("aws", {})
                if config.get("alias") == alias:
                    region = evaluate(config.get("region"), values)
                    return region or SHELL_REGION
    return SHELL_REGION


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


def for_each_keys(stack: str, address: str) -> list[Any] | None:
    """The instance keys of a for_each item, where this file can tell: a map in locals
    (`local.NAME`) or `toset(var.NAME)`; None otherwise."""
    folder, body = declared(stack, ITEM)[address]
    each = body["for_each"]
    local = re.fullmatch(r"\$\{local\.(\w+)\}", each)
    if local:
        docs = parse_dir(folder).values()
        return [k for d in docs for b in d.get("locals", []) for k in b.get(local.group(1), {})]
    listed = re.fullmatch(r"\$\{toset\(var\.(\w+)\)\}", each)
    if listed:
        prefix = address[: address.index(f"{ITEM}.")]
        return sorted(set(module_chain(stack, prefix)[-1][1].get(listed.group(1)) or []))
    return None


def item_document(stack: str, counter: dict[str, Any]) -> dict[str, Any] | None:
    """The counter's item as the HCL writes it (DynamoDB JSON): literal, a for_each row of
    locals, or a for_each template with each.value put in; None when it interpolates more."""
    address = base_address(counter["item"])
    folder, body = declared(stack, ITEM)[address]
    key = instance_key(counter["item"])
    each = body.get("for_each")
    if each is None:
        return literal_item(body["item"])
    local = re.fullmatch(r"\$\{local\.(\w+)\}", each)
    if local and body["item"] == "${jsonencode(each.value)}":
        docs = parse_dir(folder).values()
        rows = {
            k: v for d in docs for b in d.get("locals", []) for k, v in b[local.group(1)].items()
        }
        return rows[key]
    if "toset(" in each:  # a set: each.key and each.value are the element
        text = body["item"].replace("${each.value}", str(key)).replace("${each.key}", str(key))
        return literal_item(text)
    return None


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
        # issue 16 (round 2)
        "region_var_default",
        "region_tfvars",
        "region_alias_provider",
        "outputs_reference_item",
        "modules_outside_folder",
        "provider_profile",
        "for_each_var_sites",
        "two_events_one_table",
        "string_count",
        "backend_s3_sandbox",
    }
    assert listed <= set(STACKS), f"missing: {sorted(listed - set(STACKS))}"


def test_the_version_checker_reads_terraform_constraints():
    """The helper below decides what "satisfiable" means: it must tell both ways."""
    assert satisfies("5.100.0", "~> 5.0") and satisfies("5.100.0", ">= 4.0, < 6.0")
    assert not satisfies("5.100.0", "~> 4.0") and not satisfies("5.100.0", "< 5.0")
    assert satisfies("1.3.9", "~> 1.3.7") and not satisfies("1.11.4", "~> 1.3.7")
    assert not satisfies("1.11.4", "= 1.3.7") and satisfies("1.11.4", ">= 1.7")


def test_the_region_reader_follows_aliases_tfvars_and_module_arguments():
    """The helper below decides which region expect.json must name: it must tell apart the
    default provider from an alias, a tfvars value from a default, a module's argument."""
    assert table_region("region_alias_provider", "aws_dynamodb_table.visitors", {}) == ("us-west-2")
    aliased = {"provider": "${aws.west}"}
    assert table_region("region_alias_provider", "aws_dynamodb_table.x", aliased) == (
        "ca-central-1"
    )
    assert table_region("region_tfvars", "aws_dynamodb_table.counter", {}) == "eu-west-1"
    address = "module.backend.aws_dynamodb_table.views"
    assert table_region("child_module_own_provider", address, {}) == "us-east-1"
    inherited = "module.dynamodb.aws_dynamodb_table.visitor_counter"
    assert table_region("modules_outside_folder", inherited, {}) == "eu-west-3"


@pytest.mark.parametrize("stack", STACKS)
def test_expect_json_is_complete_and_consistent(stack):
    exp = expect(stack)
    for key, kind in REQUIRED.items():
        assert isinstance(exp.get(key), kind) and exp[key], f"{stack}: {key} missing or empty"
    for key in NULLABLE:
        assert key in exp, f"{stack}: {key} missing (null when it does not apply)"
    for key, kind in OPTIONAL.items():
        assert key not in exp or (isinstance(exp[key], kind) and exp[key]), f"{stack}: {key}"
    unknown = set(exp) - set(REQUIRED) - set(NULLABLE) - set(OPTIONAL)
    assert not unknown, f"{stack}: unknown fields {sorted(unknown)}"
    assert exp["key_type"] in KEY_TYPES and exp["outcome"] in OUTCOMES
    assert exp.get("count_type", "N") in COUNT_TYPES
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
def test_the_optional_fields_say_what_the_test_can_use(stack):
    """region: not the test shell's (the point of the field); terraform_dir and var_files:
    there; counter_items: every counting item once, the top-level counter among them with
    the same key, attribute and count; s3_backend: complete."""
    exp = expect(stack)
    if "region" in exp:
        assert REGION_SHAPE.fullmatch(exp["region"]) and exp["region"] != SHELL_REGION
    if "terraform_dir" in exp:
        assert not Path(exp["terraform_dir"]).is_absolute() and ".." not in exp["terraform_dir"]
        assert list(stack_root(stack).glob("*.tf")), f"{stack}: no .tf in terraform_dir"
    for path in var_file_paths(stack):
        assert path.is_file() and path.suffix == ".tfvars", f"{stack}: {path}"
    listed = counters(exp)
    for counter in listed:
        assert set(counter) == set(COUNTER_FIELDS), f"{stack}: {sorted(counter)}"
        assert all(isinstance(counter[k], t) for k, t in COUNTER_FIELDS.items()), counter
        assert counter["item"] in exp["items"] and counter["count_type"] in COUNT_TYPES
        for typed in counter["key"].values():
            assert len(typed) == 1 and next(iter(typed)) in KEY_TYPES, counter
    assert len({c["item"] for c in listed}) == len(listed), f"{stack}: an item twice"
    (mine,) = [c for c in listed if c["item"] == exp["counter_item"]]
    assert mine["key"] == typed_key(exp) and mine["count_attribute"] == exp["count_attribute"]
    assert mine["initial_count"] == exp["initial_count"]
    assert mine["count_type"] == exp.get("count_type", "N")
    if "s3_backend" in exp:
        assert set(exp["s3_backend"]) == set(S3_BACKEND_FIELDS), stack
        assert all(isinstance(v, str) and v for v in exp["s3_backend"].values()), stack


@pytest.mark.parametrize("stack", STACKS)
def test_every_tf_file_parses_and_declares_what_expect_json_says(stack):
    exp = expect(stack)
    items = declared(stack, ITEM)
    tables = declared(stack, TABLE)
    assert items, f"{stack} declares no aws_dynamodb_table_item (root or local module)"
    assert {base_address(a) for a in exp["items"]} == set(items)
    assert set(exp["tables"]) == set(tables)
    for address, name in exp["tables"].items():
        literal = tables[address][1]["name"]
        assert "${" in literal or literal == name, f"{address}: {literal} != {name}"
        region = table_region(stack, address, tables[address][1])
        assert region == exp.get("region", SHELL_REGION), f"{address} is in {region}"
    for address, (_, body) in items.items():
        listed = sorted(str(instance_key(a)) for a in exp["items"] if base_address(a) == address)
        if "for_each" in body:
            keys = for_each_keys(stack, address)
            assert keys is None or listed == sorted(keys), f"{address}: {listed} != {keys}"
        elif "count" in body:
            prefix = address[: address.index(f"{ITEM}.")]
            count = evaluate(body["count"], module_chain(stack, prefix)[-1][1])
            assert count is None or listed == [str(i) for i in range(count)], address
        else:
            assert listed == ["None"], f"{address}: one instance, no key: {listed}"


@pytest.mark.parametrize("stack", STACKS)
def test_a_literal_counter_item_holds_the_key_and_count_expect_json_gives(stack):
    exp = expect(stack)
    checked = 0
    for counter in counters(exp):
        item = item_document(stack, counter)
        if item is None:
            continue  # the item interpolates; the stack reader is checked on it below
        checked += 1
        for name, typed in counter["key"].items():
            assert item[name] == typed, f"{counter['item']}: {name} = {item.get(name)}"
        attribute = counter["count_attribute"]
        if counter["initial_count"] is None:
            assert attribute not in item
            assert not any("N" in v for k, v in item.items() if k not in counter["key"])
        else:
            want = {counter["count_type"]: str(counter["initial_count"])}
            assert item[attribute] == want, f"{counter['item']}: {item.get(attribute)}"
    if not checked:
        pytest.skip(f"{stack}: every counter item interpolates; the stack reader reads it")


def table_names(stack: str) -> list[str]:
    """Every DynamoDB table the stack's story creates: its own, and its backend's lock."""
    exp = expect(stack)
    lock = [exp["s3_backend"]["lock_table"]] if "s3_backend" in exp else []
    return [*exp["tables"].values(), *lock]


@pytest.mark.parametrize("stack", STACKS)
def test_every_table_name_is_unique_across_the_corpus(stack):
    mine = set(table_names(stack))
    assert len(mine) == len(table_names(stack))
    for other in STACKS:
        if other != stack:
            clash = mine & set(table_names(other))
            assert not clash, f"{stack} and {other} both create {sorted(clash)}"
    assert all(name.startswith("corpus-") for name in mine), "prefix corpus-: no clash elsewhere"
    if "s3_backend" in expect(stack):
        assert expect(stack)["s3_backend"]["bucket"].startswith("corpus-")


def check_backend(path: Path, backends: list[dict[str, Any]], exp: dict[str, Any]) -> None:
    """A backend only where expect.json names it: that S3 bucket, key, region and lock,
    with its endpoints the placeholder the test replaces (never a URL of its own)."""
    want = exp.get("s3_backend")
    assert want, f"{path}: a backend, but expect.json has no s3_backend"
    for backend in backends:
        assert set(backend) == {"s3"}, f"{path}: {sorted(backend)}"
        s3 = backend["s3"]
        got = (s3["bucket"], s3["key"], s3["region"], s3["dynamodb_table"])
        assert got == (want["bucket"], want["key"], want["region"], want["lock_table"]), path
        assert set(s3["endpoints"].values()) == {want["endpoint_placeholder"]}, path
    text = path.read_text()
    assert not re.search(r"127\.0\.0\.1|localhost|https?://", text), f"{path}: an endpoint URL"


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_keeps_to_the_corpus_rules(stack):
    exp = expect(stack)
    backends = 0
    for prefix, folder in module_dirs(stack):
        for path, doc in parse_dir(folder).items():
            outside = [
                line
                for line in path.read_text().splitlines()
                if "../" in line and not SOURCE_LINE.fullmatch(line)
            ]
            assert not outside, f"{path}: a path outside its folder: {outside}"
            assert set(doc) <= ALLOWED_BLOCKS, f"{path}: {sorted(set(doc) - ALLOWED_BLOCKS)}"
            for block in doc.get("resource", []):
                assert set(block) <= ALLOWED_RESOURCES, f"{path}: {sorted(block)}"
            for block in doc.get("provider", []):
                assert set(block) == {"aws"}, f"{path}: providers {sorted(block)}"
                assert not any(s in json.dumps(block) for s in SANDBOX_SETTINGS), path
            for block in doc.get("terraform", []):
                if block.get("backend"):
                    check_backend(path, block["backend"], exp)
                    backends += 1
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
    assert backends == (1 if "s3_backend" in exp else 0), f"{stack}: {backends} backends"


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


# A stack with a backend is read through it (its state says which items exist): a server
# the unit tier does not have. The e2e corpus test reads it, with the moto server.
@pytest.mark.parametrize(
    "stack",
    [s for s in STACKS if expect(s)["outcome"] == "migrate" and "s3_backend" not in expect(s)],
)
def test_the_configuration_alone_names_the_counter_expect_json_gives(stack):
    """Before any apply (no state, no table): the stack reader evaluates variables, .tfvars,
    the author's var files, locals, references, heredocs, jsonencode, local modules (outside
    the folder too), count and for_each (one instance per key) to the same counter, in the
    region the table's provider names. With several counter items it names one of them."""
    from runbook_lib.resolve import resolve_target

    exp = expect(stack)
    target = resolve_target(
        terraform_dir=stack_root(stack), var_files=exp.get("var_files"), live=False
    )
    assert target.table == exp["table"]
    assert target.region == exp.get("region", SHELL_REGION), target.sources.get("region")
    got = {target.key_name: {target.key_type: target.key_value}}
    if target.range_key_name:
        got[target.range_key_name] = {target.range_key_type: target.range_key_value}
    named = [c for c in counters(exp) if c["key"] == got]
    assert named, f"{got} is none of {[c['key'] for c in counters(exp)]}"
    if named[0]["initial_count"] is not None:  # a key-only item names no count: the item does
        assert target.count_attribute == named[0]["count_attribute"]
        assert target.count_type == named[0]["count_type"]
