"""`make lab`'s JupyterLab: loopback, token, and no news pop-up over the onboarding."""

from __future__ import annotations

import json

import pytest

from runbook_lib.sandbox import lab

NOTIFICATION = "@jupyterlab/apputils-extension:notification"


def test_the_command_listens_on_loopback_with_a_token(tmp_path):
    cmd = lab.lab_command(8888, "tok", tmp_path, tmp_path / "work")
    assert "--ip=127.0.0.1" in cmd and "--IdentityProvider.token=tok" in cmd
    assert f"--LabApp.app_settings_dir={tmp_path}" in cmd
    assert f"--ServerApp.root_dir={tmp_path / 'work'}" in cmd  # the copies, not the checkout


def test_the_settings_folder_turns_the_news_off(tmp_path):
    folder = lab.write_app_settings(tmp_path / "settings")
    overrides = json.loads((folder / "overrides.json").read_text())
    assert overrides[NOTIFICATION]["fetchNews"] == "false"


def _checkout(tmp_path, monkeypatch):
    """A checkout's shape with the real templates; the lab's state under it."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    home = tmp_path / "checkout"
    shutil.copytree(root / "notebooks", home / "notebooks")
    (home / "terraform").mkdir()
    (home / "README.md").write_text("# readme\n")
    monkeypatch.setenv("RUNBOOK_HOME", str(home))
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(home / ".runbook"))
    return home


def test_the_lab_serves_fresh_copies_that_say_so(tmp_path, monkeypatch):
    from runbook_lib.notebook import templates
    from runbook_lib.sandbox import labwork

    home = _checkout(tmp_path, monkeypatch)
    before = {p.name: p.read_bytes() for p in (home / "notebooks").glob("*.ipynb")}
    work = labwork.prepare(log=lambda _: None)
    assert work == home / ".runbook" / "lab" / "work"
    copies = sorted(p.name for p in (work / "notebooks").glob("*.ipynb"))
    assert copies == sorted(before) and (work / "README.md").is_file()
    for name in copies:
        nb = templates.load(work / "notebooks" / name)
        first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
        assert first["source"][0].startswith("> **Working copy** in `.runbook/lab/work/`")
        templates.refuse_unsafe(work / "notebooks" / name)  # a fresh copy runs headless too
    assert lab.first_notebook(work) == "notebooks/00_onboarding.ipynb"
    assert {p.name: p.read_bytes() for p in (home / "notebooks").glob("*.ipynb")} == before


def test_a_sessions_edits_stay_in_its_copies_and_are_kept_for_later(tmp_path, monkeypatch):
    from runbook_lib.notebook import templates
    from runbook_lib.sandbox import labwork

    home = _checkout(tmp_path, monkeypatch)
    messages: list[str] = []
    work = labwork.prepare(log=messages.append)
    edited = work / "notebooks" / "07_recover.ipynb"
    edited.write_text(edited.read_text().replace("dry_run: bool = True", "dry_run: bool = False"))
    with pytest.raises(templates.UnsafeDefaultsError):  # `runbook run` on it is refused too
        templates.refuse_unsafe(edited)
    labwork.prepare(log=messages.append)  # the next `make lab`
    earlier = list((home / ".runbook" / "lab" / "earlier").iterdir())
    assert len(earlier) == 1
    assert "dry_run: bool = False" in (earlier[0] / "notebooks" / "07_recover.ipynb").read_text()
    assert "dry_run: bool = True" in edited.read_text()  # fresh again
    assert messages and "07_recover.ipynb" in messages[-1]
    labwork.prepare(log=messages.append)  # nothing changed: nothing more kept
    assert len(list((home / ".runbook" / "lab" / "earlier").iterdir())) == 1
