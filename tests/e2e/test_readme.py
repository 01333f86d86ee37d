"""The README's first steps, as a new user takes them: links that resolve inside the
repository, the plain-papermill example run as written, the Makefile's two installs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from runbook_lib.notebook import results
from runbook_lib.sandbox import server as sandbox

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent
# [text](target) and ![alt](target), outside code blocks
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    """The README without its fenced code blocks (their brackets are code, not links)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    heads = re.findall(r"^#{1,6} (.+)$", _prose(text), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


def test_every_readme_link_resolves_inside_the_repository():
    text = README.read_text(encoding="utf-8")
    links = LINK.findall(_prose(text))
    assert links, "the README has links (the pictures at least)"
    anchors = _anchors(text)
    for link in links:
        if re.match(r"https?://", link):
            continue  # a web page (papermill's, moto's documentation), not a repository path
        path, _, fragment = link.partition("#")
        if path:
            target = (ROOT / path).resolve()
            assert target.is_relative_to(ROOT), f"{link} points outside the repository"
            assert target.exists(), f"{link} does not exist in the repository"
        else:
            assert fragment in anchors, f"{link}: no such heading in the README"


def test_the_readme_names_the_guide_without_linking_outside():
    text = README.read_text(encoding="utf-8")
    assert "../" not in " ".join(LINK.findall(text))
    assert "DynamoDB persistence guide" in text


def _papermill_example() -> str:
    lines = [line for line in README.read_text().splitlines() if "papermill notebooks/" in line]
    assert len(lines) == 1, lines
    return lines[0].split("  #")[0].strip()


@pytest.mark.notebook
def test_the_plain_papermill_example_runs_as_written(live42, moto_url, tmp_path):
    """In a shell pointed at the sandbox (the README's `sandbox env`), from a checkout."""
    command = _papermill_example()
    assert command.startswith("mkdir -p reports && papermill "), command
    (tmp_path / "notebooks").symlink_to(ROOT / "notebooks")  # a checkout's layout
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RUNBOOK_"))}
    info = sandbox.SandboxInfo(url=moto_url, pid=0, outputs={"table_name": live42.table})
    env.update(info.env())
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # source .venv/bin/activate
    env["RUNBOOK_BACKUPS"] = str(tmp_path / "backups")
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / shlex.split(command.split("&&")[1])[2]
    import nbformat

    result = results.result_from_notebook(nbformat.read(out, as_version=4))
    assert result is not None and result["count"] == 42, result


def _make_dry_run(target: str, venv: Path) -> str:
    done = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.parametrize("target", ["demo", "lab", "sandbox-up"])
def test_running_installs_only_the_runtime_requirements(target, tmp_path):
    plan = _make_dry_run(target, tmp_path / "fresh-venv")
    assert "-r requirements.txt" in plan
    assert "requirements-dev.txt" not in plan


@pytest.mark.parametrize("target", ["test", "test-fast", "lint"])
def test_testing_installs_the_dev_tools_on_top(target, tmp_path):
    plan = _make_dry_run(target, tmp_path / "fresh-venv")
    assert "-r requirements.txt" in plan and "-r requirements-dev.txt" in plan
    assert plan.index("-r requirements.txt") < plan.index("-r requirements-dev.txt")


def test_make_demo_says_how_to_call_runbook(tmp_path):
    venv = tmp_path / "fresh-venv"
    plan = _make_dry_run("demo", venv)
    tail = plan[plan.index(f"{venv}/bin/runbook demo") :]
    assert f"call it as {venv}/bin/runbook" in tail and f"source {venv}/bin/activate" in tail


def test_notebook_checkpoints_are_ignored():
    done = subprocess.run(
        [
            "git",
            "check-ignore",
            "-q",
            "notebooks/.ipynb_checkpoints/00_onboarding-checkpoint.ipynb",
        ],
        cwd=ROOT,
    )
    assert done.returncode == 0, ".ipynb_checkpoints/ is not in .gitignore"
