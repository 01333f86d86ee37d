"""The runner's kernel (runbook_lib/notebook/kernel.py): started by the runner, preloaded with
the notebook's imports, then handed to nbclient as papermill hands it.

GIVEN a kernel asked to preload a module (and one that does not exist)
WHEN the preload has been answered and nbclient executes a notebook on the kernel
THEN the module is imported, nothing else of the preload shows (no name bound, no execution
count used, no output), and nbclient's own client is answered (a preload client sharing
nbclient's ZMQ identity would leave it waiting until its start-up timeout).

Whether the preload runs before the first cell is a matter of speed only (it usually does: the
runner loads papermill meanwhile); the test waits for its answer so that it never depends on
timing.
"""

from __future__ import annotations

import os

import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbformat import v4

from runbook_lib.notebook.kernel import _Kernel

pytestmark = pytest.mark.notebook
START_TIMEOUT_S = 60  # a deadline for a loaded machine, not a measurement

CHECKS = [
    "import sys\nprint('colorsys' in sys.modules)",
    "print('colorsys' in globals(), 'import_quietly' in globals())",
]


def _run(kernel: _Kernel) -> list:
    nb = v4.new_notebook(cells=[v4.new_code_cell(src) for src in CHECKS])
    client = NotebookClient(nb, km=kernel.km, startup_timeout=START_TIMEOUT_S, timeout=60)
    client.execute()
    return nb.cells


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs)


def test_preloaded_modules_are_there_and_nothing_else_is(tmp_path):
    kernel = _Kernel("python3", tmp_path, dict(os.environ))
    try:
        kernel.preload(["colorsys", "no_such_module_for_the_runbook"])
        (preloader,) = kernel.clients
        reply = run_sync(preloader.shell_channel.get_msg)(timeout=START_TIMEOUT_S)
        assert reply["msg_type"] == "execute_reply" and reply["content"]["status"] == "ok"
        cells = _run(kernel)
    finally:
        kernel.close(kill=True)
    assert _text(cells[0]) == "True\n"
    assert _text(cells[1]) == "False False\n"
    assert [c.execution_count for c in cells] == [1, 2]


def test_without_a_preload_the_module_is_not_there(tmp_path):
    """The check above can fail: a kernel that preloads nothing has not imported it."""
    kernel = _Kernel("python3", tmp_path, dict(os.environ))
    try:
        kernel.preload([])
        cells = _run(kernel)
    finally:
        kernel.close(kill=True)
    assert _text(cells[0]) == "False\n"


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
