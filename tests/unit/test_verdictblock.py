"""The verdict block a notebook shows (under its banner and in its last cell): the headline,
the count, what is not OK, and the commands as readable lines, from the recorded result."""

from __future__ import annotations

from runbook_lib.notebook import verdictblock

STATUS = {
    "healthy": False,
    "verdict": "UNHEALTHY: count dropped from 4676 to 1 at 00:33 UTC; next: runbook run 07_recover",
    "count": 23,
    "checks": [
        {"name": "table exists and ACTIVE", "state": "ok", "detail": "ACTIVE", "next_step": ""},
        {
            "name": "no count drop in recent history",
            "state": "fail",
            "detail": "count dropped from 4676 to 1 at 00:33 UTC",
            "next_step": "rebuild the count from CloudWatch: runbook run 07_recover",
        },
        {"name": "alarm states", "state": "warn", "detail": "no alarms", "next_step": ""},
    ],
    "problem": True,
}
SET_APPLIED = {
    "message": (
        "SET viewCount in T from 4693 to 4700.\n"
        "Undo (AWS CLI, puts the replaced item back as it was): aws dynamodb put-item "
        "--table-name T --item file://backups/T/x.json\n"
        "Undo (runbook, conditional): runbook run 03_set_count -p new_value 4693 "
        "-p expected_current 4700 -p allow_decrease True -p dry_run False -p confirm T"
    ),
    "applied": True,
    "old": 4693,
    "new": 4700,
    "undo_command": "aws dynamodb put-item --table-name T --item file://backups/T/x.json",
    "problem": False,
}


def test_a_problem_leads_with_its_headline_and_the_rows_to_act_on() -> None:
    page, text = verdictblock.render(STATUS)
    lines = text.splitlines()
    assert lines[0].startswith("PROBLEM FOUND · UNHEALTHY: count dropped from 4676 to 1")
    assert lines[1] == "count: 23"
    assert "[FAIL] no count drop in recent history" in lines[2] and "07_recover" in lines[2]
    assert lines[3].startswith("[WARN] alarm states")
    assert not any("table exists" in line for line in lines)  # OK rows stay in the table
    assert "#b00020" in page and "runbook-verdict-block" in page
    assert "word-break:normal" in page  # text wraps at words, not inside them


def test_an_applied_write_shows_the_count_now_and_each_undo_once() -> None:
    _, text = verdictblock.render(SET_APPLIED)
    lines = text.splitlines()
    assert lines[0] == "OK · SET viewCount in T from 4693 to 4700."
    assert lines[1] == "count now: 4,700"
    undo = [line for line in lines if line.startswith("Undo")]
    assert len(undo) == 2, lines  # the message's own two; undo_command is one of them


def test_a_refusal_shows_the_command_that_would_do_it() -> None:
    refused = {
        "refused": "the set would lower the count from 4700 to 0.",
        "command": "runbook run 03_set_count -p new_value 0 -p allow_decrease True",
        "applied": False,
        "old": 4700,
        "problem": True,
    }
    _, text = verdictblock.render(refused)
    assert text.splitlines()[1] == "live count: 4,700"
    assert text.splitlines()[-1] == f"To do it: {refused['command']}"


def test_html_is_escaped() -> None:
    page, _ = verdictblock.render({"message": "<script>x</script>", "problem": False})
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_without_a_kernel_nothing_is_displayed_and_the_block_is_returned() -> None:
    verdictblock.show_placeholder()  # no IPython here: a no-op
    page, text = verdictblock.update({"verdict": "HEALTHY: all checks passed", "problem": False})
    assert text.startswith("OK · HEALTHY") and page.startswith("<div")
