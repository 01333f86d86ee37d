"""The library facts the runner's workarounds rely on (runbook_lib/notebook/workarounds.py,
execution.py). Each test reads the installed library, so an upgrade that changes what a
workaround leans on fails here, naming the workaround, instead of slowing or breaking runs.
"""

from __future__ import annotations

import ast
import inspect
import json
import logging
import subprocess
import sys
from pathlib import Path

import jsonschema
import nbformat
import pytest

from runbook_lib.notebook import workarounds

# ---- skip_unused_schema_formats -------------------------------------------------------------


def _optional_imports(source: str) -> dict[str, bool]:
    """Every module jsonschema/_format.py imports -> whether that import sits in a block that
    survives its ImportError (`with suppress(ImportError)` or `try/except ImportError`)."""
    found: dict[str, bool] = {}

    def guarded(node: ast.AST) -> bool:
        if isinstance(node, ast.With):
            return any("ImportError" in ast.unparse(item.context_expr) for item in node.items)
        if isinstance(node, ast.Try):
            return any("ImportError" in ast.unparse(h.type or ast.Name("")) for h in node.handlers)
        return False

    def walk(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found[alias.name] = found.get(alias.name, True) and inside
            elif isinstance(child, ast.ImportFrom) and child.module:
                found[child.module] = found.get(child.module, True) and inside
            walk(child, inside or guarded(child))

    walk(ast.parse(source), False)
    return found


def test_every_skipped_module_is_an_optional_import_of_jsonschema():
    """A None entry is only harmless for an import jsonschema survives; and a module it no
    longer imports does not belong in the list."""
    imports = _optional_imports(Path(inspect.getfile(jsonschema._format)).read_text())
    for name in workarounds.SCHEMA_FORMAT_MODULES:
        assert name in imports, f"jsonschema._format no longer imports {name}: drop it"
        assert imports[name], f"jsonschema._format imports {name} unguarded: blocking breaks it"


def test_the_guard_check_tells_guarded_from_unguarded_imports():
    source = (
        "import a\ntry:\n    import b\nexcept ImportError:\n    pass\n"
        "with suppress(ImportError):\n    from c import d\n"
    )
    assert _optional_imports(source) == {"a": False, "b": True, "c": True}


def _format_keywords(schema: object, path: str = "") -> list[str]:
    """Where a schema uses the `format` keyword (a property *named* format does not count)."""
    found = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "format" and isinstance(value, str):
                found.append(f"{path}/format")
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    found += _format_keywords(sub, f"{path}/properties/{name}")
            else:
                found += _format_keywords(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for n, item in enumerate(schema):
            found += _format_keywords(item, f"{path}/{n}")
    return found


def test_the_notebook_schemas_check_no_string_format():
    folder = Path(inspect.getfile(nbformat)).parent / "v4"
    schemas = sorted(folder.glob("nbformat.v4*.schema.json"))
    assert schemas, "nbformat's v4 schemas moved"
    for schema in schemas:
        assert _format_keywords(json.loads(schema.read_text())) == [], schema.name


def test_the_test_finds_a_format_keyword_it_must_find():
    schema = {"properties": {"format": {"type": "string"}, "when": {"format": "date-time"}}}
    assert _format_keywords(schema) == ["/properties/when/format"]


SKIPPED_RUN = """
import json, sys
from runbook_lib.notebook.workarounds import SCHEMA_FORMAT_MODULES, skip_unused_schema_formats
skip_unused_schema_formats()
import nbformat, papermill  # jsonschema is imported through them
from nbformat import v4
good = v4.new_notebook(cells=[v4.new_code_cell("1")])
nbformat.validate(good)
bad = v4.new_notebook()
bad.cells.append({"cell_type": "code"})
try:
    nbformat.validate(bad)
    caught = False
except nbformat.ValidationError:
    caught = True
loaded = [m for m in SCHEMA_FORMAT_MODULES if sys.modules.get(m)]
print(json.dumps({"caught": caught, "loaded": loaded}))
"""


def test_notebooks_are_still_validated_with_the_modules_skipped():
    proc = subprocess.run(
        [sys.executable, "-c", SKIPPED_RUN], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {"caught": True, "loaded": []}


# ---- ready_client_class ----------------------------------------------------------------------


def test_jupyter_clients_own_wait_ends_as_ours_does():
    """Ours replaces jupyter_client's wait_for_ready and ends as it does, through the private
    _handle_kernel_info_reply; theirs still waits for a quiet IOPub (what ours saves)."""
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.client import KernelClient

    theirs = inspect.getsource(KernelClient._async_wait_for_ready)
    assert "self._handle_kernel_info_reply(msg)" in theirs
    assert "iopub_channel.get_msg(timeout=0.2)" in theirs
    assert callable(AsyncKernelClient._handle_kernel_info_reply)
    assert inspect.signature(AsyncKernelClient._handle_kernel_info_reply).parameters.keys() == {
        "self",
        "msg",
    }


def test_nbclient_waits_through_the_clients_wait_for_ready():
    from nbclient.client import NotebookClient

    source = inspect.getsource(NotebookClient.async_start_new_kernel_client)
    assert "self.kc.wait_for_ready(" in source, "nbclient no longer calls wait_for_ready"
    assert "self.km.client(" in source, "nbclient no longer takes its client from km"


def test_the_ready_client_is_jupyter_clients_async_client():
    from jupyter_client.asynchronous import AsyncKernelClient

    ready = workarounds.ready_client_class()
    assert issubclass(ready, AsyncKernelClient)
    assert ready.wait_for_ready is not AsyncKernelClient.wait_for_ready


# ---- quiet_dead_kernel_tasks -----------------------------------------------------------------


def test_nbclient_runs_its_tasks_on_jupyter_cores_loop():
    """The handler is set on ensure_event_loop()'s loop: the one run_sync (nbclient's) uses."""
    import jupyter_core.utils
    import nbclient.client

    assert nbclient.client.run_sync is jupyter_core.utils.run_sync
    assert "ensure_event_loop(" in inspect.getsource(jupyter_core.utils.run_sync)


def test_only_dead_kernel_errors_are_quieted(caplog: pytest.LogCaptureFixture):
    from jupyter_core.utils import ensure_event_loop
    from nbclient.exceptions import DeadKernelError

    loop = ensure_event_loop()
    try:
        workarounds.quiet_dead_kernel_tasks()
        handler = loop.get_exception_handler()
        assert handler is not None
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            handler(loop, {"message": "dead", "exception": DeadKernelError("Kernel died")})
            assert caplog.records == []
            handler(loop, {"message": "other", "exception": ValueError("boom")})
        assert [r.getMessage() for r in caplog.records] == ["other"]
    finally:
        loop.set_exception_handler(None)


# ---- throttled_saves (notebook/execution.py) -------------------------------------------------


def _manager(tmp_path: Path):
    from papermill.engines import NotebookExecutionManager

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "P"}
    nb.metadata["papermill"] = {}
    out = tmp_path / "out.ipynb"
    man = NotebookExecutionManager(nb, output_path=str(out), progress_bar=False)
    man.notebook_start()  # papermill's first save, before any cell
    return man, out


def test_cells_are_not_saved_one_by_one_but_an_interrupted_run_is(tmp_path: Path) -> None:
    from runbook_lib.notebook.execution import throttled_saves

    man, out = _manager(tmp_path)
    out.unlink()
    throttled_saves(man)
    cell = man.nb.cells[0]
    man.cell_start(cell, 0)
    cell.outputs = [nbformat.v4.new_output("stream", text="done\n")]
    man.cell_complete(cell, 0)
    assert not out.exists(), "a short cell was saved at its start or end"
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        man.notebook_complete()  # papermill's finally, with Ctrl-C on its way out
    saved = nbformat.read(str(out), as_version=4)
    assert saved.cells[0].outputs[0]["text"] == "done\n"


def test_a_long_run_is_still_saved_every_autosave_period(tmp_path: Path) -> None:
    import datetime as dt

    from runbook_lib.notebook.execution import throttled_saves

    man, out = _manager(tmp_path)
    out.unlink()
    throttled_saves(man)
    man.last_save_time -= dt.timedelta(seconds=man.autosave_cell_every + 1)
    man.cell_start(man.nb.cells[0], 0)
    assert out.exists()


def test_papermill_still_offers_what_the_runbook_engine_leans_on() -> None:
    """The engine registry (papermill's extension point), the nbclient engine's managed
    execution, and the manager's save clock."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    from runbook_lib.notebook.execution import ENGINE_NAME, _engine

    assert _engine() == ENGINE_NAME
    assert papermill_engines.get_engine(ENGINE_NAME).__mro__[1] is NBClientEngine
    params = inspect.signature(NBClientEngine.execute_managed_notebook).parameters
    assert list(params)[:2] == ["nb_man", "kernel_name"]
    for name in ("save", "now", "autosave_cell", "notebook_complete"):
        assert callable(getattr(NotebookExecutionManager, name)), name
    man = NotebookExecutionManager.__init__
    assert "autosave_cell_every" in inspect.signature(man).parameters
