"""05_migrate against real Terraform, the real AWS provider and the moto sandbox.

The guide's legacy configuration (tests/fixtures/legacy_stack) is applied from temporary
copies, each with a table of its own. Terraform runs cost seconds each (the AWS provider
starts on every plan and apply), so stacks are shared where a test only reads them.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from runbook_lib import cli
from runbook_lib.aws import counter
from runbook_lib.errors import TerraformError
from runbook_lib.model import Target
from runbook_lib.notebook import runner
from runbook_lib.onboarding import resetdemo
from runbook_lib.steps import status
from runbook_lib.steps.migrate import edits, proof
from runbook_lib.tf import hcledit
from runbook_lib.tf import workspace as tfworkspace
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.lostanswer import apply_fresh_stack
from runbook_lib.tf.sharedprovider import shared_provider
from tests.conftest import tree_hash

pytestmark = [
    pytest.mark.usefixtures("backups"),
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.skipif(
        find_terraform() is None,
        reason="no terraform binary on PATH (set RUNBOOK_TERRAFORM to use another one)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
ADDR = "aws_dynamodb_table_item.visitor_count"
VISITS = 3
SHARED = pytest.mark.xdist_group("migrate-legacy")  # one worker builds the shared stack


def _applied_stack(folder: Path, label: str, visits: int = VISITS) -> tuple[Path, Target]:
    """GIVEN the guide's configuration applied to the sandbox, and `visits` visits."""
    bucket = f"{label}-{uuid.uuid4().hex[:6]}.example.com"
    resetdemo.copy_legacy_stack(folder, bucket_name=bucket)
    target = Target(table=f"{bucket}-VisitorCount", endpoint="sandbox")
    ws = tfworkspace.workspace(folder)
    ws.sync()
    ws.init()
    # fresh names: a create whose answer the provider lost starts the stack over
    apply_fresh_stack(ws, {resetdemo.LEGACY_TABLE_ADDRESS: target.table})
    assert counter.read_count(target) == 0, "the legacy apply creates the item with 0"
    for _ in range(visits):
        counter.increment(target)
    return folder, target


def _result(out: Path, name: str) -> dict[str, Any]:
    (path,) = sorted(out.glob(f"*-{name}/result.json"))[-1:]
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def legacy(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The problem on record: legacy apply, 3 visits, apply again (demonstrate_reset, with
    the stack kept). Tests below only read it, or work on copies."""
    started = time.monotonic()
    folder = tmp_path_factory.mktemp("legacy") / "stack"
    story = resetdemo.demonstrate_reset(folder, visits=VISITS, stream=None)
    return {
        "dir": folder,
        "story": story,
        "target": Target(table=story["table"], endpoint="sandbox"),
        "seconds": time.monotonic() - started,
    }


# ---- 1. the problem, on record ------------------------------------------------------------


@SHARED
def test_every_apply_of_the_legacy_configuration_resets_the_count(legacy):
    story = legacy["story"]
    assert [step["count"] for step in story["steps"]] == [None, 0, VISITS, 0]
    assert (story["before"], story["after"], story["reset"]) == (VISITS, 0, True)
    assert "Modifications complete" in story["steps"][-1]["output"]
    # read back independently: the table holds 0, the folder's state still holds the item
    assert counter.read_count(legacy["target"]) == 0
    state = json.loads((legacy["dir"] / "terraform.tfstate").read_text())
    assert [r["type"] for r in state["resources"]] == [
        "aws_dynamodb_table",
        "aws_dynamodb_table_item",
    ]
    assert story["workdir"] == str(legacy["dir"])
    print(f"legacy apply + visits + apply: {legacy['seconds']:.1f}s")


@SHARED
def test_status_warns_when_the_state_manages_the_item(legacy, tmp_path):
    """`runbook run 02_status -p terraform_dir <legacy dir>` points at 05_migrate."""
    code = cli.main(
        [
            "run",
            "02_status",
            "-p",
            "terraform_dir",
            str(legacy["dir"]),
            "-p",
            "table_name",
            legacy["target"].table,
            "--out",
            str(tmp_path),
            "--no-html",
        ]
    )
    assert code == 3, "the next apply resets the count: a finding"
    checks = {c["name"]: c for c in _result(tmp_path, "02_status")["checks"]}
    check = checks["Terraform does not manage the item"]
    assert check["state"] == "fail"
    assert ADDR in check["detail"] and "05_migrate" in check["next_step"]


# ---- 2. a dry run writes nothing; an unsafe plan aborts -------------------------------------


@SHARED
def test_a_dry_run_changes_no_file_no_state_and_no_count(legacy, tmp_path):
    folder, target = legacy["dir"], legacy["target"]
    counter.increment(target)  # drift: the plan sees a live count the config would overwrite
    live = counter.read_count(target)
    before = tree_hash(folder)
    outcome = runner.run_notebook(
        "05_migrate",
        {"terraform_dir": str(folder), "strategy": "state_rm", "table_name": target.table},
        tmp_path,
        html=False,
    )
    # found and not fixed yet: exit 3 (problem found), as 07_recover's dry run does
    assert outcome.exit_code == 3, outcome.summary()
    result = _result(tmp_path, "05_migrate")
    assert tree_hash(folder) == before, "a dry run wrote to the user's folder or state"
    assert counter.read_count(target) == live
    assert (result["dry_run"], result["migrated"], result["found"]) == (True, False, [ADDR])
    assert result["problem"] is True and result["resets_on_apply"] is True
    assert result["message"].startswith(f"{ADDR} resets {target.table}'s count on the next")
    assert "DRY RUN" in result["message"] and result["backup_path"] is None
    # the terminal shows the message, with what to do next
    summary = outcome.summary()
    assert summary.startswith("05_migrate: PROBLEM FOUND (exit 3")
    assert f"  message: {result['message']}\n" in summary
    assert f"To migrate: -p dry_run False -p confirm {target.table}" in summary
    assert '-resource "aws_dynamodb_table_item" "visitor_count"' in result["diff"]
    assert result["plan"]["safe"] is True
    assert result["plan"]["changes"] == [
        {"address": ADDR, "type": "aws_dynamodb_table_item", "action": "remove"}
    ]
    assert result["state_rm_output"].strip() == f"Would remove {ADDR}"
    assert result["count_before"] == result["count_after"] == live
    # detect: configuration (python-hcl2) and state (terraform show -json), side by side
    (finding,) = result["findings"]
    assert finding["address"] == ADDR and finding["in_config"] and finding["in_state"]
    assert (finding["table"], finding["key"]) == (target.table, {"stat": "Quantity"})
    assert (finding["configured_count"], finding["state_count"]) == (0, 0)
    assert finding["protected"] is False


@SHARED
def test_a_plan_that_would_delete_the_item_aborts_and_writes_nothing(legacy, tmp_path):
    """Someone deleted the resource block by hand, without a `removed` block."""
    folder = tmp_path / "by-hand"
    shutil.copytree(legacy["dir"], folder)
    target = legacy["target"]
    path = folder / "dynamodb.tf"
    text = path.read_text()
    start, end = hcledit.locate_block(text, hcledit.ITEM_TYPE, "visitor_count")
    path.write_text(text[:start] + text[end:])
    live = counter.read_count(target)
    before = tree_hash(folder)

    with pytest.raises(TerraformError, match=f"ABORTED.*delete {ADDR}"):
        proof.prove(folder)
    assert tree_hash(folder) == before
    assert counter.read_count(target) == live


# ---- 3. each strategy, then three more applies ----------------------------------------------


@pytest.mark.parametrize("strategy", edits.STRATEGIES)
def test_migrate_then_every_apply_keeps_the_count(strategy, moto_url, tmp_path, capsys):
    folder, target = _applied_stack(tmp_path / "stack", strategy.replace("_", "-"))
    out = tmp_path / "reports"
    started = time.monotonic()
    if strategy == "removed":
        # the "done when", word for word: the table comes from the folder
        code = cli.main(
            [
                "run",
                "05_migrate",
                "-p",
                "terraform_dir",
                str(folder),
                "-p",
                "dry_run",
                "False",
                "-p",
                "confirm",
                target.table,
                "--out",
                str(out),
                "--no-html",
            ]
        )
    else:
        code = runner.run_notebook(
            "05_migrate",
            {
                "terraform_dir": str(folder),
                "strategy": strategy,
                "dry_run": False,
                "confirm": target.table,
                "verify_applies": 0,
            },
            out,
            html=False,
        ).exit_code
    migrate_s = time.monotonic() - started
    result = _result(out, "05_migrate")
    assert code == 0, result.get("error")
    if strategy == "removed":  # the terminal says what to commit
        shown = capsys.readouterr().out
        assert "Commit dynamodb.tf." in result["message"]
        assert f"  message: {result['message']}\n" in shown, shown
    assert result["found"] == [ADDR] and result["strategy"] == strategy
    assert result["migrated"] is True and result["problem"] is False
    assert result["count_before"] == result["count_after"] == VISITS
    assert [a["count"] for a in result["applies"]] == [VISITS] * len(result["applies"])
    assert len(result["applies"]) == (3 if strategy == "removed" else 1)
    assert result["restored_from_backup"] is None
    assert Path(result["backup_path"]).is_file()
    assert result["init"]["created"] is False and result["init"]["value"] == VISITS
    assert result["plan"]["safe"] is True

    text = (folder / "dynamodb.tf").read_text()
    in_state = status.check_terraform_state(folder, target)
    if strategy == "ignore_changes":
        assert "ignore_changes = [item]" in text
        assert in_state.state == "warn"  # still in state: protected, but still managed
    else:
        assert 'resource "aws_dynamodb_table_item"' not in text
        assert ("removed {" in text) == (strategy == "removed")
        assert in_state.state == "ok"

    # `terraform apply` three times: plan, and apply that plan when it has changes (the
    # same writes as `apply -auto-approve`), one provider process for the three
    visits, ws = VISITS, tfworkspace.workspace(folder)
    ws.sync()
    with shared_provider(ws):
        for _ in range(3):
            counter.increment(target)
            visits += 1
            ws.converge()
            assert counter.read_count(target) == visits, f"an apply after {strategy} lost visits"
    print(f"{strategy}: 05_migrate {migrate_s:.1f}s, then {time.monotonic() - started:.1f}s")


# ---- 4. nothing to migrate ------------------------------------------


def test_a_stack_with_nothing_to_migrate_says_so_and_exits_0(moto_url, tmp_path):
    folder = tmp_path / "terraform"
    shutil.copytree(
        ROOT / "terraform",
        folder,
        ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "build"),
    )
    before = tree_hash(folder)
    outcome = runner.run_notebook(
        "05_migrate", {"terraform_dir": str(folder)}, tmp_path / "reports", html=False
    )
    assert outcome.exit_code == 0, outcome.summary()
    result = _result(tmp_path / "reports", "05_migrate")
    assert result["found"] == [] and result["migrated"] is False
    assert result["problem"] is False and result["diff"] == ""
    assert result["message"].startswith("Already safe")
    assert result["table"] == "resume.example.com-VisitorCount"
    assert tree_hash(folder) == before
