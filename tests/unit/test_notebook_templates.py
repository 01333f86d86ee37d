"""The committed notebooks are templates with safe defaults, and a template saved with edited
defaults (a lab's autosave) cannot run headless: `runbook run` refuses it before a kernel."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runbook_lib import cli
from runbook_lib.notebook import templates

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_committed_template_matches_its_record(path: Path) -> None:
    nb = templates.load(path)
    recorded = templates.template_defaults(nb)
    assert recorded is not None, (
        f"{path.name} has no recorded defaults: run "
        f"`python -m runbook_lib.notebook.templates notebooks/{path.name}`"
    )
    assert templates.unsafe_defaults(nb) == [], f"{path.name}: the cell differs from its record"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_committed_template_has_safe_defaults(path: Path) -> None:
    saved = templates.saved_defaults(templates.load(path))
    assert saved.get("dry_run", True) is True, "a plain run must be a dry run"
    assert saved.get("confirm", "") == "", "a plain run must not carry a confirmation"
    assert saved.get("allow_decrease", False) is False, "lowering the count is never a default"
    source = templates.parameters_source(templates.load(path)) or ""
    for line in source.splitlines():
        if "Optional[" in line:  # a value the user must give: the template has none
            name = line.split(":", 1)[0].strip()
            assert saved[name] is None, f"{path.name}: {name} must default to None"


def _autosaved(source: Path, folder: Path, edits: dict[str, str]) -> Path:
    """The template as JupyterLab's autosave writes it after the user typed `edits` into the
    parameters cell and ran it: source as lines, outputs and counts kept, metadata as was."""
    nb = templates.load(source)
    for cell in nb["cells"]:
        if "parameters" in cell["metadata"].get("tags", []):
            lines = "".join(cell["source"]).splitlines(keepends=True)
            for i, line in enumerate(lines):
                name = line.split(":", 1)[0].strip()
                if name in edits:
                    comment = line.partition("  # ")[2]
                    end = "\n" if line.endswith("\n") else ""
                    lines[i] = f"{name} = {edits[name]}  # {comment.rstrip()}{end}"
            cell["source"] = lines
            cell["execution_count"] = 1
        if cell["cell_type"] == "code" and cell is not nb["cells"][1]:
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["x\n"]}]
    out = folder / source.name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def test_a_recover_saved_with_a_real_run_is_refused_naming_the_fix(tmp_path: Path) -> None:
    saved = _autosaved(
        ROOT / "notebooks" / "07_recover.ipynb",
        tmp_path,
        {"dry_run": "False", "confirm": '"resume.example.com-VisitorCount"'},
    )
    with pytest.raises(templates.UnsafeDefaultsError) as caught:
        templates.refuse_unsafe(saved)
    text = str(caught.value)
    assert "`dry_run = False`" in text and "`dry_run = True`" in text
    assert "(and 1 more)" in text  # confirm too
    assert "git checkout 07_recover.ipynb" in text  # outside the checkout: the name only
    assert str(tmp_path) not in text  # a machine path never reaches a message


@pytest.mark.parametrize(
    "edits, named",
    [
        ({"new_value": "4000"}, "`new_value = 4000`"),  # a value where the template has none
        ({"table_name": '"prod-counter"'}, "`table_name = 'prod-counter'`"),
        ({"allow_decrease": "1"}, "`allow_decrease = 1`"),  # 1 is not False, nor True
        ({"reason": "input()"}, "`reason = input()`"),  # code, not a literal
    ],
)
def test_any_saved_edit_is_refused(tmp_path: Path, edits: dict[str, str], named: str) -> None:
    saved = _autosaved(ROOT / "notebooks" / "03_set_count.ipynb", tmp_path, edits)
    with pytest.raises(templates.UnsafeDefaultsError, match="Nothing ran") as caught:
        templates.refuse_unsafe(saved)
    assert named in str(caught.value)


def test_a_notebook_without_a_record_still_must_be_a_dry_run(tmp_path: Path) -> None:
    nb = templates.load(ROOT / "notebooks" / "01_init.ipynb")
    del nb["metadata"]["runbook"]
    plain = tmp_path / "mine.ipynb"
    plain.write_text(json.dumps(nb))
    templates.refuse_unsafe(plain)  # its own defaults are safe: accepted
    edited = _autosaved(plain, tmp_path / "edited", {"dry_run": "False", "table_name": '"x"'})
    with pytest.raises(templates.UnsafeDefaultsError, match="`dry_run = False`"):
        templates.refuse_unsafe(edited)
    only_table = _autosaved(plain, tmp_path / "table", {"table_name": '"x"'})
    templates.refuse_unsafe(only_table)  # no record: only what would write is refused


def _checkout_copy(tmp_path: Path) -> Path:
    """A checkout's shape (notebooks/, terraform/) holding the committed templates."""
    home = tmp_path / "checkout"
    shutil.copytree(ROOT / "notebooks", home / "notebooks")
    (home / "terraform").mkdir()
    return home


def test_runbook_run_refuses_an_autosaved_set_before_a_kernel_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = _checkout_copy(tmp_path)
    _autosaved(ROOT / "notebooks" / "03_set_count.ipynb", home / "notebooks", {"dry_run": "False"})
    monkeypatch.setenv("RUNBOOK_HOME", str(home))
    reports = tmp_path / "reports"
    # the README's own dry-run command: with the saved template it would have written
    code = cli.main(["run", "03_set_count", "-p", "new_value", "4700", "--out", str(reports)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert "notebooks/03_set_count.ipynb" in err and "`dry_run = False`" in err
    assert "git checkout notebooks/03_set_count.ipynb" in err
    assert not reports.exists(), "refused before anything: no report folder"


@pytest.mark.parametrize("command", [["run", "07_recover"], ["params", "07_recover"]])
def test_a_parameters_cell_saved_mid_edit_is_refused_naming_the_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """The lab autosaved while the user was typing confirm's quotes: the cell is not Python.
    Seen in the lab drill's browser test, where `runbook run` of the copy crashed on it."""
    home = _checkout_copy(tmp_path)
    edits = {"dry_run": "False", "confirm": '"resume.example.com-V'}
    _autosaved(ROOT / "notebooks" / "07_recover.ipynb", home / "notebooks", edits)
    monkeypatch.setenv("RUNBOOK_HOME", str(home))
    reports = tmp_path / "reports"
    assert cli.main([*command, *(["--out", str(reports)] if command[0] == "run" else [])]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "notebooks/07_recover.ipynb's parameters cell does not parse (line" in err, err
    assert "unterminated string literal" in err and "Nothing ran" in err, err
    assert "resume.example.com" not in err, "the cell's text stays out of the message"
    assert "git checkout notebooks/07_recover.ipynb" in err
    assert not reports.exists(), "refused before anything: no report folder"


def test_runbook_params_says_the_saved_defaults_are_not_the_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = _checkout_copy(tmp_path)
    _autosaved(ROOT / "notebooks" / "07_recover.ipynb", home / "notebooks", {"dry_run": "False"})
    monkeypatch.setenv("RUNBOOK_HOME", str(home))
    assert cli.main(["params", "07_recover"]) == 2
    assert "git checkout notebooks/07_recover.ipynb" in capsys.readouterr().err
    assert cli.main(["params", "02_status"]) == 0  # the others are untouched


def test_stamp_records_a_deliberate_change_once(tmp_path: Path) -> None:
    edited = _autosaved(ROOT / "notebooks" / "06_history.ipynb", tmp_path, {"days": "7"})
    with pytest.raises(templates.UnsafeDefaultsError):
        templates.refuse_unsafe(edited)
    assert templates.stamp(edited) is True
    assert templates.stamp(edited) is False
    templates.refuse_unsafe(edited)
    assert templates.template_defaults(templates.load(edited))["days"] == 7
