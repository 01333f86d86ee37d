"""00_onboarding executed headless by papermill against a seeded sandbox.

The sandbox is provisioned the way `runbook sandbox up --no-terraform --days 2` does it, on a
moto server of its own: provisioning creates the sandbox's fixed table name, which must not
collide with other tests sharing the session's server.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook_lib.aws import counter
from runbook_lib.model import Target
from runbook_lib.notebook import runner
from runbook_lib.sandbox import server as sandbox
from tests.conftest import own_sandbox

pytestmark = pytest.mark.notebook
ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "00_onboarding.ipynb"
QUESTIONS = 8  # "now you try" checks in the notebook


@pytest.fixture(scope="module")
def seeded(
    state_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sandbox.SandboxInfo]:
    with own_sandbox(tmp_path_factory.mktemp("onboarding-sandbox"), days=2) as info:
        yield info


@pytest.fixture
def target(seeded: sandbox.SandboxInfo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Target:
    """The kernel inherits this environment: the seeded sandbox, backups in tmp_path."""
    for key, value in seeded.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RUNBOOK_BACKUPS", str(tmp_path / "backups"))
    return Target(table=seeded.outputs["table_name"], endpoint=seeded.url, region=seeded.region)


def _run(params: dict, out: Path) -> tuple[runner.RunOutcome, dict]:
    outcome = runner.run_notebook("00_onboarding", params, out)
    return outcome, json.loads(Path(outcome.result_path).read_text())


def test_defaults_run_clean_and_leave_every_question_to_the_reader(target, tmp_path):
    before = counter.read_count(target)
    outcome, result = _run({"live_reset_demo": False}, tmp_path / "reports")

    assert outcome.exit_code == 0, outcome.summary()
    assert result["healthy"] is True and result["count"] == before
    assert result["answers"] == {
        "total": QUESTIONS,
        "right": 0,
        "wrong": 0,
        "unanswered": QUESTIONS,
        "auto_answer": False,
    }
    # the story is the recorded one, and says why
    story = result["reset_story"]
    assert story["live"] is False and "live_reset_demo is False" in story["note"]
    assert (story["peak"], story["count_after"]) == (5, 0)
    # safe mode: init and set were dry runs, the count never moved
    assert result["init"]["dry_run"] is True and result["init"]["created"] is False
    assert result["set"]["applied"] is False and result["set"]["old"] == before
    assert counter.read_count(target) == before
    # the one write: an item backup file holding the live count
    assert Path(result["backup"]["backup_path"]).is_file()
    assert result["backup"]["count"] == before
    assert result["resets"] == 0
    # 3.6: a reset planted on a throwaway counter, rebuilt by 07_recover (5,000 + 37)
    assert (result["recovered"]["applied"], result["recovered"]["recovered"]) == (True, 5037)
    html = Path(outcome.html_path).read_text()
    assert "runbook-verdict" in html and "Not answered yet" in html
    assert "data:image/svg+xml" in html, "the architecture picture is embedded in the report"


def test_auto_answer_fills_in_every_answer(target, tmp_path):
    outcome, result = _run({"live_reset_demo": False, "auto_answer": True}, tmp_path)
    assert outcome.exit_code == 0, outcome.summary()
    assert result["answers"]["right"] == QUESTIONS
    assert result["answers"]["auto_answer"] is True


@pytest.mark.terraform
@pytest.mark.slow
def test_live_reset_demo_loses_the_visits_on_the_sandbox(target, tmp_path):
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: the live reset demo needs it")
    outcome, result = _run({}, tmp_path)
    assert outcome.exit_code == 0, outcome.summary()
    story = result["reset_story"]
    assert story["live"] is True
    assert story["peak"] > 0 and story["count_after"] == 0
