"""`runbook guard-plan` on real saved plans of sandbox stacks: the guide's legacy stack
(exit 3, "would set viewCount ... from N (live) to 0"), with a removed block (exit 0), and the
project's terraform/ (exit 0). The rules on hand-written plans: tests/aws/test_guard_plan.py.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runbook_lib import cli
from runbook_lib.aws import counter
from runbook_lib.model import Target
from runbook_lib.onboarding import resetdemo
from runbook_lib.sandbox import server as sandbox
from runbook_lib.tf import hcledit
from runbook_lib.tf import workspace as tfworkspace
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.environment import sandbox_env
from runbook_lib.tf.lostanswer import apply_fresh_stack
from runbook_lib.tf.process import run

# ---- plan documents ------------------------------------------------------------------------


def _guard(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["guard-plan", *args])
    out, err = capsys.readouterr()
    return code, out, err


# ---- 1. one set of rules for both plan sources ---------------------------------------------


# ---- 2. outcomes on hand-written plans -----------------------------------------------------


# ---- 3. not a plan: exit 2, one line, nothing else -----------------------------------------


# ---- 4. real plans of sandbox stacks -------------------------------------------------------

needs_terraform = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.xdist_group("guard-plan"),
    pytest.mark.skipif(find_terraform() is None, reason="no terraform binary on PATH"),
]
ROOT = Path(__file__).resolve().parents[2]
VISITS = 5


def _plan_out(folder: Path, env: dict[str, str], name: str = "tfplan") -> Path:
    """`terraform plan -out tfplan`, as a CI step runs it."""
    run(["plan", "-input=false", "-no-color", f"-out={name}"], folder, env=env)
    return folder / name


@pytest.fixture(scope="module")
def stacks(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """On a moto server of this module's own (terraform/'s names are fixed): terraform/
    applied, and the guide's legacy stack applied with 5 visits since; a saved plan of each."""
    base = tmp_path_factory.mktemp("guard-plan")
    pid, url = sandbox.start_server(log_path=base / "moto.log")
    shared = os.environ["AWS_ENDPOINT_URL"]
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        env = sandbox_env(url, sandbox.REGION)
        project = base / "project"
        sandbox.apply_stack(url, sandbox.REGION, src_dir=ROOT / "terraform", workdir=project)
        legacy = resetdemo.copy_legacy_stack(base / "legacy")
        target = Target(table="legacy.example.com-VisitorCount", endpoint="sandbox")
        ws = tfworkspace.workspace(legacy)
        ws.sync()
        ws.init()
        # names fresh on this server: a create whose answer was lost is the apply's own
        apply_fresh_stack(ws, {resetdemo.LEGACY_TABLE_ADDRESS: target.table})
        for _ in range(VISITS):
            counter.increment(target)
        yield {
            "project_plan": _plan_out(project, env),
            "legacy_plan": _plan_out(ws.workdir, ws.env),
            "ws": ws,
            "target": target,
            "base": base,
        }
    finally:
        os.environ["AWS_ENDPOINT_URL"] = shared
        sandbox.stop_pid(pid)


def _apply_marks(func):
    for mark in needs_terraform:
        func = mark(func)
    return func


@_apply_marks
def test_the_guides_legacy_stack_fails_the_guard(stacks, capsys):
    code, out, err = _guard(capsys, str(stacks["legacy_plan"]))
    assert code == 3, out + err
    table = stacks["target"].table
    assert (
        "UNSAFE update  aws_dynamodb_table_item.visitor_count: would set viewCount in "
        f"{table} from {VISITS} (live) to 0"
    ) in out
    assert counter.read_count(stacks["target"]) == VISITS, "the guard writes nothing"


@_apply_marks
def test_the_advice_names_the_stack_folder_as_it_was_given(stacks, capsys, monkeypatch):
    """`runbook guard-plan infra/tfplan` advises `-p terraform_dir infra`: the folder the
    plan was given in, spelt as given (no machine path in a CI log), not a placeholder."""
    plan = stacks["legacy_plan"]  # <stack>/tfplan
    stack, parent = plan.parent.name, plan.parent.parent
    monkeypatch.chdir(parent)
    code, out, err = _guard(capsys, f"{stack}/tfplan")
    assert code == 3, out + err
    assert (
        f"take the item out of Terraform first: runbook run 05_migrate -p terraform_dir {stack}\n"
        in out
    )
    assert str(parent) not in out and "terraform_dir DIR" not in out
    monkeypatch.chdir(plan.parent)  # the CI step runs in the stack's folder
    code, out, _ = _guard(capsys, "tfplan")
    assert code == 3 and out.endswith("runbook run 05_migrate -p terraform_dir .\n"), out
    monkeypatch.chdir(parent)  # --chdir names the stack when the plan sits elsewhere
    code, out, _ = _guard(capsys, f"{stack}/tfplan", "--chdir", stack)
    assert code == 3 and out.endswith(f"-p terraform_dir {stack}\n"), out


@_apply_marks
def test_the_plans_json_and_a_chdir_give_the_same_verdict(stacks, capsys, tmp_path):
    ws = stacks["ws"]
    shown = run(["show", "-json", "-no-color", "tfplan"], ws.workdir, env=ws.env).stdout
    (tmp_path / "plan.json").write_text(shown)
    moved = tmp_path / "elsewhere.tfplan"
    shutil.copyfile(stacks["legacy_plan"], moved)
    want = f"from {VISITS} (live) to 0"
    code, out, _ = _guard(capsys, str(tmp_path / "plan.json"))
    assert code == 3 and want in out
    code, out, _ = _guard(capsys, str(moved), "--chdir", str(ws.workdir))
    assert code == 3 and want in out
    # without its working directory Terraform cannot read a saved plan: exit 1, said so
    code, out, err = _guard(capsys, str(moved))
    assert (code, out) == (1, "") and "--chdir" in err
    assert len(err.strip().splitlines()) == 1, err


@_apply_marks
def test_the_projects_terraform_stack_passes_the_guard(stacks, capsys):
    code, out, err = _guard(capsys, str(stacks["project_plan"]))
    assert code == 0, out + err
    assert out.startswith("OK: ") and "UNSAFE" not in out


@_apply_marks
def test_the_legacy_stack_with_a_removed_block_passes_the_guard(stacks, capsys):
    """After 05_migrate's fix (`removed { ... destroy = false }`) the plan forgets the item."""
    ws = stacks["ws"]
    dynamodb = ws.workdir / "dynamodb.tf"
    original = dynamodb.read_text()
    try:
        dynamodb.write_text(hcledit.replace_with_removed(original, "visitor_count"))
        code, out, err = _guard(capsys, str(_plan_out(ws.workdir, ws.env, "fixed.tfplan")))
    finally:
        dynamodb.write_text(original)
    assert code == 0, out + err
    assert "1 item(s) forgotten and left in place" in out
