"""Issue 18's "no behaviour change" record: every notebook, run headless through `runbook run`
on one sandbox in a fixed order of scenarios (happy paths, refusals, bad input, the on-call
loop), and for each: the exit code and the keys of result.json (nested dicts one level down).

    python -m bench.behaviour.snapshot OUT.json

Run it before and after a refactor and diff the two files: the same inputs must give the
same exit codes and the same result.json keys. Values (counts, times, ARNs) differ between
runs and are not compared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = str(Path(sys.executable).with_name("runbook"))
# (label, notebook, parameters); "{table}" is the sandbox table
SCENARIOS: list[tuple[str, str, dict[str, str]]] = [
    ("init dry run", "01_init", {}),
    ("init confirmed, item exists", "01_init", {"dry_run": "False", "confirm": "{table}"}),
    ("status", "02_status", {}),
    ("status bad table name", "02_status", {"table_name": "a"}),
    ("status missing table", "02_status", {"table_name": "no-such-table"}),
    ("set without new_value", "03_set_count", {}),
    ("set dry run", "03_set_count", {"new_value": "999999"}),
    (
        "set lower refused",
        "03_set_count",
        {"new_value": "1", "dry_run": "False", "confirm": "{table}"},
    ),
    (
        "set wrong confirm",
        "03_set_count",
        {"new_value": "999999", "dry_run": "False", "confirm": "x"},
    ),
    (
        "set higher",
        "03_set_count",
        {"new_value": "999999", "dry_run": "False", "confirm": "{table}", "reason": "snapshot"},
    ),
    ("backup list", "04_backup_restore", {}),
    (
        "backup item",
        "04_backup_restore",
        {"action": "backup", "kind": "item", "dry_run": "False", "confirm": "{table}"},
    ),
    (
        "backup native",
        "04_backup_restore",
        {"action": "backup", "kind": "native", "dry_run": "False", "confirm": "{table}"},
    ),
    (
        "backup table",
        "04_backup_restore",
        {"action": "backup", "kind": "table", "dry_run": "False", "confirm": "{table}"},
    ),
    ("restore item no path", "04_backup_restore", {"action": "restore", "kind": "item"}),
    ("backup bad action", "04_backup_restore", {"action": "explode"}),
    ("migrate dry run", "05_migrate", {}),
    ("migrate bad strategy", "05_migrate", {"strategy": "nope"}),
    ("history", "06_history", {}),
    ("history bad days", "06_history", {"days": "0"}),
    ("recover nothing to do", "07_recover", {}),
    ("DRILL", "", {}),
    ("status after drill", "02_status", {}),
    ("recover dry run", "07_recover", {}),
    ("recover confirmed", "07_recover", {"dry_run": "False", "confirm": "{table}"}),
    ("status after repair", "02_status", {}),
    ("onboarding", "00_onboarding", {"auto_answer": "True", "live_reset_demo": "False"}),
    ("DOWN", "", {}),
    ("status endpoint down", "02_status", {}),
]


def _keys(result: dict) -> dict:
    return {
        k: sorted(v) if isinstance(v, dict) else type(v).__name__ for k, v in sorted(result.items())
    }


def _run(name: str, params: dict[str, str], table: str, out: Path, env: dict) -> dict:
    argv = [RUNBOOK, "run", name, "--no-html", "--quiet", "--out", str(out)]
    for key, value in params.items():
        argv += ["-p", key, value.replace("{table}", table)]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT)
    found = sorted(out.rglob("result.json"))
    result = json.loads(found[-1].read_text()) if found else None
    return {"exit": proc.returncode, "keys": _keys(result) if result is not None else None}


def _env_of(state: str) -> tuple[dict, str]:
    env = {**os.environ, "RUNBOOK_STATE_DIR": state}
    text = subprocess.run(
        [RUNBOOK, "sandbox", "env"], env=env, capture_output=True, text=True, check=True
    ).stdout
    for line in text.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key] = value.strip("'\"")
    return env, env["RUNBOOK_TABLE"]


def main(path: str) -> int:
    state = tempfile.mkdtemp(prefix="snapshot-")
    base = {**os.environ, "RUNBOOK_STATE_DIR": state}
    subprocess.run([RUNBOOK, "sandbox", "up"], env=base, check=True, capture_output=True)
    env, table = _env_of(state)
    record = {}
    try:
        for i, (label, name, params) in enumerate(SCENARIOS):
            if label in ("DRILL", "DOWN"):
                command = "drill" if label == "DRILL" else "down"
                subprocess.run(
                    [RUNBOOK, "sandbox", command], env=env, check=True, capture_output=True
                )
                continue
            record[f"{i:02d} {name} {label}"] = _run(
                name, params, table, Path(state) / f"r{i:02d}", env
            )
            print(label, record[f"{i:02d} {name} {label}"]["exit"], flush=True)
    finally:
        subprocess.run([RUNBOOK, "sandbox", "down"], env=base, capture_output=True)
    Path(path).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
