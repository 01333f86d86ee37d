"""05_migrate and the references to the item it takes out (issue 16, items 2 and 3).

Outputs, locals and depends_on entries that read an aws_dynamodb_table_item go with its
block (followed through module outputs up to the root); a reference that cannot be removed
safely stops the run naming its file and line. All on HCL text in tmp_path: no Terraform.
"""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest

from runbook_lib.errors import StackMismatchError, exit_code_for
from runbook_lib.steps.migrate import detect, edits
from runbook_lib.tf import hcledit, refedit, references, siblings

TABLE = """resource "aws_dynamodb_table" "t" {
  name     = "visitors"
  hash_key = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""
ITEM = """
resource "aws_dynamodb_table_item" "seed_items" {
  table_name = aws_dynamodb_table.t.name
  hash_key   = aws_dynamodb_table.t.hash_key
  item       = jsonencode({ id = { S = "site" }, count = { N = "0" } })
}
"""
ITEM_ADDR = "aws_dynamodb_table_item.seed_items"


def _write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.tf").write_text(text)
    return folder


def _change(root: Path, strategy: str = "removed") -> edits.Change:
    return edits.plan_change(detect.detect_config(root), strategy, root=root)


def _parsed(change: edits.Change, path: Path) -> dict:
    return hcl2.loads(change.files[str(path)])


def test_outputs_that_expose_the_item_go_with_its_block(tmp_path):
    outputs = """output "items_count" {
  value = length(aws_dynamodb_table_item.seed_items)
}

output "items" {
  value = aws_dynamodb_table_item.seed_items
}

output "table_name" {
  value = aws_dynamodb_table.t.name
}
"""
    root = _write(tmp_path, main=TABLE + ITEM, outputs=outputs)
    change = _change(root)
    new = _parsed(change, root / "outputs.tf")
    assert [next(iter(o)) for o in new["output"]] == ["table_name"]
    assert '-output "items_count" {' in change.diff and '-output "items" {' in change.diff
    assert '+# output "items_count" removed by 05_migrate' in change.diff
    assert any('output "items" removed: it exposed ' + ITEM_ADDR in n for n in change.notes)
    assert "outputs.tf:2:" in "\n".join(change.notes), "each note names file and line"
    # the proof plans the same configuration
    assert change.proof_files[str(root / "outputs.tf")] == change.files[str(root / "outputs.tf")]


def test_locals_that_read_the_item_go_and_so_do_their_readers(tmp_path):
    main = (
        TABLE
        + ITEM
        + """
locals {
  seeded  = length(aws_dynamodb_table_item.seed_items)
  region  = "eu-west-1"
  derived = local.seeded + 1
}

output "derived" {
  value = local.derived
}

output "region" {
  value = local.region
}
"""
    )
    root = _write(tmp_path, main=main)
    change = _change(root)
    doc = _parsed(change, root / "main.tf")
    assert {k for k in doc["locals"][0] if not k.startswith("__")} == {"region"}
    assert [next(iter(o)) for o in doc["output"]] == ["region"]
    assert "local.derived removed by 05_migrate: it read local.seeded." in change.diff


def test_depends_on_entries_are_dropped_and_an_empty_list_goes(tmp_path):
    others = """resource "aws_s3_bucket" "multi" {
  bucket = "b"
  depends_on = [
    aws_dynamodb_table.t,
    aws_dynamodb_table_item.seed_items,
  ]
}

resource "aws_s3_bucket" "one_line" {
  bucket     = "c"
  depends_on = [aws_dynamodb_table_item.seed_items, aws_dynamodb_table.t]
}

resource "aws_s3_bucket" "only" {
  bucket     = "d"
  depends_on = [aws_dynamodb_table_item.seed_items]
}

output "name" {
  value      = aws_dynamodb_table.t.name
  depends_on = [aws_dynamodb_table_item.seed_items]
}
"""
    root = _write(tmp_path, main=TABLE + ITEM, others=others)
    change = _change(root)
    doc = _parsed(change, root / "others.tf")
    buckets = {n: b for r in doc["resource"] for n, b in r["aws_s3_bucket"].items()}
    assert buckets["multi"]["depends_on"] == ["${aws_dynamodb_table.t}"]
    assert buckets["one_line"]["depends_on"] == ["${aws_dynamodb_table.t}"]
    assert "depends_on" not in buckets["only"]
    (output,) = doc["output"]
    assert "depends_on" not in output["name"] and output["name"]["value"]
    assert "-    aws_dynamodb_table_item.seed_items,\n" in change.diff
    text = change.files[str(root / "others.tf")]
    assert "  depends_on = [aws_dynamodb_table.t]\n" in text
    assert "# depends_on aws_dynamodb_table_item.seed_items dropped by 05_migrate." in text


def test_a_module_outside_the_folder_is_edited_there_and_removed_in_the_root(tmp_path):
    """environments/dev calls ../../modules/dynamodb: the edit lands in the module's own
    file, its output's user in the root goes too, and `removed` goes in the root that runs."""
    module = _write(
        tmp_path / "modules" / "dynamodb",
        main=TABLE + ITEM,
        outputs='output "items_count" {\n  value = length(aws_dynamodb_table_item.seed_items)\n}\n',
    )
    root = _write(
        tmp_path / "environments" / "dev",
        main='module "db" {\n  source = "../../modules/dynamodb"\n}\n\n'
        'output "count" {\n  value = module.db.items_count\n}\n\n'
        'output "kept" {\n  value = "x"\n}\n',
    )
    (finding,) = detect.detect_config(root)
    assert finding.file == str(module / "main.tf")
    change = edits.plan_change([finding], "removed", root=root)
    assert sorted(change.files) == sorted(
        str(p) for p in (module / "main.tf", module / "outputs.tf", root / "main.tf")
    )
    root_doc = _parsed(change, root / "main.tf")
    assert [next(iter(o)) for o in root_doc["output"]] == ["kept"]
    assert root_doc["removed"][0]["from"] == "${module.db." + ITEM_ADDR + "}"
    assert "resource" not in _parsed(change, module / "main.tf") or all(
        "aws_dynamodb_table_item" not in r for r in _parsed(change, module / "main.tf")["resource"]
    )
    assert "output" not in _parsed(change, module / "outputs.tf")
    # paths: relative to the common ancestor in the diff, to the root folder for the user
    assert "--- a/environments/dev/main.tf" in change.diff
    assert "--- a/modules/dynamodb/outputs.tf" in change.diff
    assert hcledit.relative_path(module / "main.tf", root) == "../../modules/dynamodb/main.tf"
    assert any(
        n.startswith('main.tf:6: output "count" removed: it exposed module.db.items_count')
        for n in change.notes
    ), change.notes


def test_a_nested_module_output_is_followed_up_to_the_root(tmp_path):
    _write(
        tmp_path / "inner",
        main=TABLE + ITEM,
        out='output "n" {\n  value = aws_dynamodb_table_item.seed_items\n}\n',
    )
    _write(
        tmp_path / "outer",
        main='module "inner" {\n  source = "../inner"\n}\n\n'
        'output "n" {\n  value = module.inner.n\n}\n',
    )
    root = _write(
        tmp_path / "root",
        main='module "outer" {\n  source = "../outer"\n}\n\n'
        'output "n" {\n  value = module.outer.n\n}\n',
    )
    change = _change(root)
    for folder in ("inner", "outer", "root"):
        doc = hcl2.loads(
            change.files[
                str(
                    (tmp_path / folder / ("out" if folder == "inner" else "main")).with_suffix(
                        ".tf"
                    )
                )
            ]
        )
        assert "output" not in doc, folder


@pytest.mark.parametrize(
    ("extra", "line", "user"),
    [
        (
            'resource "aws_lambda_function" "api" {\n  function_name = "api"\n'
            "  environment {\n    variables = {\n"
            "      ITEM = aws_dynamodb_table_item.seed_items.id\n    }\n  }\n}\n",
            5,
            "aws_lambda_function.api uses aws_dynamodb_table_item.seed_items",
        ),
        (
            "locals {\n  key = aws_dynamodb_table_item.seed_items.hash_key\n}\n\n"
            'resource "aws_s3_bucket" "b" {\n  bucket = local.key\n}\n',
            6,
            "aws_s3_bucket.b uses local.key (which reads aws_dynamodb_table_item.seed_items)",
        ),
    ],
)
def test_a_reference_that_cannot_be_removed_stops_naming_file_and_line(tmp_path, extra, line, user):
    root = _write(tmp_path, main=TABLE + ITEM, users=extra)
    before = {p.name: p.read_text() for p in root.iterdir()}
    with pytest.raises(StackMismatchError) as raised:
        _change(root)
    message = str(raised.value)
    assert f"users.tf:{line}: {user}" in message
    assert "Nothing was written" in message
    assert exit_code_for(type(raised.value).__name__) == 3
    assert {p.name: p.read_text() for p in root.iterdir()} == before


def test_a_module_input_fed_from_a_removed_output_stops_in_the_caller(tmp_path):
    _write(
        tmp_path / "db",
        main=TABLE + ITEM,
        out='output "n" {\n  value = aws_dynamodb_table_item.seed_items\n}\n',
    )
    root = _write(
        tmp_path / "root",
        main='module "db" {\n  source = "../db"\n}\n\n'
        'module "app" {\n  source = "../app"\n  items  = module.db.n\n}\n',
    )
    with pytest.raises(StackMismatchError, match=r"main\.tf:7: module \"app\" uses module\.db\.n"):
        _change(root)


def test_state_rm_removes_references_in_the_files_and_in_the_proof(tmp_path):
    root = _write(
        tmp_path,
        main=TABLE + ITEM + '\noutput "n" {\n  value = aws_dynamodb_table_item.seed_items\n}\n',
    )
    change = _change(root, "state_rm")
    for files in (change.files, change.proof_files):
        assert "output" not in hcl2.loads(files[str(root / "main.tf")])
    assert "removed" in hcl2.loads(change.proof_files[str(root / "main.tf")])


def test_ignore_changes_keeps_the_block_and_so_its_references(tmp_path):
    root = _write(
        tmp_path,
        main=TABLE + ITEM + '\noutput "n" {\n  value = aws_dynamodb_table_item.seed_items\n}\n',
    )
    change = _change(root, "ignore_changes")
    assert "output" in hcl2.loads(change.files[str(root / "main.tf")])
    assert change.notes == ()


def test_several_items_of_one_table_each_get_their_removed_block(tmp_path):
    items = "".join(
        f'\nresource "aws_dynamodb_table_item" "{env}" {{\n'
        "  table_name = aws_dynamodb_table.t.name\n"
        "  hash_key   = aws_dynamodb_table.t.hash_key\n"
        f'  item       = jsonencode({{ id = {{ S = "{env}" }}, count = {{ N = "0" }} }})\n}}\n'
        for env in ("prod", "test")
    )
    root = _write(
        tmp_path,
        main=TABLE
        + items
        + '\noutput "ids" {\n  value = [aws_dynamodb_table_item.prod.id,\n'
        + "    aws_dynamodb_table_item.test.id]\n}\n",
    )
    findings = detect.detect_config(root)
    assert sorted(f.key["id"]["S"] for f in findings) == ["prod", "test"]
    change = edits.plan_change(findings, "removed", root=root)
    doc = _parsed(change, root / "main.tf")
    assert sorted(b["from"] for b in doc["removed"]) == [
        "${aws_dynamodb_table_item.prod}",
        "${aws_dynamodb_table_item.test}",
    ]
    assert "output" not in doc
    assert change.resources == ("aws_dynamodb_table_item.prod", "aws_dynamodb_table_item.test")


def test_attributes_and_list_edits_on_text():
    text = "locals { a = [1, {b = 2}] }\n"
    attrs = refedit.attributes(text, text.index("{"))
    assert list(attrs) == ["a"]
    name_at, value_at, end = attrs["a"]
    assert text[value_at:end].strip() == "[1, {b = 2}]"
    assert refedit.remove_text(text, name_at, end) == "locals { }\n"
    heredoc = 'output "x" {\n  value = <<EOT\n  a } b\nEOT\n  depends_on = [x.y, z.w]\n}\n'
    attrs = refedit.attributes(heredoc, heredoc.index("{"))
    assert list(attrs) == ["value", "depends_on"]
    new, empty = refedit.drop_entries(heredoc, attrs["depends_on"][1], lambda e: e == "x.y")
    assert not empty and "depends_on = [z.w]" in new
    assert refedit.drop_entries(heredoc, attrs["depends_on"][1], lambda e: False) is None


def test_no_reference_plan_for_a_stack_without_references(tmp_path):
    root = _write(tmp_path, main=TABLE + ITEM)
    findings = detect.detect_config(root)
    plan = references.find(findings, root, lambda p: Path(p).read_text())
    assert plan.uses == []
    change = _change(root)
    assert change.notes == () and list(change.files) == [str(root / "main.tf")]


def test_findings_table_shows_each_items_own_live_count(tmp_path):
    root = _write(tmp_path, main=TABLE + ITEM)
    (finding,) = detect.detect_config(root)
    text = detect.findings_table([finding], {finding.address: 57})
    assert text.splitlines()[1].split()[3] == "57"
    assert "  -" in detect.findings_table([finding], {})


def _shared_module(tmp_path: Path) -> tuple[Path, Path, Path]:
    """modules/dynamodb called by environments/dev AND environments/prod (public stacks
    have both): migrating dev must not make prod's next apply delete prod's item."""
    module = _write(tmp_path / "modules" / "dynamodb", main=TABLE + ITEM)
    call = 'module "db" {\n  source = "../../modules/dynamodb"\n}\n'
    dev = _write(tmp_path / "environments" / "dev", main=call)
    prod = _write(tmp_path / "environments" / "prod", main="\n" + call)
    _write(tmp_path / "environments" / "dev" / ".terraform" / "modules" / "db", main=call)
    return module, dev, prod


def test_a_module_another_stack_calls_too_is_never_taken_out_of_it(tmp_path):
    """Taking the block out of a shared module file, with `removed` in dev only, would make
    prod's next `terraform apply` DELETE prod's counter item: refused (exit 3), naming prod's
    call with file and line, handing over the strategy that protects every caller."""
    module, dev, prod = _shared_module(tmp_path)
    (finding,) = detect.detect_config(dev)
    (caller,) = siblings.other_callers(dev, [module])
    assert (caller.file, caller.line, caller.name) == (prod / "main.tf", 2, "db")
    with pytest.raises(StackMismatchError) as refused:
        siblings.refuse_shared_modules(dev, [finding])
    assert exit_code_for(type(refused.value).__name__) == 3
    text = str(refused.value)
    assert "../prod/main.tf:2 (module 'db')" in text and "DELETE its own counter item" in text
    assert "-p strategy ignore_changes" in text
    # a module only this stack calls is no one else's: nothing to refuse
    assert siblings.other_callers(prod.parent / "dev", [tmp_path / "elsewhere"]) == []


def test_ignore_changes_protects_a_module_item_in_place_for_every_caller(tmp_path):
    module, dev, _ = _shared_module(tmp_path)
    change = _change(dev, "ignore_changes")
    assert sorted(change.files) == [str(module / "main.tf")]
    (item,) = [
        r["aws_dynamodb_table_item"]["seed_items"]
        for r in _parsed(change, module / "main.tf")["resource"]
        if "aws_dynamodb_table_item" in r
    ]
    assert item["lifecycle"][0]["ignore_changes"] in (["${item}"], ["item"], "${[item]}")


def test_an_item_already_protected_in_a_shared_module_is_already_safe(tmp_path):
    """ignore_changes already on the item (two public stacks have it): the count is safe in
    every caller, so 05_migrate says so (exit 0) instead of refusing `removed` with exit 3
    as if something were at risk; `removed` stays undone there, and the message says why."""
    module, dev, _ = _shared_module(tmp_path)
    (module / "main.tf").write_text(
        TABLE + ITEM.replace("})\n}", "})\n  lifecycle {\n    ignore_changes = [item]\n  }\n}")
    )
    (finding,) = detect.detect_config(dev)
    assert finding.protected
    shared = detect.protected_in_shared_module(dev, [finding])
    assert "../prod/main.tf:2 (module 'db')" in shared
    message = detect.safe_message(dev, "visitors", [finding], shared)
    assert message.startswith("Already safe: module.db.aws_dynamodb_table_item.seed_items")
    assert "(removed, state_rm) is not done here" in message
    assert "would take it out of Terraform entirely" not in message
    # unprotected, the same module is the refusal's case, not an all-clear
    (module / "main.tf").write_text(TABLE + ITEM)
    (bare,) = detect.detect_config(dev)
    assert detect.protected_in_shared_module(dev, [bare]) == ""
