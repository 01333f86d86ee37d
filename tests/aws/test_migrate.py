"""migrate's pure parts: HCL text edits, detection from configuration and state, plan parsing.

No terraform binary needed; tests/e2e/test_migrate_terraform.py proves the same against real
Terraform and the moto sandbox.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import hcl2
import pytest

from runbook_lib.errors import InvalidInputError, TerraformError
from runbook_lib.onboarding import resetdemo
from runbook_lib.steps import migrate
from runbook_lib.steps.migrate import apply, counteritems, detect, edits, report
from runbook_lib.tf import hcledit, planrules, stackconfig, stackmodel, stackread, state
from runbook_lib.tf import workspace as tfworkspace
from tests.conftest import tree_hash, write_file

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "tests" / "fixtures" / "legacy_stack"
ADDR = "aws_dynamodb_table_item.visitor_count"

HEAD = """# a comment with braces { that } must not confuse anything
resource "aws_dynamodb_table" "API_table" {
  name     = "${var.bucket_name}-VisitorCount"
  hash_key = "stat"
  attribute {
    name = "stat"
    type = "S"
  }
}

"""
TAIL = """
output "braces" {
  value = "a } in a string, and ${jsonencode({ x = "}" })}" # }
}
"""
ITEM = """resource "aws_dynamodb_table_item" "visitor_count" {
  table_name = aws_dynamodb_table.API_table.name
  hash_key   = aws_dynamodb_table.API_table.hash_key

  item = <<ITEM
  {
    "stat": {"S": "Quantity"},
    "viewCount": {"N":"0"}
  }
ITEM
}"""
SAMPLE = HEAD + ITEM + "\n" + TAIL


def _finding(path: Path, **kw) -> stackmodel.Finding:
    return stackmodel.Finding(address=ADDR, resource=ADDR, file=str(path), **kw)


def _split(new: str) -> tuple[str, str, str]:
    """GIVEN a change to SAMPLE, the text before and after the item block stays byte-exact."""
    assert new.startswith(HEAD)
    assert new.endswith("\n" + TAIL)
    return HEAD, new[len(HEAD) : len(new) - len(TAIL) - 1], TAIL


def test_locate_block_ignores_braces_in_heredocs_strings_and_comments():
    start, end = hcledit.locate_block(SAMPLE, hcledit.ITEM_TYPE, "visitor_count")
    assert SAMPLE[start:end] == ITEM


def test_removed_strategy_replaces_only_the_block(tmp_path):
    path = tmp_path / "dynamodb.tf"
    change = edits.plan_change(
        [_finding(path, in_state=True)], "removed", {str(path): SAMPLE}, root=tmp_path
    )
    new = change.files[str(path)]
    _, middle, _ = _split(new)
    assert "removed {" in middle and f"from = {ADDR}" in middle and "destroy = false" in middle
    doc = hcl2.loads(new)
    assert doc["removed"][0]["from"] == "${" + ADDR + "}"
    assert doc["removed"][0]["lifecycle"][0]["destroy"] is False
    assert all("aws_dynamodb_table_item" not in block for block in doc["resource"])
    assert change.proof_files == change.files
    assert '-resource "aws_dynamodb_table_item" "visitor_count" {' in change.diff
    assert "+removed {" in change.diff and change.diff.startswith("--- a/dynamodb.tf")
    assert change.state_rm == ()


def test_state_rm_strategy_drops_the_block_and_proves_the_removed_equivalent(tmp_path):
    path = tmp_path / "dynamodb.tf"
    change = edits.plan_change(
        [_finding(path, in_state=True)], "state_rm", {str(path): SAMPLE}, root=tmp_path
    )
    new = change.files[str(path)]
    _, middle, _ = _split(new)
    assert "resource" not in middle and "removed" not in middle
    assert middle.startswith("# aws_dynamodb_table_item.visitor_count: taken out")
    assert change.state_rm == (ADDR,)
    assert "removed {" in change.proof_files[str(path)]
    hcl2.loads(new)


def test_ignore_changes_strategy_adds_a_lifecycle_rule(tmp_path):
    path = tmp_path / "dynamodb.tf"
    change = edits.plan_change([_finding(path)], "ignore_changes", {str(path): SAMPLE})
    new = change.files[str(path)]
    _, middle, _ = _split(new)
    assert middle.startswith(ITEM[:-1]) and middle.endswith(
        "  lifecycle {\n    ignore_changes = [item]\n  }\n}"
    )
    body = hcl2.loads(new)["resource"][1]["aws_dynamodb_table_item"]["visitor_count"]
    assert body["lifecycle"][0]["ignore_changes"] == ["${item}"]


@pytest.mark.parametrize(
    ("lifecycle", "expected"),
    [
        ("  lifecycle {\n    prevent_destroy = true\n  }\n", ["${item}"]),
        ("  lifecycle {\n    ignore_changes = [table_name]\n  }\n", ["${table_name}", "${item}"]),
        ("  lifecycle {\n    ignore_changes = []\n  }\n", ["${item}"]),
    ],
)
def test_ignore_changes_merges_into_an_existing_lifecycle(lifecycle, expected):
    text = ITEM[:-1] + lifecycle + "}\n"
    new = hcledit.add_ignore_changes(text, "visitor_count")
    body = hcl2.loads(new)["resource"][0]["aws_dynamodb_table_item"]["visitor_count"]
    assert body["lifecycle"][0]["ignore_changes"] == expected
    assert new.count("lifecycle {") == 1


def test_count_instances_share_one_block_edit(tmp_path):
    """The guide's conditional creation: two instances in state, one block, one removed."""
    text = ITEM.replace(
        "{\n  table_name", "{\n  count      = var.create_initial_data ? 1 : 0\n  table_name", 1
    )
    path = tmp_path / "item.tf"
    findings = [
        stackmodel.Finding(address=f"{ADDR}[0]", resource=ADDR, file=str(path), in_state=True),
        stackmodel.Finding(address=f"{ADDR}[1]", resource=ADDR, file=str(path), in_state=True),
    ]
    change = edits.plan_change(findings, "removed", {str(path): text + "\n"})
    new = change.files[str(path)]
    assert new.count("removed {") == 1 and "create_initial_data" not in new


def test_a_state_only_leftover_gets_a_removed_block_appended(tmp_path):
    path = tmp_path / "main.tf"
    orphan = stackmodel.Finding(address=ADDR, resource=ADDR, in_config=False, in_state=True)
    change = edits.plan_change([orphan], "removed", {str(path): HEAD}, root=tmp_path)
    assert change.files[str(path)].startswith(HEAD.rstrip("\n"))
    assert hcl2.loads(change.files[str(path)])["removed"][0]["from"] == "${" + ADDR + "}"
    with pytest.raises(InvalidInputError, match="no block to add a lifecycle rule to"):
        edits.plan_change([orphan], "ignore_changes", {str(path): HEAD}, root=tmp_path)


def test_bad_strategy_and_uneditable_modules_are_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="Valid: removed, state_rm, ignore_changes"):
        edits.plan_change([], "count_flag")
    nested = stackmodel.Finding(
        address=f"module.site.{ADDR}",
        resource=f"module.site.{ADDR}",
        module="module.site",
        module_source="git::https://example.com/site.git",
        module_local=False,
    )
    with pytest.raises(InvalidInputError, match=r"not a local folder.*create it again"):
        edits.plan_change([nested], "removed")


@pytest.mark.parametrize("strategy", ["removed", "state_rm"])
def test_a_local_module_item_leaves_the_module_and_is_removed_in_the_root(tmp_path, strategy):
    module_dir = tmp_path / "modules" / "counter"
    module_dir.mkdir(parents=True)
    (module_dir / "main.tf").write_text(HEAD + ITEM + "\n")
    root_tf = tmp_path / "main.tf"
    root_tf.write_text('module "site" {\n  source = "./modules/counter"\n}\n')
    (finding,) = detect.detect_config(tmp_path)
    assert (finding.module, finding.resource) == ("module.site", f"module.site.{ADDR}")
    change = edits.plan_change([finding], strategy, root=tmp_path)
    assert 'resource "aws_dynamodb_table_item"' not in change.files[str(module_dir / "main.tf")]
    assert 'resource "aws_dynamodb_table" "API_table"' in change.files[str(module_dir / "main.tf")]
    root_new = change.files.get(str(root_tf), root_tf.read_text())
    assert (f"from = module.site.{ADDR}" in root_new) is (strategy == "removed")
    assert f"from = module.site.{ADDR}" in change.proof_files[str(root_tf)]
    assert change.state_rm == ((f"module.site.{ADDR}",) if strategy == "state_rm" else ())
    assert "modules/counter/main.tf" in change.diff


def test_a_block_the_parser_and_braces_disagree_on_is_not_edited():
    broken = ITEM.replace("ITEM\n}", "ITEM\n") + "\n"
    with pytest.raises(TerraformError):
        hcledit.locate_block(broken, hcledit.ITEM_TYPE, "visitor_count")


def test_detect_config_reads_the_legacy_fixture(tmp_path):
    copy = resetdemo.copy_legacy_stack(tmp_path / "stack", bucket_name="unit.example.com")
    (finding,) = detect.detect_config(copy)
    assert finding.address == ADDR and finding.resource == ADDR
    assert finding.table == "unit.example.com-VisitorCount"
    assert finding.key == {"stat": {"S": "Quantity"}}
    assert finding.configured_count == 0
    assert finding.protected is False and finding.in_state is False
    assert Path(finding.file).name == "dynamodb.tf"
    # and the fixture itself resolves to its own default bucket
    assert detect.detect_config(LEGACY)[0].table == "legacy.example.com-VisitorCount"


def test_the_repo_stack_has_no_table_item():
    assert detect.detect_config(ROOT / "terraform") == []


def _show(*resources: dict) -> dict:
    return {"values": {"root_module": {"resources": list(resources)}}}


def _state_item(address: str, count: int, table: str = "t-VisitorCount") -> dict:
    return {
        "address": address,
        "mode": "managed",
        "type": hcledit.ITEM_TYPE,
        "name": "visitor_count",
        "values": {
            "table_name": table,
            "hash_key": "stat",
            "item": json.dumps({"stat": {"S": "Quantity"}, "viewCount": {"N": str(count)}}),
        },
    }


def test_merge_state_lists_instances_and_leftovers(tmp_path):
    copy = resetdemo.copy_legacy_stack(tmp_path / "stack")
    config = detect.detect_config(copy)
    merged = detect.merge_state(
        config,
        _show(
            _state_item(f"{ADDR}[0]", 7),
            _state_item(f"{ADDR}[1]", 0),
            _state_item("aws_dynamodb_table_item.gone", 3),
        ),
    )
    by = {f.address: f for f in merged}
    assert set(by) == {f"{ADDR}[0]", f"{ADDR}[1]", "aws_dynamodb_table_item.gone"}
    assert by[f"{ADDR}[0]"].state_count == 7 and by[f"{ADDR}[0]"].configured_count == 0
    assert by[f"{ADDR}[0]"].resource == ADDR and by[f"{ADDR}[0]"].in_config
    gone = by["aws_dynamodb_table_item.gone"]
    assert gone.in_config is False and gone.file is None and gone.table == "t-VisitorCount"
    # a block not applied yet is listed from the configuration alone
    assert detect.merge_state(config, {}) == config


def test_protected_items_are_recognised(tmp_path):
    path = tmp_path / "x.tf"
    path.write_text(hcledit.add_ignore_changes(ITEM + "\n", "visitor_count"))
    (finding,) = detect.detect_config(tmp_path)
    assert finding.protected is True


def test_plan_lines_are_parsed_and_item_writes_flagged():
    lines = [
        json.dumps({"type": "version", "@message": "Terraform 1.11.4"}),
        json.dumps(
            {
                "type": "resource_drift",
                "change": {"resource": {"addr": ADDR, "resource_type": hcledit.ITEM_TYPE}},
            }
        ),
        json.dumps(
            {
                "type": "planned_change",
                "change": {
                    "resource": {"addr": ADDR, "resource_type": hcledit.ITEM_TYPE},
                    "action": "remove",
                },
            }
        ),
        json.dumps({"type": "change_summary", "@message": "Plan: 0 to add, 0 to change."}),
        "not json",
    ]
    changes, summary, errors = planrules.parse_plan_lines(lines)
    assert changes == [{"address": ADDR, "type": hcledit.ITEM_TYPE, "action": "remove"}]
    assert summary.startswith("Plan:") and errors == []
    assert planrules.unsafe_changes(changes) == []
    for action in ("update", "delete", "create", "replace"):
        assert planrules.unsafe_changes([{**changes[0], "action": action}])
    table = {"address": "aws_dynamodb_table.t", "type": stackmodel.TABLE_TYPE}
    assert planrules.unsafe_changes([{**table, "action": "replace"}])
    assert not planrules.unsafe_changes([{**table, "action": "update"}])


def test_findings_table_shows_configured_beside_live(tmp_path):
    f = _finding(tmp_path / "x.tf", configured_count=0, in_state=True)
    text = detect.findings_table([f], 42)
    assert "configured viewCount" in text and ADDR in text and "42" in text


def test_resolve_dir_and_shadow_never_point_into_the_users_folder(tmp_path):
    with pytest.raises(InvalidInputError, match="not a folder"):
        stackread.resolve_dir(tmp_path / "missing")
    copy = resetdemo.copy_legacy_stack(tmp_path / "stack")
    assert stackread.resolve_dir(copy) == copy.resolve()
    shadow = tfworkspace.shadow_dir(copy.resolve())
    assert copy.resolve() not in shadow.parents
    shutil.rmtree(copy)


def test_demonstrate_reset_refuses_real_aws(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(InvalidInputError, match="only against the local sandbox"):
        resetdemo.demonstrate_reset(stream=None)


def test_demonstrate_reset_leaves_nothing_behind_even_when_terraform_fails(
    moto_url, monkeypatch, tmp_path
):
    """A temporary demo removes its folder and shadow workspace whatever happens."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    class BrokenInit:  # the real shadow workspace, whose `terraform init` fails
        def __init__(self, folder, **kwargs):
            self.real = tfworkspace.workspace(folder, **kwargs)

        def sync(self) -> None:
            self.real.sync()

        def init(self) -> None:
            raise TerraformError("terraform init failed (simulated)")

        def discard(self) -> None:
            self.real.discard()

    with pytest.raises(TerraformError, match="simulated"):
        resetdemo.demonstrate_reset(stream=None, open_workspace=BrokenInit)
    assert list(tmp_path.iterdir()) == []
    shadows = tfworkspace.shadow_dir(tmp_path / "x").parent
    assert not any(p.name.startswith("runbook-reset-demo-") for p in shadows.glob("*"))


def test_a_count_lost_by_an_apply_is_restored_from_the_backup_loudly(target, tmp_path, monkeypatch):
    """GIVEN a backup taken before the migration, WHEN an apply resets the count anyway,
    THEN the count is put back from the backup, said loudly, and the result is a problem."""
    from runbook_lib.aws import counter
    from runbook_lib.steps.backup import itembackup

    monkeypatch.setenv("RUNBOOK_BACKUPS", str(tmp_path / "elsewhere"))
    counter.init_counter(target, initial=41)
    backup = itembackup.backup_item(target, dest_dir=tmp_path)

    class ResettingApply:  # an apply that still writes the configured item back
        def converge(self) -> bool:
            counter.conditional_set(target, 0, allow_decrease=True)
            return True

    result = report.MigrationResult(str(tmp_path), target.table, "removed", False)
    result.count_before = 41
    item = counteritems.CounterItem(ADDR, target, True, count_before=41, backup=backup)
    result.items = [item]
    lines: list[str] = []
    apply.apply_step(ResettingApply(), result, "verify 1", None, [item], lines.append)
    assert result.applies == [{"apply": "verify 1", "changed": True, "count": 0}]
    assert result.restored_from_backup == str(backup.path)
    assert counter.read_count(target) == 41
    assert any("COUNT LOST" in line for line in lines)
    item.count_after = result.count_after = 41
    assert item.restored_from == str(backup.path)
    assert result.problem is True
    assert len(list(tmp_path.glob("*/*.meta.json"))) == 2, "the reset item is backed up too"
    assert not (tmp_path / "elsewhere").exists()


def test_without_terraform_a_safe_stack_is_still_reported_safe(target, monkeypatch, tmp_path):
    """`runbook demo` runs 05_migrate on terraform/ even where Terraform is not installed."""
    monkeypatch.setenv("RUNBOOK_TERRAFORM", str(tmp_path / "absent" / "terraform"))
    result = migrate.run(target, terraform_dir=ROOT / "terraform")
    assert result.fields["found"] == [] and result.message.startswith("Already safe")
    assert (result.verdict, result.problem) == ("ALREADY SAFE", False)
    legacy = resetdemo.copy_legacy_stack(tmp_path / "stack")
    with pytest.raises(TerraformError, match="needs the terraform binary"):
        migrate.run(target, terraform_dir=legacy)


def test_a_raw_state_file_reads_like_show_json():
    raw = {
        "version": 4,
        "resources": [
            {
                "mode": "managed",
                "type": hcledit.ITEM_TYPE,
                "name": "visitor_count",
                "instances": [
                    {"index_key": 0, "attributes": {"table_name": "t", "hash_key": "stat"}}
                ],
            },
            {
                "module": "module.site",
                "mode": "managed",
                "type": "x",
                "name": "y",
                "instances": [{"attributes": {}}],
            },
        ],
    }
    show = state.state_file_as_show(raw)
    addresses = [r["address"] for r in show["values"]["root_module"]["resources"]]
    assert addresses == [f"{ADDR}[0]", "module.site.x.y"]
    (finding,) = detect.merge_state([], show)
    assert finding.address == f"{ADDR}[0]" and finding.in_config is False


def test_state_rm_puts_state_and_files_back_when_the_final_plan_is_unsafe(tmp_path):
    path = tmp_path / "dynamodb.tf"
    path.write_text(SAMPLE)
    finding = _finding(path, in_state=True)
    change = edits.plan_change([finding], "state_rm", root=tmp_path)
    calls: list[str] = []

    class FakeWorkspace:
        def state_pull(self) -> str:
            calls.append("pull")
            return '{"serial": 7}'

        def state_rm(self, addresses, *, dry_run: bool) -> str:
            calls.append(f"rm {' '.join(addresses)} dry_run={dry_run}")
            return f"Removed {addresses[0]}\n"

        def state_push(self, text: str) -> None:
            calls.append(f"push {text}")

        def sync(self) -> None:
            calls.append("sync")

    def unsafe_plan(ws, files=None, **_kw):
        calls.append(f"prove (file now: {'resource' not in path.read_text().split(HEAD)[1]})")
        raise TerraformError("ABORTED: the plan would touch the counter (create ...)")

    result = report.MigrationResult(str(tmp_path), "t", "state_rm", False)
    with pytest.raises(TerraformError, match="ABORTED"):
        apply.state_rm_and_write(
            FakeWorkspace(), change, result, lambda _line: None, prove_final=unsafe_plan
        )
    assert calls == [
        "pull",
        f"rm {ADDR} dry_run=False",
        "prove (file now: True)",
        'push {"serial": 7}',
        "sync",
    ]
    assert path.read_text() == SAMPLE, "the user's file is back, byte for byte"


def test_an_item_of_a_registry_module_is_known_from_the_state_and_never_edited(tmp_path):
    (tmp_path / "main.tf").write_text(
        'module "site" {\n  source  = "someone/counter/aws"\n  version = "1.0.0"\n}\n'
    )
    show = _show(_state_item(f"module.site.{ADDR}", 3))
    found = detect.merge_state(detect.detect_config(tmp_path), show)
    (finding,) = detect._mark_remote(found, stackconfig.remote_modules(tmp_path))
    assert (finding.module, finding.module_local) == ("module.site", False)
    assert finding.module_source == "someone/counter/aws" and finding.in_config is False
    with pytest.raises(InvalidInputError, match=r"someone/counter/aws.*not a local folder"):
        edits.plan_change([finding], "removed", root=tmp_path)


def test_without_terraform_a_stack_with_remote_state_is_not_called_safe(
    target, monkeypatch, tmp_path
):
    """No item in the configuration, but the state is in a backend only Terraform reads: an
    item the state alone holds would be deleted by the next apply, so "Already safe" would
    be said without looking."""
    monkeypatch.setenv("RUNBOOK_TERRAFORM", str(tmp_path / "absent" / "terraform"))
    backend = 'terraform {\n  backend "s3" {\n    bucket = "b"\n    key = "k"\n  }\n}\n'
    folder = write_file(tmp_path / "stack" / "main.tf", backend).parent
    before = tree_hash(folder)
    with pytest.raises(TerraformError, match=r'state in backend "s3" \(bucket "b".*needs the'):
        migrate.run(target, terraform_dir=folder)
    assert tree_hash(folder) == before
