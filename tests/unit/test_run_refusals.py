"""What `runbook run` refuses before a kernel starts, and how it says it (issue 17): a stack
folder that is none, a report or backups folder that cannot be written, a value of the
wrong type; each one line naming the path as given and the fix, exit 2, nothing written.
Also the words around the exit codes: the terminal summary's first lines, 05_migrate's
result, guard-plan's advice, `runbook list`. No server: every refusal here comes before
any AWS call."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runbook_lib import cli, paths
from runbook_lib.errors import InvalidInputError
from runbook_lib.notebook import foldercheck, paramcheck, runner
from runbook_lib.notebook.summary import summary_lines
from runbook_lib.steps import guard
from runbook_lib.steps.migrate.report import MigrationResult

ROOT = Path(__file__).resolve().parents[2]
ROOT_SKIP = (
    "running as root (with CAP_DAC_OVERRIDE), which file permissions do not stop: a 0555 "
    "folder is writable to it. The cases with a file in the path stop root too and run "
    "everywhere"
)


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Reports and backups in tmp_path, a regular file beside them, tmp_path the working
    directory (paths in messages are then spelt relative, as a user types them)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNBOOK_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("RUNBOOK_BACKUPS", str(tmp_path / "backups"))
    (tmp_path / "notes.txt").write_text("a file, not a folder\n")
    return {"tmp": tmp_path, "file": tmp_path / "notes.txt"}


def everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["run", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_refusal(code: int, out: str, err: str, *parts: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr holding every part, no traceback."""
    assert code == 2, err
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith("runbook: ") and "Nothing ran. Next step: " in err, err
    assert "Traceback" not in err
    for part in parts:
        assert part in err, f"{part!r} not in {err!r}"


# ---- the report folder: --out and RUNBOOK_REPORTS ------------------------------------------


@pytest.mark.parametrize(
    ("out", "why"),
    [
        ("notes.txt", "notes.txt is a file, not a folder"),
        ("notes.txt/reports", "notes.txt is a file, so no folder can be made under it"),
        ("notes.txt/a/b", "notes.txt is a file, so no folder can be made under it"),
    ],
    ids=["a-file", "under-a-file", "deep-under-a-file"],
)
def test_out_that_cannot_take_a_report_is_refused_before_a_kernel(
    out: str, why: str, folders: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A file in the path stops root as well as anyone: the refusal holds for every user."""
    before = everything_under(folders["tmp"])
    code, stdout, err = run_cli(capsys, "02_status", "--out", out)
    assert_one_line_refusal(
        code, stdout, err, f"Cannot write the report to {out}: {why}.", "pass --out a folder"
    )
    assert str(folders["tmp"]) not in err, "the path as given, not where it is on this machine"
    assert everything_under(folders["tmp"]) == before, "nothing written"


def test_reports_variable_that_cannot_take_a_report(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNBOOK_REPORTS", "notes.txt/reports")
    before = everything_under(folders["tmp"])
    code, out, err = run_cli(capsys, "02_status")
    assert_one_line_refusal(
        code,
        out,
        err,
        "Cannot write the report to notes.txt/reports (RUNBOOK_REPORTS): notes.txt is a file",
        "point RUNBOOK_REPORTS at a folder you can write to",
    )
    assert everything_under(folders["tmp"]) == before


def test_s3_run_stages_its_report_locally_so_that_folder_is_checked_first(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before the bucket is asked anything (no endpoint is set up here at all)."""
    monkeypatch.setenv("RUNBOOK_REPORTS", "notes.txt")
    code, out, err = run_cli(capsys, "02_status", "--out", "s3://ops-reports/counter")
    assert_one_line_refusal(code, out, err, "notes.txt (RUNBOOK_REPORTS): notes.txt is a file")


def locked_folder(tmp: Path) -> Path:
    """A folder without write permission; the test is skipped where permissions do not
    apply (root), said as the reason."""
    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):
        locked.chmod(0o755)
        pytest.skip(ROOT_SKIP)
    return locked


def test_out_in_a_folder_without_write_permission(
    folders: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    locked = locked_folder(folders["tmp"])
    try:
        code, out, err = run_cli(capsys, "02_status", "--out", "locked/reports")
        assert_one_line_refusal(
            code, out, err, "locked/reports would be made in locked, which is not writable"
        )
        code, out, err = run_cli(capsys, "02_status", "--out", "locked")
        assert_one_line_refusal(code, out, err, "locked is not writable")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_unwritable_names_what_is_in_the_way_as_spelt(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert paths.unwritable(tmp_path / "new" / "deeper") is None, "made when needed"
    assert paths.unwritable(tmp_path) is None
    assert paths.unwritable(tmp_path / "f") == f"{tmp_path / 'f'} is a file, not a folder"
    os.chdir(tmp_path)
    try:
        assert paths.unwritable(Path("f/x")) == "f is a file, so no folder can be made under it"
        assert paths.unwritable(Path("new")) is None
    finally:
        os.chdir(ROOT)


# ---- the backups folder of a confirmed write -------------------------------------------------


@pytest.mark.parametrize(
    ("notebook", "params"),
    [
        ("03_set_count", ["-p", "new_value", "5", "-p", "dry_run", "False", "-p", "confirm", "t"]),
        ("07_recover", ["-p", "dry_run", "false", "-p", "confirm", "t"]),
        ("05_migrate", ["-p", "dry_run", "False", "-p", "confirm", "t"]),
        ("04_backup_restore", ["-p", "action", "backup"]),  # a backup file, dry run or not
    ],
    ids=["03-confirmed", "07-confirmed", "05-confirmed", "04-backup"],
)
def test_backups_variable_that_cannot_take_a_backup(
    notebook: str,
    params: list[str],
    folders: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RUNBOOK_BACKUPS", "notes.txt/backups")
    before = everything_under(folders["tmp"])
    code, out, err = run_cli(capsys, notebook, *params)
    assert_one_line_refusal(
        code,
        out,
        err,
        f"Cannot write the item backup {notebook} takes before it writes, to "
        "notes.txt/backups (RUNBOOK_BACKUPS): notes.txt is a file, so no folder can be made",
        "point RUNBOOK_BACKUPS at a folder you can write to",
    )
    assert everything_under(folders["tmp"]) == before, "no report folder, no backup"


@pytest.mark.parametrize(
    ("notebook", "params"),
    [
        ("03_set_count", {"new_value": "5"}),  # a dry run writes no backup
        ("02_status", {"dry_run": "False"}),  # not a notebook that writes one
        ("04_backup_restore", {"action": "backup", "kind": "native"}),  # lives in AWS
    ],
)
def test_runs_that_write_no_backup_file_are_not_held_to_the_backups_folder(
    notebook: str, params: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("RUNBOOK_BACKUPS", str(tmp_path / "f" / "backups"))
    foldercheck.check_backups(notebook, params)


def test_backups_in_a_folder_without_write_permission(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = locked_folder(folders["tmp"])
    monkeypatch.setenv("RUNBOOK_BACKUPS", "locked")
    try:
        argv = ["-p", "new_value", "5", "-p", "dry_run", "False", "-p", "confirm", "t"]
        code, out, err = run_cli(capsys, "03_set_count", *argv)
        assert_one_line_refusal(code, out, err, "locked (RUNBOOK_BACKUPS): locked is not writable")
    finally:
        locked.chmod(0o755)


# ---- terraform_dir that is no stack -------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("empty", "holds no .tf files: it is not a Terraform stack"),
        ("notes.txt", "is not a folder: it is a file"),
        ("no/such/stack", "is not a folder: no such file or folder"),
    ],
)
@pytest.mark.parametrize("notebook", ["05_migrate", "02_status", "07_recover"])
def test_terraform_dir_that_is_no_stack_is_refused_before_a_kernel(
    notebook: str,
    given: str,
    why: str,
    folders: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    (folders["tmp"] / "empty").mkdir()
    (folders["tmp"] / "empty" / "README").write_text("no configuration here\n")
    before = everything_under(folders["tmp"])
    code, out, err = run_cli(capsys, notebook, "-p", "terraform_dir", given)
    assert_one_line_refusal(
        code, out, err, f"terraform_dir {given!r} {why}. Nothing ran.", "-p terraform_dir PATH"
    )
    assert str(folders["tmp"]) not in err and str(ROOT) not in err, "no machine path"
    assert everything_under(folders["tmp"]) == before, "no report folder"


def test_terraform_dir_resolves_as_the_notebooks_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As given, else under the project (`stackread.resolve_dir`): `terraform` is found from
    anywhere, a stack in the working directory first."""
    monkeypatch.chdir(tmp_path)
    paramcheck.check_terraform_dir("terraform")  # the project's, from another folder
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text("# a stack\n")
    paramcheck.check_terraform_dir("stack")
    paramcheck.check_terraform_dir(str(tmp_path / "stack"))
    paramcheck.check_terraform_dir("")  # empty: the notebook's default
    with pytest.raises(InvalidInputError, match=r"'notebooks' holds no \.tf files"):
        paramcheck.check_terraform_dir("notebooks")  # the project's, and no stack


def test_a_notebook_without_terraform_dir_points_at_the_unknown_name(
    folders: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """00_onboarding has no terraform_dir: the unknown parameter is what to point at."""
    code, _, err = run_cli(capsys, "00_onboarding", "-p", "terraform_dir", "nowhere")
    assert code == 2 and "Unknown parameter(s) for 00_onboarding: terraform_dir" in err, err


# ---- a value of the wrong type, in plain words ------------------------------------------------


@pytest.mark.parametrize(
    ("notebook", "name", "value", "words", "example"),
    [
        ("03_set_count", "new_value", "abc", "a whole number", "-p new_value 100"),
        ("06_history", "days", "1.5", "a whole number", "-p days 100"),
        ("02_status", "max_backup_age_hours", "two", "a number", "-p max_backup_age_hours 1.5"),
        ("03_set_count", "dry_run", "maybe", "True or False", "-p dry_run True"),
    ],
)
def test_a_wrong_type_is_said_in_plain_words(
    notebook: str, name: str, value: str, words: str, example: str
) -> None:
    declared = runner.declared_parameters(runner.notebook_path(notebook))[name]
    with pytest.raises(InvalidInputError) as info:
        paramcheck.coerce(name, value, declared, notebook)
    message = str(info.value)
    assert message.startswith(f"{name} must be {words}, got {value!r}. Nothing ran."), message
    assert f"e.g. {example}; `runbook params {notebook}`" in message
    assert "Optional" not in message and "[int]" not in message


# ---- the terminal summary, 05_migrate's result, guard-plan's advice, runbook list -----------


def test_summary_shows_the_sentence_and_the_count_first() -> None:
    result = {
        "healthy": True,
        "verdict": "HEALTHY: every check passed.",
        "not_checked": [],
        "count": 42,
        "checks": [{"name": "x", "state": "ok", "detail": "", "next_step": ""}],
    }
    assert summary_lines(result)[:2] == ["  verdict: HEALTHY: every check passed.", "  count: 42"]


def test_migrate_message_is_shown_and_a_found_reset_is_a_problem() -> None:
    dry = MigrationResult("stack", "T", "removed", dry_run=True, found=["a.b"])
    dry.message = "a.b resets T's count ... To migrate: -p dry_run False -p confirm T"
    assert dry.problem is False, "found only: the proof has not run"
    dry.resets_on_apply = True
    assert dry.problem is True
    data = dry.to_dict()
    assert next(iter(data)) == "message" and data["resets_on_apply"] is True
    shown = "\n".join(summary_lines(data))
    assert "  message: a.b resets T's count ... To migrate: -p dry_run False -p confirm T" in shown
    safe = MigrationResult("stack", "T", "removed", dry_run=True)
    assert safe.problem is False and safe.to_dict()["resets_on_apply"] is False


def test_guard_plan_names_the_stack_folder_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text("# the stack\n")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    assert guard.stack_folder("infra/tfplan") == "infra"
    assert guard.stack_folder(str(tmp_path / "infra" / "tfplan")) == "infra", "no machine path"
    assert guard.stack_folder("out/plan.json") == "DIR", "no stack there to name"
    assert guard.stack_folder("out/plan.json", chdir="infra") == "infra"
    monkeypatch.chdir(tmp_path / "infra")
    assert guard.stack_folder("tfplan") == "."
    unsafe = {"address": "a", "type": "aws_dynamodb_table_item", "action": "update"}
    verdict = guard.GuardResult("tfplan", stack="infra", unsafe=[unsafe]).verdict()
    assert verdict.endswith(
        "take the item out of Terraform first: runbook run 05_migrate -p terraform_dir infra"
    )


def test_list_says_what_each_notebook_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = runner.available_notebooks()
    assert [line.split()[0] for line in lines] == names
    assert "02_status          Status check" in lines
    for name, line in zip(names, lines, strict=True):
        title = runner.notebook_title(name)
        assert title and line.endswith(f"  {title}") and not title[:1].isdigit(), line
