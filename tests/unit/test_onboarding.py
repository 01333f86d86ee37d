"""The onboarding notebook's helpers: answers, the recorded story, the picture, the guard."""

from __future__ import annotations

import ast
import colorsys
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from runbook_lib import onboarding
from runbook_lib.errors import InvalidInputError
from runbook_lib.model import Target
from runbook_lib.onboarding import (
    RIGHT,
    UNANSWERED,
    WRONG,
    Quiz,
    check_answer,
    questions,
    resetstory,
    same_answer,
)


@pytest.mark.parametrize(
    ("given", "expected", "same"),
    [
        (5, 5, True),
        (5.0, 5, True),
        (" Table ", "table", True),
        (False, False, True),
        (4, 5, False),
        ("5", 5, False),
        (1, True, False),
        (True, 1, False),
        (None, 0, False),
    ],
)
def test_same_answer_is_lenient_on_form_strict_on_kind(given, expected, same):
    assert same_answer(given, expected) is same


def test_unanswered_says_so_and_never_fails():
    answer = check_answer("the count", None, 42)
    assert answer.state == UNANSWERED
    assert "Not answered yet" in str(answer) and "42" not in str(answer)


def test_auto_answer_fills_in_only_what_is_unanswered():
    auto = check_answer("the count", None, 42, auto_answer=True)
    assert (auto.state, auto.given, auto.auto) == (RIGHT, 42, True)
    wrong = check_answer("the count", 41, 42, hint="read the report", auto_answer=True)
    assert wrong.state == WRONG and not wrong.auto


def test_wrong_answer_gives_the_hint_not_the_answer():
    answer = check_answer("the count", 41, 42, hint="look at the count row")
    assert answer.state == WRONG
    assert "look at the count row" in answer.message and "42" not in answer.message
    assert "✗" in answer._repr_html_() and "onboarding-wrong" in answer._repr_html_()


def test_right_answer_is_marked():
    answer = check_answer("owner", "Table", "table")
    assert answer.state == RIGHT and str(answer).startswith("✓")


def test_quiz_tallies_and_a_rerun_replaces_the_answer():
    quiz = Quiz()
    quiz.check("a", None, 1)
    quiz.check("b", 2, 3)
    quiz.check("b", 3, 3)  # the reader fixed it and ran the check again
    assert quiz.summary() == {
        "total": 2,
        RIGHT: 1,
        WRONG: 0,
        UNANSWERED: 1,
        "auto_answer": False,
    }
    assert "1 of 2 right" in str(quiz) and "1 of 2 right" in quiz._repr_html_()


def test_quiz_refuses_a_non_bool_auto_answer():
    with pytest.raises(InvalidInputError, match="auto_answer must be True or False"):
        Quiz(auto_answer="yes")  # type: ignore[arg-type]


def test_recorded_story_shows_the_count_lost_and_why_it_is_recorded():
    story = resetstory.recorded_reset_story("no terraform binary is on PATH")
    assert story.live is False
    assert (story.peak, story.count_after) == (5, 0)
    assert "no terraform binary is on PATH" in story.note
    assert "aws_dynamodb_table_item" in str(story)
    page = story._repr_html_()
    assert "1 to change" in page and "<details>" in page
    assert story.to_dict()["count_after"] == 0


def test_live_demo_needs_the_wish_the_sandbox_and_terraform(monkeypatch, tmp_path):
    sandbox = Target(table="t-VisitorCount", endpoint="http://127.0.0.1:5000")
    real = Target(table="t-VisitorCount", endpoint=None)
    terraform = tmp_path / "terraform"  # RUNBOOK_TERRAFORM: the binary the runbook would run
    terraform.write_text("#!/bin/sh\n")
    terraform.chmod(0o755)
    monkeypatch.setenv("RUNBOOK_TERRAFORM", str(terraform))
    assert onboarding.live_demo_unavailable(sandbox) is None
    assert "False" in onboarding.live_demo_unavailable(sandbox, wanted=False)
    assert "not the local sandbox" in onboarding.live_demo_unavailable(real)
    monkeypatch.setenv("RUNBOOK_TERRAFORM", str(tmp_path / "absent" / "terraform"))
    assert "no terraform binary" in onboarding.live_demo_unavailable(sandbox)


def test_require_sandbox_refuses_real_aws_with_the_way_back():
    onboarding.require_sandbox(Target(table="t-VisitorCount", endpoint="http://127.0.0.1:1"))
    with pytest.raises(InvalidInputError, match=r"only against the local sandbox.*make lab"):
        onboarding.require_sandbox(Target(table="t-VisitorCount", endpoint=None))


def test_architecture_svg_is_well_formed_and_names_every_part():
    path = onboarding.architecture_path()
    root = ET.parse(path).getroot()
    text = " ".join(t for t in root.itertext())
    for part in ("API Gateway", "Lambda", "DynamoDB", "CloudWatch", "Terraform", "NOT managed"):
        assert part in text
    assert "<svg" in onboarding.architecture().data


def test_architecture_missing_says_where_to_run_from(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNBOOK_HOME", str(tmp_path))
    with pytest.raises(InvalidInputError, match="architecture picture"):
        onboarding.architecture()


def test_the_stack_has_no_table_item_and_the_guides_config_has_one(tmp_path):
    assert onboarding.table_items_in_config() == []
    (tmp_path / "main.tf").write_text(
        'resource "aws_dynamodb_table_item" "visitor_count" {\n'
        '  table_name = "t"\n  hash_key = "stat"\n  item = "{}"\n}\n'
    )
    assert onboarding.table_items_in_config(tmp_path) == ["aws_dynamodb_table_item.visitor_count"]


def test_live_story_from_migrates_answer_keeps_steps_and_counts():
    live = {
        "live": True,
        "note": "Live on the sandbox: viewCount 3 -> 0.",
        "steps": [
            {"title": "config", "output": "resource ...", "count": None},
            {"title": "apply", "output": "Apply complete!", "count": 0},
            {"title": "3 visits", "output": "viewCount = 3", "count": 3},
            {"title": "apply again", "output": "Apply complete!", "count": 0},
        ],
    }
    story = resetstory.ResetStory.from_dict(live)
    assert story.live is True and (story.peak, story.count_after) == (3, 0)
    assert [s.title for s in story.steps] == ["config", "apply", "3 visits", "apply again"]


# ---- "now you try": the answers live in the library, not in the cells ---------------------

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "00_onboarding.ipynb"


def _quiz_calls() -> list[ast.Call]:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    calls = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]).rstrip().rstrip(";"))):
            func = getattr(node, "func", None)
            if isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "quiz":
                calls.append(node)
    return calls


def test_check_cells_name_their_question_and_never_its_answer():
    calls = [c for c in _quiz_calls() if c.func.attr != "summary"]
    assert [c.func.attr for c in calls] == ["ask"] * len(questions.QUESTIONS)
    keys = [c.args[0].value for c in calls]
    assert sorted(keys) == sorted(questions.QUESTIONS), "each question checked exactly once"
    for call in calls:
        # the reader's variable, then at most the live object the answer is read from
        assert all(isinstance(a, ast.Name) for a in call.args[1:]), ast.unparse(call)
        assert not call.keywords, ast.unparse(call)


@pytest.mark.parametrize("key", sorted(questions.QUESTIONS))
def test_hints_point_to_the_answer_without_giving_it(key):
    question = questions.QUESTIONS[key]
    assert question.hint
    if question.read_live is None:
        assert str(question.answer).lower() not in question.hint.lower()


def test_ask_reads_fixed_and_live_answers_and_shows_them_only_after_a_try():
    quiz = Quiz()
    unanswered = quiz.ask("visit_api_call", None)
    assert unanswered.state == UNANSWERED and "UpdateItem" not in unanswered._repr_html_()
    wrong = quiz.ask("visit_api_call", "PutItem")
    assert wrong.state == WRONG and "UpdateItem" not in str(wrong)
    assert "show the answer</summary><code>&#x27;UpdateItem&#x27;" in wrong._repr_html_()
    assert quiz.ask("visit_api_call", "updateitem").state == RIGHT

    class Report:
        count = 1234

    assert quiz.ask("current_count", 1234, Report()).state == RIGHT
    assert quiz.ask("resets_found", 1, SimpleNamespace(resets=[])).state == WRONG
    assert quiz.summary()["total"] == 3  # a re-check replaces the earlier answer


def test_ask_refuses_an_unknown_question_or_a_missing_live_value():
    with pytest.raises(InvalidInputError, match="No onboarding question"):
        Quiz().ask("no_such_question", 1)
    with pytest.raises(InvalidInputError, match="checked against a live value"):
        Quiz().ask("current_count", 1)


def _hue(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360


def test_the_first_hint_names_the_item_box_by_the_colour_the_picture_draws():
    svg = onboarding.architecture_path().read_text(encoding="utf-8")
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    texts = root.findall(".//svg:text", ns)
    title = next(t for t in texts if t.text == questions.ITEM_BOX_TITLE)
    boxes = [
        r
        for r in root.findall(".//svg:rect", ns)
        if float(r.get("x")) < float(title.get("x")) < float(r.get("x")) + float(r.get("width"))
        and float(r.get("y")) < float(title.get("y")) < float(r.get("y")) + float(r.get("height"))
    ]
    assert [b.get("class") for b in boxes] == ["data"]
    stroke = re.search(r"\.data \{[^}]*stroke: (#[0-9a-fA-F]{6})", svg).group(1)
    hue = _hue(stroke)
    assert hue < 10 or hue > 350, f"the item's box is drawn in {stroke} (hue {hue:.0f}): not red"
    hint = questions.QUESTIONS["terraform_owns_item"].hint
    assert "red box" in hint and questions.ITEM_BOX_TITLE in hint
    assert "orange" not in hint  # the AWS services' boxes are the orange ones


# ---- the notebook's one Result ------------------------------------------------------------


def _found(healthy: bool) -> dict:
    """What the notebook's cells hold, as the steps' own objects (plain stand-ins)."""
    return {
        "report": SimpleNamespace(healthy=healthy, count=42, verdict="UNHEALTHY: item missing."),
        "story": resetstory.recorded_reset_story("no terraform"),
        "init": SimpleNamespace(to_dict=lambda: {"dry_run": True}),
        "proposal": SimpleNamespace(to_dict=lambda: {"applied": False}),
        "saved": {"backup_path": "b.json", "count": 42},
        "hist": SimpleNamespace(resets=[1, 2]),
        "rec": SimpleNamespace(result=lambda: {"applied": True, "recovered": 5037}),
    }


@pytest.mark.parametrize("healthy", [True, False])
def test_the_result_records_what_the_cells_found_and_is_a_problem_when_unhealthy(healthy):
    target = Target(table="sandbox-table")
    quiz = Quiz(auto_answer=True)
    found = _found(healthy)
    result = onboarding.result(target, quiz=quiz, **found)
    fields = result.to_dict()
    assert list(fields) == [
        "healthy", "count", "table", "reset_story", "init", "set", "backup", "resets",
        "recovered", "answers", "problem",
    ]  # fmt: skip
    assert (fields["healthy"], fields["count"], fields["table"]) == (healthy, 42, target.table)
    assert (fields["resets"], fields["recovered"]["recovered"]) == (2, 5037)
    assert fields["backup"] == found["saved"] and fields["answers"] == quiz.summary()
    assert (result.problem, result.exit_code) == (not healthy, 0 if healthy else 3)
