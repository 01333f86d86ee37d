"""One stack, start to end, on a moto server of its own: GIVEN (apply + visits), WHEN
(05_migrate as the README's sandbox shell runs it), THEN (two more applies, every count)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import traceback
from pathlib import Path
from typing import Any

from bench.publicstacks import live
from bench.publicstacks.adapt import adapt
from bench.publicstacks.model import (
    AS_AUTHOR,
    LATER_APPLIES,
    ROOT,
    RUN_TIMEOUT_S,
    RUNBOOK,
    STACKS,
    VISITS,
    Row,
    expected_count,
    load,
)
from bench.publicstacks.outcome import first_line, judge, state_problem, what_was_written
from runbook_lib.sandbox import server as sandbox
from runbook_lib.tf.lostanswer import apply_fresh_stack
from runbook_lib.tf.workspace import workspace


def shell_env(url: str, work: Path, extra: dict[str, str]) -> dict[str, str]:
    """The README's sandbox shell, plus what the author's CI exports (TF_VAR_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNBOOK_", "AWS_", "TF_"))}
    env.update(live.SHELL_RUNBOOK_ENV)
    env.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_REGION": sandbox.REGION,
            "AWS_DEFAULT_REGION": sandbox.REGION,
            "AWS_ACCESS_KEY_ID": sandbox.DUMMY_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": sandbox.DUMMY_SECRET,
            "RUNBOOK_HOME": str(ROOT),
            "RUNBOOK_STATE_DIR": str(work / "runbook-state"),
            "RUNBOOK_BACKUPS": str(work / "backups"),
        }
    )
    env.update(extra)
    return env


def var_file_paths(exp: dict[str, Any], tf_dir: Path) -> list[Path]:
    return [tf_dir / f for f in exp.get("var_files", [])]


def given(exp: dict[str, Any], tf_dir: Path, env: dict[str, str]) -> Any:
    """Apply the stack through the runbook's shadow workspace, then VISITS visits on each
    counter item. Returns the workspace (its shadow is reused for the later applies)."""
    ws = workspace(tf_dir, env=env, var_files=var_file_paths(exp, tf_dir))
    ws.sync()
    ws.init()
    apply_fresh_stack(ws, exp.get("tables", {}), log=lambda _m: None)
    for item in exp.get("items", []):
        for _ in range(VISITS):
            live.visit(item)
    return ws


def run_migrate(
    exp: dict[str, Any], tf_dir: Path, env: dict[str, str], work: Path
) -> tuple[int, str, dict[str, Any] | None]:
    """05_migrate given only terraform_dir (+ var_files), dry_run False and confirm."""
    items = exp.get("items", [])
    table = items[0]["table"] if items else next(iter(exp.get("tables", {}).values()), "none")
    out = work / "reports"
    cmd = [str(RUNBOOK), "run", "05_migrate", "-p", "terraform_dir", str(tf_dir)]
    if exp.get("var_files"):
        cmd += ["-p", "var_files", ",".join(exp["var_files"])]
    cmd += ["-p", "dry_run", "False", "-p", "confirm", table, "--out", str(out), "--no-html"]
    proc = subprocess.run(
        cmd,
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    found = sorted(out.glob("*-05_migrate/result.json"))
    result = json.loads(found[-1].read_text()) if found else None
    (work / "migrate-output.txt").write_text(proc.stdout + proc.stderr)
    return proc.returncode, proc.stdout + proc.stderr, result


def story(name: str, base: Path, mode: str) -> Row:
    """One stack, start to end, on a moto server of its own."""
    exp = load(name, mode)
    row = Row(name, int(exp["round"]), exp["shape"], exp["expected"], mode=mode)
    started = time.monotonic()
    work = base / mode / name
    copy = work / "stack"
    shutil.copytree(STACKS / name, copy, ignore=shutil.ignore_patterns("expect.json"))
    tf_dir = copy / exp["dir"]
    pid, url = sandbox.start_server(log_path=base / f"{mode}-{name}-moto.log")
    try:
        os.environ["AWS_ENDPOINT_URL"] = url  # the harness's own reads and visits
        env = shell_env(url, work, dict(exp.get("env", {})))
        live.make_other_table()
        homes: list[live.BackendHome] = []
        if mode == AS_AUTHOR:
            adapted = adapt(copy, tf_dir, exp, url)
            row.adaptations, homes = adapted.notes, adapted.homes
            for home in homes:
                live.make_backend_home(home)
        _phases(row, exp, tf_dir, env, work, copy, homes)
    except Exception:
        row.outcome = f"FAILED (harness): {traceback.format_exc(limit=-2).strip()[-300:]}"
    finally:
        sandbox.stop_pid(pid)
        row.seconds = round(time.monotonic() - started, 1)
    return row


def _phases(
    row: Row,
    exp: dict[str, Any],
    tf_dir: Path,
    env: dict[str, str],
    work: Path,
    copy: Path,
    homes: list[live.BackendHome],
) -> None:
    items = exp.get("items", [])
    ws = _given_phase(row, exp, tf_dir, env)
    if ws is None and row.outcome:
        return
    if ws is not None and homes:
        where = [f"s3://{h.bucket}/{h.key}" for h in homes if live.state_serial(h) is not None]
        if not where:
            row.outcome = "FAILED (GIVEN): the apply left no state in the re-homed backend"
            return
        row.given += f" (state in {', '.join(where)})"
    for item in items if ws is not None else []:
        row.counts[item["table"]] = [live.read_count(item)]
    if ws is not None and (bad := _given_mismatch(items, row)):
        row.outcome = f"FAILED (GIVEN): {bad}"
        return
    files_before = live.tree_hash(copy)
    serials = [live.state_serial(h) for h in homes]
    row.exit_code, output, result = run_migrate(exp, tf_dir, env, work)
    row.message = first_line(output, result)
    migrated = bool((result or {}).get("migrated"))
    if row.exit_code == 0 and migrated and (bad := state_problem(result, tf_dir, homes)):
        migrated, row.message = False, f"{bad} | {row.message}"
    for item in items if ws is not None else []:
        row.counts[item["table"]].append(live.read_count(item))
    if row.exit_code != 0:
        row.wrote = what_was_written(row, copy, files_before, homes, serials)
    if row.exit_code == 0 and ws is not None:
        ws.sync()
        for _ in range(LATER_APPLIES):
            ws.converge()
            for item in items:
                row.counts[item["table"]].append(live.read_count(item))
    files_ok = row.exit_code == 0 or live.tree_hash(copy) == files_before
    judge(row, exp, (live.other_table() == live.OTHER_COUNT, files_ok), migrated)


def _given_mismatch(items: list[dict[str, Any]], row: Row) -> str:
    """What is wrong with the GIVEN's counts ("" if nothing): a table the apply placed in
    the shell's region instead of the stack's is named as such."""
    for item in items:
        got = row.counts[item["table"]][0]
        if got == expected_count(item):
            continue
        elsewhere = live.read_count({**item, "region": sandbox.REGION})
        where = f" (the table is in {sandbox.REGION})" if elsewhere is not None else ""
        return (
            f"{item['table']} in {item['region']}: count {got}, not {expected_count(item)}{where}"
        )
    return ""


def _given_phase(row: Row, exp: dict[str, Any], tf_dir: Path, env: dict[str, str]) -> Any:
    """The GIVEN's workspace, None when it was not applied (row.outcome set when that
    ends the story: a stack expected to migrate that could not be applied)."""
    if not exp.get("given", True):
        row.given = "not applied (cannot be applied here: see expect.json why)"
        return None
    try:
        ws = given(exp, tf_dir, env)
    except Exception as exc:
        row.given = f"not applied: {_short(exc)}"
        if exp["expected"] == "migrate":
            row.outcome = f"FAILED (GIVEN): {row.given}"
        return None
    row.given = "applied, 5 visits"
    return ws


def _short(exc: Exception) -> str:
    """An exception in one line: Terraform's `Error:` line when it names one."""
    text = str(exc).strip()
    errors = [ln.strip(" │") for ln in text.splitlines() if "Error:" in ln]
    return (errors[0] if errors else text.splitlines()[0] if text else repr(exc))[:200]
