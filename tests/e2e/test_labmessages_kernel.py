"""A RunbookError in a real kernel (issue 20): what ipykernel sends once
`labmessages.install()` has run, interactively (as in JupyterLab) and headless (as under
`runbook run`, through the runner's own papermill call).

GIVEN a python3 kernel started as the runner starts it (tests/e2e/test_kernel.py), with or
without RUNBOOK_RUN_DIR in its environment
WHEN a cell installs the display (twice) and later cells raise
THEN a RunbookError's error output is its message and next step only (no "Traceback", no
frames), in the parameters cell's terms interactively and in `-p` form headless; the cell's
execute_reply is still status "error" with ename = the class name and evalue = str(exc), so
papermill raises and the runner's exit-code mapping by ename is unchanged; %tb still shows
the frames; and a plain ValueError keeps IPython's full traceback. No moto server needed.
"""

from __future__ import annotations

import os
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import v4

from runbook_lib.errors import RunbookError, TargetConflictError, exit_code_for
from runbook_lib.model import Target
from runbook_lib.notebook import execution
from runbook_lib.notebook.kernel import Kernel
from runbook_lib.steps.setcount.plan import plan_set

pytestmark = pytest.mark.notebook
START_TIMEOUT_S = 60  # a deadline for a loaded machine, not a measurement
ANSI = re.compile(r"\x1b\[[0-9;]*m")

PARAMETERS = 'new_value: "Optional[int]" = None\nconfirm: str = ""'
INSTALL = (
    "from runbook_lib.notebook import labmessages\n"
    "labmessages.install()\n"
    "labmessages.install()  # the notebooks' setup may run twice: harmless"
)
# the real path of Run All on 03_set_count with its defaults: frames through steps/setcount/plan.py
SET_WITHOUT_VALUE = (
    "from runbook_lib.steps.setcount.plan import plan_set\n"
    "from runbook_lib.model import Target\n"
    "def run():\n"
    "    return plan_set(Target(table='t-VisitorCount'), new_value)\n"
    "run()"
)
PLAIN = "def inner():\n    raise ValueError('a plain bug')\ninner()"
CONFLICT_HINT = "pass -p table_name t-VisitorCount or leave it empty."
CONFLICT = (
    "from runbook_lib.errors import TargetConflictError\n"
    f"raise TargetConflictError('table_name is not the stack table.', hint={CONFLICT_HINT!r})"
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RUNBOOK_RUN_DIR", "JPY_SESSION_NAME")}
    return {**env, **extra}


def _text(lines: list[str]) -> str:
    return ANSI.sub("", "\n".join(lines))


def _error(cell) -> dict:
    (output,) = [o for o in cell.outputs if o.output_type == "error"]
    return output


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Cells run as JupyterLab runs them: no RUNBOOK_RUN_DIR, the notebook's path in
    JPY_SESSION_NAME (ipykernel makes it `__session__`). (cells, execute_reply contents)."""
    sources = [PARAMETERS, INSTALL, SET_WITHOUT_VALUE, "%tb", PLAIN]
    nb = v4.new_notebook(cells=[v4.new_code_cell(src) for src in sources])
    replies: dict[int, dict] = {}

    def keep(cell, cell_index, execute_reply):
        replies[cell_index] = execute_reply["content"]

    folder = tmp_path_factory.mktemp("lab")
    kernel = Kernel("python3", folder, _env(JPY_SESSION_NAME="notebooks/03_set_count.ipynb"))
    try:
        client = NotebookClient(
            nb,
            km=kernel.km,
            startup_timeout=START_TIMEOUT_S,
            timeout=120,
            allow_errors=True,
            on_cell_executed=keep,
        )
        client.execute()
    finally:
        kernel.close(kill=True)
    return nb.cells, replies


def _expected_set_error() -> RunbookError:
    with pytest.raises(RunbookError) as info:
        plan_set(Target(table="t-VisitorCount"), None)
    return info.value


def test_a_runbook_error_shows_its_message_and_next_step_only(lab):
    cells, replies = lab
    assert [replies[i]["status"] for i in (0, 1)] == ["ok", "ok"]
    text = _text(_error(cells[2]).traceback)
    assert "Traceback" not in text
    assert "plan.py" not in text and "Cell In" not in text and "---->" not in text
    assert text.splitlines()[0].startswith("InvalidInputError: new_value is required")
    assert (
        "Next step: set `new_value = N` in the parameters cell and run all; a reset to 0 is "
        "`new_value = 0`, `allow_decrease = True`." in text
    )
    assert "-p " not in text


def test_the_reply_is_still_the_error_papermill_and_the_runner_read(lab):
    cells, replies = lab
    exc = _expected_set_error()
    reply, output = replies[2], _error(cells[2])
    assert reply["status"] == "error"
    assert (reply["ename"], reply["evalue"]) == ("InvalidInputError", str(exc))
    assert (output.ename, output.evalue) == ("InvalidInputError", str(exc))  # papermill's
    assert "-p new_value N" in reply["evalue"]  # evalue is the exception's, untouched
    assert reply["traceback"] == output.traceback  # the reply holds only our lines too


def test_percent_tb_still_shows_the_frames(lab):
    cells, _ = lab
    text = _text(_error(cells[3]).traceback)
    assert "Traceback" in text and "steps/setcount/plan.py" in text


def test_another_exception_keeps_ipythons_traceback(lab):
    cells, replies = lab
    assert (replies[4]["status"], replies[4]["ename"]) == ("error", "ValueError")
    text = _text(_error(cells[4]).traceback)
    assert "Traceback" in text and "inner()" in text and "ValueError: a plain bug" in text


def test_headless_the_hint_stays_in_command_line_form(tmp_path):
    """Through the runner's papermill call (execution.execute), with RUNBOOK_RUN_DIR set."""
    path, out = tmp_path / "conflict.ipynb", tmp_path / "conflict-out.ipynb"
    nbformat.write(
        v4.new_notebook(cells=[v4.new_code_cell(INSTALL), v4.new_code_cell(CONFLICT)]), path
    )
    kernel = Kernel("python3", tmp_path, _env(RUNBOOK_RUN_DIR=str(tmp_path)))
    try:
        nb, failure = execution.execute(path, out, {}, kernel, "python3")
    finally:
        kernel.close(kill=True)
    exc = TargetConflictError("table_name is not the stack table.", hint=CONFLICT_HINT)
    assert failure is not None
    assert str(failure) == f"TargetConflictError: {exc}" and failure.cell == 2
    assert exit_code_for(failure.name) == 2  # what the runner exits with
    code = [c for c in nb.cells if c.cell_type == "code"]
    text = _text(_error(code[-1]).traceback)
    assert text.splitlines() == [
        "TargetConflictError: table_name is not the stack table.",
        f"Next step: {CONFLICT_HINT}",
    ]
