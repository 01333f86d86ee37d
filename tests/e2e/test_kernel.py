"""The runner's kernel (runbook_lib/notebook/kernel.py): started by the runner, then handed to
nbclient as papermill hands it.

GIVEN a kernel started as the runner starts it
WHEN nbclient executes a notebook on it, and the runner asks it to shut down and closes it
THEN the cells ran on that kernel, nbclient's client was the runner's ready client (its
wait_for_ready), and the kernel process is gone after close. A kernel that dies before the
first cell is a failed run with its report, not a traceback.
"""

from __future__ import annotations

import os

import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbformat import v4

from runbook_lib.notebook.kernel import Kernel
from runbook_lib.notebook.workarounds import ready_client_class

pytestmark = pytest.mark.notebook
START_TIMEOUT_S = 60  # a deadline for a loaded machine, not a measurement


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs)


def test_nbclient_runs_the_cells_on_the_runners_kernel_and_it_is_gone_after(tmp_path):
    kernel = Kernel("python3", tmp_path, {**os.environ, "RUNBOOK_RUN_DIR": str(tmp_path)})
    try:
        nb = v4.new_notebook(
            cells=[
                v4.new_code_cell("import os\nprint(os.environ['RUNBOOK_RUN_DIR'])"),
                v4.new_code_cell("print(os.getcwd())"),
            ]
        )
        client = NotebookClient(nb, km=kernel.km, startup_timeout=START_TIMEOUT_S, timeout=60)
        client.execute()
        assert [type(c).__mro__[1] for c in kernel.clients] == [ready_client_class()]
        kernel.request_shutdown()
    finally:
        kernel.close(kill=False)
    assert _text(nb.cells[0]) == f"{tmp_path}\n" and _text(nb.cells[1]) == f"{tmp_path}\n"
    assert [c.execution_count for c in nb.cells] == [1, 2]
    assert not run_sync(kernel.km.is_alive)() and kernel.clients == []


def test_a_kernel_that_dies_before_the_first_cell_is_a_failed_run_not_a_traceback(
    tmp_path, monkeypatch
):
    """A kernel that exits before it answers (a loaded machine, a broken environment): the
    run is exit 1 with its report and one error line, and closing it raises nothing (nbclient
    has already torn the kernel's connection down)."""
    import json
    import sys

    from runbook_lib.notebook import runner

    spec = tmp_path / "jupyter" / "kernels" / "dies"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c", "raise SystemExit(3)", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "dies", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    outcome = runner.run_notebook("02_status", {}, tmp_path / "reports", kernel_name="dies")
    assert outcome.exit_code == 1
    assert outcome.error.startswith("KernelError: the notebook's kernel stopped before"), outcome
    assert (
        json.loads((tmp_path / "reports").glob("*/result.json").__next__().read_text())["exit_code"]
        == 1
    )
