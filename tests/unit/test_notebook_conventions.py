"""Every notebook in notebooks/ follows the project's conventions (README: "Adding a
notebook"). Parametrized over the folder, so a new notebook is checked without a new test."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
MAX_CELL_LINES = 20  # cells are a few lines; the logic is in runbook_lib


def _code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_the_folder_holds_the_notebooks():
    assert len(NOTEBOOKS) >= 7, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_valid_python3_notebook_opening_with_its_purpose_and_rollback(path: Path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    # the runbook's first cell says what it does, its preconditions and how to roll back
    assert nb.cells[0].cell_type == "markdown" and "Rollback" in nb.cells[0].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path):
    for cell in _code_cells(path):
        assert cell["outputs"] == [] and cell["execution_count"] is None, _source(cell)[:80]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_tagged_parameters_cell_of_commented_literals(path: Path):
    cells = _code_cells(path)
    tagged = [i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])]
    assert tagged == [0], "exactly one cell tagged `parameters`, the first code cell"
    lines = [line for line in _source(cells[0]).splitlines() if line.strip()]
    assert lines, "the parameters cell declares the notebook's parameters"
    for line in lines:
        code, sep, comment = line.partition("  # ")
        assert sep and comment.strip(), f"no help comment: {line!r}"
        statement = ast.parse(code).body
        assert len(statement) == 1 and isinstance(statement[0], ast.AnnAssign), line
        # a plain literal: papermill and `runbook params` read it without running code
        ast.literal_eval(statement[0].value)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_last_code_cell_records_the_result(path: Path):
    """Issue 18: the last code cell is one call, `record_result(result)`, of the step's
    Result: nothing assembled by hand there, and `problem` not decided in the notebook."""
    last = ast.parse(_source(_code_cells(path)[-1]).rstrip().rstrip(";")).body
    assert len(last) == 1 and isinstance(last[0], ast.Expr), "one statement"
    call = last[0].value
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    assert call.func.id == "record_result"
    assert [ast.unparse(a) for a in call.args] == ["result"] and not call.keywords


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_function_or_class_is_defined_in_a_notebook(path: Path):
    # logic lives in runbook_lib, where it is tested; a cell only calls it
    for cell in _code_cells(path):
        defined = [
            n.name
            for n in ast.walk(ast.parse(_source(cell)))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ]
        assert not defined, f"{defined} defined in: {_source(cell)[:80]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_are_a_few_lines(path: Path):
    for cell in _code_cells(path):
        assert len(_source(cell).splitlines()) <= MAX_CELL_LINES, _source(cell)[:120]
