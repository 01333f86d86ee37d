"""The fleet file and what `runbook fleet run` refuses before anything runs (issue 19): each
refusal one line naming the entry and the fix, exit 2, nothing written; and the pure parts of
the fleet's verdict (its exit code, a row read back from a run's files, the index page).
No server: every refusal here comes before any AWS call."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runbook_lib import cli
from runbook_lib.fleet import command, expand, fleetfile, index, rows, runs
from runbook_lib.fleet.fleetfile import FleetRefused
from runbook_lib.fleet.outcome import FleetOutcome

ROOT = Path(__file__).resolve().parents[2]
GOOD = """
[[counter]]
name = "prod"
terraform_dir = "stack"

[[counter]]
name = "blog"
table_name = "siteVisits"
key_value = "0"
region = "ap-southeast-1"
profile = "ops"
var_files = []
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory, with a stack folder `stack/` in it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text('resource "null_resource" "x" {}\n')
    return tmp_path


def refused(text: str, folder: Path) -> list[str]:
    """The problems a fleet file with `text` is refused for (its folder checked too)."""
    path = folder / "fleet.toml"
    path.write_text(text)
    with pytest.raises(FleetRefused) as caught:
        fleetfile.load(path)
    return caught.value.problems


def test_a_good_fleet_file_reads_as_its_entries(folder: Path):
    path = folder / "fleet.toml"
    path.write_text(GOOD)
    fleet = fleetfile.load(path)
    prod, blog = fleet.entries
    assert (prod.name, prod.params) == ("prod", {"terraform_dir": "stack"})
    assert blog.params == {"table_name": "siteVisits", "key_value": "0"}
    assert (blog.region, blog.profile, blog.confirm) == ("ap-southeast-1", "ops", None)
    assert fleetfile.stack_folder(fleet, prod) == folder / "stack"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[counter]]\nname = "a"\nterraform_dir = "stack"\ntabel_name = "t"\n',
            "unknown key 'tabel_name'; did you mean 'table_name'?",
        ),
        (
            '[[counter]]\nname = "a"\ntable_name = "t"\n'
            '[[counter]]\nname = "a"\ntable_name = "u"\n',
            'counter 2 ("a"): the name is used by counter 1 too',
        ),
        (
            '[[counter]]\nname = "a"\nregion = "us-east-1"\n',
            'counter 1 ("a") names no table and no stack',
        ),
        (
            '[[counter]]\nname = "a"\nterraform_dir = "nowhere"\n',
            "terraform_dir 'nowhere' does not exist",
        ),
        (
            '[[counter]]\nname = "a"\nterraform_dir = "notes.txt"\n',
            "terraform_dir 'notes.txt' is a file",
        ),
        ('[[counter]]\nname = "a"\nterraform_dir = "."\n', "terraform_dir '.' holds no .tf files"),
        (
            '[[counter]]\nname = "a"\nterraform_dir = "stack"\nvar_files = "dev.tfvars"\n',
            "var_files: 'dev.tfvars' is not a file",
        ),
        ('[[counter]]\ntable_name = "t"\n', "counter 1 has no name"),
        ('[[counter]]\nname = "a"\ntable_name = 5\n', "table_name must be a string, got 5"),
        (
            '[[counter]]\nname = "a"\ntable_name = "t"\nregion = "us-east"\n',
            "region 'us-east' is not an AWS region",
        ),
        (
            '[[counter]]\nname = "a"\ntable_name = "t"\nprofile = "AKIAABCDEFGHIJKLMNOP"\n',
            "looks like a credential",
        ),
        (
            'title = "x"\n[[counter]]\nname = "a"\ntable_name = "t"\n',
            "unknown top-level key 'title'",
        ),
        ("", "lists no counters"),
        ("[[counter]\n", "is not valid TOML"),
    ],
    ids=[
        "unknown-key",
        "duplicate-name",
        "no-table-no-stack",
        "missing-stack",
        "stack-is-a-file",
        "stack-without-tf",
        "missing-var-file",
        "no-name",
        "not-a-string",
        "bad-region",
        "secret",
        "top-level-key",
        "empty",
        "not-toml",
    ],
)
def test_each_bad_fleet_file_is_refused_with_one_line(text: str, expected: str, folder: Path):
    (folder / "notes.txt").write_text("a file\n")
    problems = refused(text, folder)
    assert len(problems) == 1, problems
    assert expected in problems[0], problems[0]
    assert "\n" not in problems[0]


def test_every_problem_of_a_file_is_listed_at_once(folder: Path):
    text = (
        '[[counter]]\nname = "a"\ntabel_name = "t"\nregoin = "x"\n'
        '[[counter]]\nname = "b"\nterraform_dir = "gone"\n'
    )
    problems = refused(text, folder)
    assert any("'tabel_name'" in p for p in problems) and any("'regoin'" in p for p in problems)
    assert any("names no table and no stack" in p for p in problems), problems


def test_a_missing_fleet_file_is_refused(folder: Path):
    with pytest.raises(FleetRefused, match="no such file"):
        fleetfile.load(folder / "absent.toml")


def test_stack_folders_are_relative_to_the_fleet_file(folder: Path, monkeypatch):
    sub = folder / "ops"
    sub.mkdir()
    (sub / "fleet.toml").write_text('[[counter]]\nname = "a"\nterraform_dir = "../stack"\n')
    monkeypatch.chdir(ROOT)  # another working directory: the file's folder still counts
    fleet = fleetfile.load(sub / "fleet.toml")
    assert fleetfile.stack_folder(fleet, fleet.entries[0]).resolve() == folder / "stack"


def test_the_example_fleet_file_and_the_readme_example_are_valid():
    fleet = fleetfile.load(ROOT / "fleet.example.toml")
    assert {e.name for e in fleet.entries} >= {"resume", "blog"}
    blocks = re.findall(r"^```toml\n(.*?)^```", (ROOT / "README.md").read_text(), re.S | re.M)
    fleets = [b for b in blocks if "[[counter]]" in b]
    assert fleets, "the README shows a fleet file"
    for block in fleets:
        assert fleetfile.parse(block, "README")


# ---- the command: refused before anything runs, nothing written ------------------------------


def fleet_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["fleet", "run", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_fleet(folder: Path, text: str) -> str:
    (folder / "fleet.toml").write_text(text)
    return str(folder / "fleet.toml")


ONE = '[[counter]]\nname = "a"\ntable_name = "t-a"\n'
TWO = ONE + '[[counter]]\nname = "b"\ntable_name = "t-b"\nconfirm = "t-b"\n'


@pytest.mark.parametrize(
    ("argv", "text", "expected"),
    [
        (["02_status"], ONE + 'tabel = "x"\n', ["unknown key 'tabel'"]),
        (
            ["07_recover", "-p", "dry_run", "False"],
            TWO,
            [
                'a: 07_recover with dry_run False writes to this counter, and counter 1 ("a") '
                'has no confirm: add confirm = "t-a" to it'
            ],
        ),
        (
            ["07_recover", "-p", "dry_run", "False"],
            TWO.replace('confirm = "t-b"', 'confirm = "t-a"'),
            [
                "a: 07_recover with dry_run False",
                "b: confirm 't-a' in counter 2 (\"b\") is not this counter's table 't-b'",
            ],
        ),
        (
            ["07_recover", "-p", "confirm", "t-a"],
            ONE,
            ["-p confirm: a fleet has no blanket confirm"],
        ),
        (
            ["02_status", "-p", "table_name", "t"],
            ONE,
            ["-p table_name: table_name belongs to one counter"],
        ),
        (["00_onboarding"], ONE, ["00_onboarding takes no counter"]),
    ],
    ids=[
        "bad-file",
        "write-without-confirm",
        "confirm-of-another-table",
        "blanket-confirm",
        "per-counter-parameter",
        "notebook-without-counter",
    ],
)
def test_the_command_refuses_before_anything_runs(argv, text, expected, folder, capsys):
    fleet = write_fleet(folder, text)
    code, out, err = fleet_cli(capsys, argv[0], fleet, *argv[1:], "--out", str(folder / "out"))
    assert code == 2, err
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert all(line.startswith("runbook: ") for line in lines), err
    for part in expected:
        assert any(part in line for line in lines), f"{part!r} not in {err}"
    assert lines[-1].endswith("nothing ran, nothing was written."), lines[-1]
    assert len(lines) == len(expected) + 1, err  # one line per problem, one to say what to do
    assert not (folder / "out").exists(), "a refused fleet wrote something"


def test_unknown_parameters_and_jobs_are_bad_usage(folder, capsys):
    fleet = write_fleet(folder, ONE)
    code, _, err = fleet_cli(capsys, "02_status", fleet, "-p", "drop_windw_hours", "3")
    assert code == 2 and "Unknown parameter(s) for 02_status: drop_windw_hours" in err
    code, _, err = fleet_cli(capsys, "02_status", fleet, "--jobs", "0")
    assert code == 2 and "--jobs must be 1 or more" in err
    assert not (folder / "reports").exists()


def test_a_confirmed_write_names_each_counters_own_table(folder):
    fleet = write_fleet(
        folder,
        TWO.replace(
            'name = "a"\ntable_name = "t-a"', 'name = "a"\ntable_name = "t-a"\nconfirm = "t-a"'
        ),
    )
    plan = command.prepare("07_recover", fleet, {"dry_run": "False"})
    assert [p["confirm"] for p in plan.params] == ["t-a", "t-b"]
    assert all(p["dry_run"] == "False" for p in plan.params)
    dry = command.prepare("07_recover", fleet, {})  # 07 as a dry run: no confirm needed or sent
    assert all("confirm" not in p for p in dry.params)


def test_each_run_gets_only_what_its_notebook_takes(folder):
    text = ONE.replace(
        'table_name = "t-a"', 'table_name = "t-a"\nkey_value = "1"\nregion = "eu-west-1"'
    )
    plan = command.prepare("06_history", write_fleet(folder, text), {"days": "3"})
    assert plan.params == [{"table_name": "t-a", "days": "3"}]  # 06 reads a table's metrics
    env = plan.specs[0].environment({"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x"})
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_ACCESS_KEY_ID"] == "x"  # no profile: the shell's credentials stay


def test_a_profile_sets_the_environment_keys_aside():
    entry = fleetfile.Entry(1, "a", {"table_name": "t"}, profile="ops")
    spec = expand.RunSpec("a", "a", entry, dict(entry.params), "t")
    env = spec.environment({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "HOME": "/h"})
    assert env == {"AWS_PROFILE": "ops", "HOME": "/h"}


# ---- the verdict: exit codes, rows, the index --------------------------------------------------


def row(name: str, code: int | None, counts: int | None = None) -> dict:
    state = rows.STATES.get(code, "FAILED")
    counts = (
        counts if counts is not None else rows.COUNTS_AS.get(code) if code is not None else None
    )
    return {
        "name": name,
        "state": state,
        "exit_code": code,
        "counts_as": counts,
        "count": 7,
        "verdict": f"{name} says <b>so</b>",
        "last_reset": None,
        "seconds": 1.0,
        "where": None,
        "account": None,
        "region": "us-east-1",
        "table": f"t-{name}",
        "key": "id=0 (N)",
        "report": f"{name}/r/02_status.html",
        "result": None,
        "output": None,
    }


@pytest.mark.parametrize(
    ("codes", "expected"),
    [([0, 0], 0), ([0, 3], 3), ([3, 1, 0], 1), ([3, 2], 1), ([0], 0)],
)
def test_the_fleet_exits_with_the_worst_run(codes, expected):
    assert rows.fleet_exit([row(str(i), c) for i, c in enumerate(codes)], False) == expected
    assert rows.fleet_exit([row("a", 0)], True) == 130


def test_a_missing_table_counts_as_a_finding():
    assert rows.counts_as(1, {"error": "TableMissingError: table t not found"}) == 3
    assert rows.counts_as(1, {"error": "EndpointUnreachableError: cannot reach"}) == 1
    assert rows.counts_as(2, None) == 1 and rows.counts_as(None, None) is None


def finished(tmp_path: Path, code: int | None, output: str = "", **kw) -> runs.Finished:
    entry = fleetfile.Entry(1, "blog", {"table_name": "t"}, region="eu-west-1")
    spec = expand.RunSpec("blog", "blog", entry, dict(entry.params), "t")
    folder = tmp_path / "fleet" / "blog"
    folder.mkdir(parents=True)
    if output:
        (folder / runs.OUTPUT_FILE).write_text(output)
    return runs.Finished(runs.Task(spec, [], {}, folder), code, 2.0, **kw)


def test_a_run_refused_for_its_own_input_is_a_row_with_its_reason(tmp_path: Path):
    done = finished(tmp_path, 2, "runbook: terraform_dir 'x' is not a folder. Nothing ran.\n")
    got = rows.row_of(done, tmp_path / "fleet", "02_status")
    assert (got["state"], got["counts_as"], got["report"]) == ("REFUSED", 1, None)
    assert got["verdict"] == "terraform_dir 'x' is not a folder. Nothing ran."
    assert (got["region"], got["table"], got["output"]) == ("eu-west-1", "t", "blog/output.txt")


def test_a_run_stopped_by_the_fleet_is_interrupted_and_one_never_started_is_not_run(tmp_path):
    stopped = rows.row_of(finished(tmp_path, -2, stopped=True), tmp_path / "fleet", "02_status")
    assert (stopped["state"], stopped["exit_code"]) == ("INTERRUPTED", 130)
    never = rows.row_of(finished(tmp_path / "2", None), tmp_path / "2" / "fleet", "02_status")
    assert (never["state"], never["counts_as"]) == ("NOT RUN", None)
    assert "not started" in never["verdict"]


def test_a_run_with_a_report_is_read_back_from_its_files(tmp_path: Path):
    done = finished(tmp_path, 3)
    report = done.task.folder / "20260101T070000Z-06_history"
    report.mkdir()
    (report / "history.csv").write_text(
        "timestamp,count\n2026-01-01T00:00:00Z,5000\n"
        "2026-01-01T00:05:00Z,\n2026-01-01T00:10:00Z,37\n"
    )
    reset = {
        "time": "2026-01-01T00:08:00+00:00",
        "before": 5000,
        "after": 1,
        "repaired": False,
        "repair": None,
    }
    record = {
        "verdict": "RESET: count dropped",
        "resets": [reset],
        "csv_path": "history.csv",
        "exit_code": 3,
        "error": None,
    }
    (report / "result.json").write_text(json.dumps(record))
    nb = {
        "cells": [
            {
                "outputs": [
                    {
                        "data": {
                            "application/vnd.counter-runbook.target+json": {
                                "where": "AWS account 123456789012, region eu-west-1",
                                "table": "t",
                                "key": "id=0 (N)",
                            }
                        }
                    }
                ]
            }
        ]
    }
    (report / "06_history.ipynb").write_text(json.dumps(nb))
    got = rows.row_of(done, tmp_path / "fleet", "06_history")
    assert (got["state"], got["verdict"], got["count"]) == (
        "PROBLEM FOUND",
        "RESET: count dropped",
        37,
    )
    assert (got["account"], got["region"], got["key"]) == ("123456789012", "eu-west-1", "id=0 (N)")
    assert got["last_reset"] == "2026-01-01 00:08 UTC: 5000 → 1; not repaired"
    assert got["result"] == "blog/20260101T070000Z-06_history/result.json"
    assert got["report"] == "blog/20260101T070000Z-06_history/06_history.ipynb"  # no HTML there


def test_the_index_says_the_verdict_first_and_loads_nothing(tmp_path: Path):
    table = [row("blog", 3), row("home", 0)]
    outcome = FleetOutcome("02_status", "fleet.toml", str(tmp_path), table, 3)
    page_path, result_path = index.write(outcome, tmp_path)
    page = page_path.read_text()
    assert page.index("PROBLEM FOUND") < page.index("<table")
    assert "1 of 2 counters need attention (blog)." in page
    assert "&lt;b&gt;so&lt;/b&gt;" in page and "<b>so</b>" not in page  # the run's words escaped
    assert not re.search(r"(src|href)=\"https?:", page) and "<script" not in page
    assert 'href="blog/r/02_status.html"' in page
    result = json.loads(result_path.read_text())
    assert result["exit_code"] == 3 and [r["name"] for r in result["rows"]] == ["blog", "home"]
    assert outcome.summary().splitlines()[0].startswith("fleet 02_status: PROBLEM FOUND (exit 3")
