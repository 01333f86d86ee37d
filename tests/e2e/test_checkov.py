"""checkov on terraform/: zero failed checks, and every skip is written next to its resource
with a reason.

checkov lives in its own venv (.venv-checkov, from requirements-checkov.txt; `make test`
creates it): it pins boto3/botocore and friends to versions that conflict with moto in
.venv. It runs offline with the settings in .checkov.yaml (no Prisma Cloud download, no
update check), which hold no skip-check list: a skip is only ever an inline
`#checkov:skip=CKV_AWS_xxx:reason` inside the resource.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".checkov.yaml"
CHECKOV = ROOT / os.environ.get("CHECKOV_VENV", ".venv-checkov") / "bin" / "checkov"
TIMEOUT_S = 600
MIN_REASON_CHARS = 20  # a sentence, not "ok" or "n/a"

pytestmark = pytest.mark.skipif(
    not CHECKOV.exists(),
    reason=f"{CHECKOV} is missing: `make test` creates it from "
    "requirements-checkov.txt (or run `make checkov`)",
)


@pytest.fixture(scope="module")
def scan() -> dict[str, Any]:
    env = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}  # no call to PyPI
    for key in ("BC_API_KEY", "PRISMA_API_URL"):  # results never leave the machine
        env.pop(key, None)
    proc = subprocess.run(
        [str(CHECKOV), "--config-file", str(CONFIG), "--output", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"checkov printed no JSON (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    reports = report if isinstance(report, list) else [report]
    (terraform,) = [r for r in reports if r.get("check_type") == "terraform"]
    return terraform


def _where(check: dict[str, Any]) -> str:
    start, end = check["file_line_range"]
    return f"{check['check_id']} on {check['resource']} ({check['file_path']}:{start}-{end})"


def test_config_skips_nothing_globally():
    keys = {m[1] for m in re.finditer(r"^([\w-]+):", CONFIG.read_text(), re.M)}
    assert keys.isdisjoint({"skip-check", "soft-fail", "soft-fail-on", "baseline", "skip-path"})
    assert {"directory", "framework", "skip-download"} <= keys


def test_terraform_was_scanned_whole(scan):
    summary = scan["summary"]
    assert summary["parsing_errors"] == 0, scan["results"].get("parsing_errors")
    assert summary["resource_count"] >= 20 and summary["passed"] > 50, summary


def test_zero_failed_checks(scan):
    failed = [_where(c) + f": {c['check_name']}" for c in scan["results"]["failed_checks"]]
    assert failed == [], "fix these, or skip next to the resource with a reason:\n" + "\n".join(
        failed
    )


def test_every_skip_is_next_to_its_resource_with_a_reason(scan):
    skipped = scan["results"]["skipped_checks"]
    for check in skipped:
        reason = check["check_result"].get("suppress_comment") or ""
        assert reason != "No comment provided", f"{_where(check)}: skipped without a reason"
        assert len(reason.strip()) >= MIN_REASON_CHARS, f"{_where(check)}: reason {reason!r}"
        path = Path(check["file_abs_path"])
        start, end = check["file_line_range"]
        block = path.read_text().splitlines()[start - 1 : end]
        assert any(f"checkov:skip={check['check_id']}:" in line for line in block), (
            f"{_where(check)}: the skip is not inside the resource"
        )
