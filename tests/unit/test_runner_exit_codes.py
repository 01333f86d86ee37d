"""The runner's exit code and one-line summaries come from the exception itself (issue 18).

An exception carries its exit code as a class attribute (`RunbookError.exit_code`); the
runner gets the class name of a cell's exception from papermill's structured `ename` and
resolves it among RunbookError's subclasses (`errors.exit_code_for`), never by reading the
message text. The codes are exactly those of the table the runner used before
(errors.EXIT_CODES), every other exception 1. Also: `runbook run` checks each parameter
once, and importing the runner changes nothing until a run starts. No kernel, no server.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from runbook_lib import errors
from runbook_lib.errors import InvalidInputError, RunbookError, exit_code_for
from runbook_lib.notebook import headline, runner
from runbook_lib.notebook.execution import Failure
from runbook_lib.notebook.outcome import RunOutcome

ROOT = Path(__file__).resolve().parents[2]
# errors.EXIT_CODES before issue 18: every other exception a notebook raises exits 1
BEFORE = {
    "TargetConflictError": 2,
    "TerraformPinError": 2,
    "StackMismatchError": 3,
    "SandboxCredentialsError": 2,
    "CountTypeError": 3,
    "CountElsewhereError": 3,
    "CountAttributeError": 2,
}
# names that exited 1 and must still: a bad input, a subclass of a coded class's parent, a
# plain bug, the runner's own KernelError
ONES = ["InvalidInputError", "UnsafeDefaultsError", "DecreaseRefusedError", "ValueError"]
ONES += ["KernelError", "TableMissingError", "EndpointUnreachableError", ""]


def _classes_in_package() -> dict[str, int]:
    """name -> exit_code of every RunbookError subclass defined in runbook_lib, after
    importing each module that defines an exception class (read with ast: nothing else is
    imported)."""
    for path in sorted((ROOT / "runbook_lib").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bases = [
            ast.unparse(b) for n in ast.walk(tree) if isinstance(n, ast.ClassDef) for b in n.bases
        ]
        if any(b.endswith(("Error", "Refused")) for b in bases):
            parts = path.relative_to(ROOT).with_suffix("").parts
            importlib.import_module(".".join(p for p in parts if p != "__init__"))
    found: dict[str, int] = {}
    pending: list[type[RunbookError]] = [RunbookError]
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith("runbook_lib"):
            assert found.get(cls.__name__, cls.exit_code) == cls.exit_code, cls
            found[cls.__name__] = cls.exit_code
        pending += cls.__subclasses__()
    return found


def test_every_runbook_error_exits_as_it_did_before():
    codes = _classes_in_package()
    assert len(codes) > 30, "the package's error classes were not found"
    assert {name: code for name, code in codes.items() if code != 1} == BEFORE
    for name in [*BEFORE, *ONES]:
        assert exit_code_for(name) == BEFORE.get(name, 1), name


def test_every_class_with_a_code_of_its_own_is_defined_in_errors_py():
    """exit_code_for finds only classes this process imported: each class with an exit
    code of its own lives in runbook_lib/errors.py, which every reader imports. One defined
    anywhere else fails here."""
    for path in sorted((ROOT / "runbook_lib").rglob("*.py")):
        if path.name == "errors.py" and path.parent.name == "runbook_lib":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(s, ast.Assign) and "exit_code" in map(ast.unparse, s.targets)
                for s in node.body
            ):
                raise AssertionError(f"{path}: {node.name} has its own exit_code")


RESOLVE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
from runbook_lib.errors import exit_code_for
print(json.dumps({name: exit_code_for(name) for name in sys.argv[2:]}))
"""


@pytest.mark.parametrize(
    "module",
    ["runbook_lib.notebook.runner", "runbook_lib.notebook.headline", "runbook_lib.fleet.rows"],
)
def test_every_name_resolves_in_a_process_that_imported_only(module: str):
    """The runner's process (`runbook run`), and what the report and the fleet's rows read
    errors with, resolve every name as the table did: no other import needed."""
    names = [*BEFORE, *ONES[:-1]]
    proc = subprocess.run(
        [sys.executable, "-c", RESOLVE, module, *names],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(proc.stdout) == {name: BEFORE.get(name, 1) for name in names}


def test_the_table_is_gone_the_classes_say_it():
    assert not hasattr(errors, "EXIT_CODES")
    assert RunbookError.exit_code == 1 and InvalidInputError.exit_code == 1


# ---- the runner's verdict from a Failure ----------------------------------------------------


def _outcome(tmp_path: Path, failure: Failure | None, interrupted: bool = False) -> RunOutcome:
    run = runner._Run(
        tmp_path / "03_set_count.ipynb", tmp_path, [], tmp_path / "03_set_count.ipynb"
    )
    return runner._outcome(run, nbformat.v4.new_notebook(), failure, interrupted, {})


@pytest.mark.parametrize("name", [*BEFORE, *ONES[:-1]])
def test_the_exit_code_is_the_exceptions(tmp_path: Path, name: str):
    out = _outcome(tmp_path, Failure(name, "what happened. Next step: do this.", 4))
    assert out.exit_code == BEFORE.get(name, 1)
    assert out.error == f"{name}: what happened. Next step: do this."
    assert (out.error_name, out.failed_cell) == (name, 4)


def test_an_interruption_and_a_run_without_a_result(tmp_path: Path):
    stopped = _outcome(tmp_path, Failure(None, "interrupted (Ctrl-C)", 2), interrupted=True)
    assert (stopped.exit_code, stopped.error, stopped.failed_cell) == (
        130,
        "interrupted (Ctrl-C)",
        2,
    )
    silent = _outcome(tmp_path, None)
    assert (silent.exit_code, silent.error, silent.error_name) == (
        1,
        "the notebook recorded no result (record_result)",
        None,
    )


# ---- the summary and the verdict: the same text, from the structured name -------------------


def _summary(error: str, error_name: str | None, code: int = 2) -> str:
    return RunOutcome(
        "03_set_count", code, "r", "r/n.ipynb", "r/n.html", "r/result.json", None, error, 3,
        error_name=error_name,
    ).summary()  # fmt: skip


@pytest.mark.parametrize(
    ("name", "alone"),
    [
        ("TargetConflictError", True),
        ("CountTypeError", True),
        ("SandboxCredentialsError", True),
        ("EndpointUnreachableError", True),
        ("InvalidInputError", False),
        ("ValueError", False),
    ],
)
def test_a_refusal_or_a_finding_is_its_message_alone(name: str, alone: bool):
    error = f"{name}: the message: with a colon. Next step: fix it."
    text = _summary(error, name)
    assert text == _summary(error, None), "the text-only reading (a result.json) says the same"
    verdict = headline.verdict_of(None, 2, error, 3, name)
    assert verdict == headline.verdict_of(None, 2, error, 3)
    if alone:
        assert text == "03_set_count: the message: with a colon. Next step: fix it."
        assert verdict == "the message: with a colon. Next step: fix it."
    else:
        assert text.splitlines()[1] == f"  error in cell 3: {error}"
        assert verdict == f"Failed in cell 3: {error}"


def test_an_error_whose_text_was_replaced_is_not_shown_as_that_exceptions():
    """A failed upload replaces the text (the notebook's own error inside it): not one line."""
    error = "upload to s3://b failed (denied); the report is kept at r (the notebook's own "
    error += "outcome: TargetConflictError: no.)"
    text = _summary(error, "TargetConflictError", code=1)
    assert text.startswith("03_set_count: FAILED (exit 1") and text == _summary(error, None, 1)


def test_a_report_folder_error_is_one_line():
    error = "UnwritableFolderError: Cannot write the report to r: Read-only file system."
    assert _summary(error, None, 1) == (
        "03_set_count: FAILED (exit 1): Cannot write the report to r: Read-only file system."
    )


# ---- each parameter checked once; no side effect on import --------------------------------


class _Stop(Exception):
    pass


@pytest.fixture
def no_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RUNBOOK_REPORTS", str(tmp_path / "reports"))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)


def _stop_before_kernel(run: Any, parameters: dict[str, Any], *_args: Any) -> Any:
    """Stands in for starting the kernel (`run_notebook(execute=...)`): a run that got here
    passed every check made before a kernel starts."""
    raise _Stop(parameters)


@pytest.mark.usefixtures("no_aws_env")
def test_valid_parameters_reach_the_kernel_as_given():
    """Names and types are checked while the kernel boots (by papermill's parameters), so
    what reaches the kernel step is the CLI's text, checked for ranges and secrets only."""
    with pytest.raises(_Stop) as stopped:
        runner.run_notebook(
            "06_history", {"days": "7", "period": "3600"}, html=False, execute=_stop_before_kernel
        )
    assert stopped.value.args[0] == {"days": "7", "period": "3600"}


@pytest.mark.usefixtures("no_aws_env")
@pytest.mark.parametrize("days", ["1_000", " 456 ", "0"])
def test_a_range_error_in_any_spelling_int_reads_is_refused_before_a_kernel(days: str):
    """`coerce` reads "1_000" as 1000: so does the check before the kernel starts, which
    is now the only range check of a run; no kernel is started for it."""
    with pytest.raises(InvalidInputError, match=r"days must be from 1 to 455"):
        runner.run_notebook("06_history", {"days": days}, execute=_stop_before_kernel)


def test_the_prepared_parameters_are_checked_the_same_way():
    """The fleet's one call: names, types, ranges, secrets."""
    path = runner.notebook_path("06_history")
    assert runner.prepare_parameters(path, {"days": "1_0"}) == {"days": 10}
    with pytest.raises(InvalidInputError, match=r"days must be from 1 to 455"):
        runner.prepare_parameters(path, {"days": "1_000"})
    with pytest.raises(InvalidInputError, match=r"Unknown parameter\(s\) for 06_history: dayz"):
        runner.prepare_parameters(path, {"dayz": "1_000"})


IMPORT_ONLY = """
import json, sys
from runbook_lib.notebook import runner, workarounds
blocked = lambda: [m for m in workarounds.SCHEMA_FORMAT_MODULES if m in sys.modules]
before = blocked()
try:
    runner.run_notebook("no_such_notebook")
except Exception as exc:
    raised = type(exc).__name__
print(json.dumps({"on_import": before, "raised": raised, "after_run_start": blocked()}))
"""


def test_importing_the_runner_changes_nothing_until_a_run_starts():
    from runbook_lib.notebook.workarounds import SCHEMA_FORMAT_MODULES

    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_ONLY], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {
        "on_import": [],
        "raised": "NotebookNotFoundError",
        "after_run_start": list(SCHEMA_FORMAT_MODULES),
    }
