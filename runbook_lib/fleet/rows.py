"""One index row per run, read back from what the run wrote: its report folder's
`result.json` (the verdict, the count, resets and repairs), its executed notebook (where it
pointed: the banner's account or sandbox, region, table and key) and, for a run that wrote
no report (refused for its own input, or stopped before it began), its terminal output."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

from runbook_lib.fleet.runs import OUTPUT_FILE, Finished
from runbook_lib.notebook import headline, report

STATES: dict[int | None, str] = {code: state for code, state in report.STATES.items()}
STATES[None] = "NOT RUN"  # the fleet was stopped before this run began
# What a run's exit code counts as in the fleet's own exit code (worst of 0 < 3 < 1): a run
# refused for its own parameters (2) did not look at its counter, so it counts as 1.
COUNTS_AS = {0: 0, 3: 3, 1: 1, 2: 1, 130: 130}
RANK = {None: -1, 0: 0, 3: 1, 1: 2, 130: 3}
DROP_CHECK = "no count drop in recent history"  # 02_status's check that dates resets


def fleet_exit(rows: list[dict[str, Any]], interrupted: bool) -> int:
    """The worst of the rows (0 < 3 < 1); 130 when Ctrl-C stopped the fleet."""
    if interrupted:
        return 130
    codes = [r["counts_as"] for r in rows if r["counts_as"] is not None]
    return max(codes, key=lambda c: RANK.get(c, 2), default=0)


def run_folder(counter_folder: Path) -> Path | None:
    """The report folder `runbook run --out` made in the counter's folder, if any."""
    found = sorted(p for p in counter_folder.glob("*") if p.is_dir())
    return found[-1] if found else None


def _json(path: Path) -> dict[str, Any] | None:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
    return None


def _target(run_dir: Path | None, notebook: str) -> dict[str, Any]:
    """What the banner recorded in the executed notebook: where, table, key."""
    nb = _json(run_dir / f"{notebook}.ipynb") if run_dir else None
    return report.target_of(nb) or {} if nb else {}


def row_of(done: Finished, fleet_dir: Path, notebook: str) -> dict[str, Any]:
    """The index row of one run (plain JSON)."""
    spec = done.task.spec
    run_dir = run_folder(done.task.folder)
    record = _json(run_dir / "result.json") if run_dir else None
    code = _exit_code(done, record)
    target = _target(run_dir, notebook)
    where = str(target.get("where") or "")
    files = {
        "report": _relative(run_dir, fleet_dir, (f"{notebook}.html", f"{notebook}.ipynb")),
        "result": _relative(run_dir, fleet_dir, ("result.json",)),
        "output": _relative(done.task.folder, fleet_dir, (OUTPUT_FILE,)),
    }
    return {
        "name": spec.name,
        "entry": spec.entry.name,
        "state": STATES.get(code, "FAILED"),
        "exit_code": code,
        "counts_as": counts_as(code, record),
        "verdict": _verdict(done, code, record),
        "where": where or None,
        "account": _match(r"AWS account (\d+)", where),
        "region": _match(r"region ([a-z0-9-]+)", where) or spec.region,
        "table": target.get("table") or spec.table,
        "key": target.get("key") or _given_key(spec.params),
        "count": count_of(record, run_dir),
        "last_reset": last_reset(record),
        "seconds": round(done.seconds, 1),
        **files,
    }


def _exit_code(done: Finished, record: dict[str, Any] | None) -> int | None:
    code = done.exit_code
    if code is None:
        return None
    if done.stopped and code not in (0, 1, 2, 3):  # Ctrl-C'd (or killed) by the fleet
        return 130
    if code < 0 or code not in COUNTS_AS:
        return 1  # ended by a signal, or a code no run gives: it failed
    return code


def counts_as(code: int | None, record: dict[str, Any] | None) -> int | None:
    """A table that turned out to be missing is a finding about that counter (3), not a
    run that could not look; every other code as COUNTS_AS says."""
    if code == 1 and str((record or {}).get("error") or "").startswith("TableMissingError"):
        return 3
    return COUNTS_AS.get(code) if code is not None else None


def _verdict(done: Finished, code: int | None, record: dict[str, Any] | None) -> str:
    if code is None:
        return "not started: the fleet run was stopped (Ctrl-C) first"
    if record is not None:
        return headline.verdict_of(record, code, record.get("error"), record.get("failed_cell"))
    said = _last_line(done.task.folder / OUTPUT_FILE)
    if code == 130:
        return "interrupted (Ctrl-C) before it wrote a report" + (f": {said}" if said else "")
    return said or f"exit {code}, no report and no output"


def _last_line(path: Path) -> str:
    """The run's last line of output (its one-line refusal), without `runbook: `."""
    with contextlib.suppress(OSError):
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines()]
        last = next((ln for ln in reversed(lines) if ln), "")
        return last.removeprefix("runbook: ")
    return ""


def _relative(folder: Path | None, root: Path, names: tuple[str, ...]) -> str | None:
    for name in names:
        if folder is not None and (folder / name).is_file():
            return (folder / name).relative_to(root).as_posix()
    return None


def _match(pattern: str, text: str) -> str | None:
    found = re.search(pattern, text)
    return found.group(1) if found else None


def _given_key(params: dict[str, str]) -> str | None:
    value = params.get("key_value")
    return f"{params.get('key_name') or 'key'}={value}" if value else None


def count_of(record: dict[str, Any] | None, run_dir: Path | None) -> Any:
    """The count the run saw: 02's count, 07's live count, 06's last published count."""
    record = record or {}
    for key in ("count", "live"):
        if record.get(key) is not None:
            return record[key]
    csv = record.get("csv_path")
    if csv and run_dir is not None and (run_dir / str(csv)).is_file():
        return _last_count(run_dir / str(csv))
    return None


def _last_count(path: Path) -> Any:
    """The last non-empty count of 06's history.csv (csv module: no pandas for one value)."""
    import csv

    last = None
    with contextlib.suppress(OSError, ValueError, KeyError), open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row.get("count"):
                last = row["count"]
    if last is None:
        return None
    number = float(last)
    return int(number) if number.is_integer() else number


def last_reset(record: dict[str, Any] | None) -> str | None:
    """The last reset and its repair, in words: from 06's and 07's resets, or 02's check."""
    if not record:
        return None
    if str(record.get("verdict") or "").startswith("NO DATA"):  # 06 and 07 without a count
        return "not looked for: no count data"
    resets = record.get("resets")
    if isinstance(resets, list):
        return _said(resets[-1]) if resets else "none in the window"
    if "reset_time" in record:  # 07_recover
        if not record.get("reset_time"):
            return "none found"
        return _said(
            {"time": record["reset_time"], "before": record.get("before"),
             "after": record.get("after"), "repaired": record.get("repaired"),
             "repair": record.get("repair")}
        )  # fmt: skip
    for check in record.get("checks") or []:
        if check.get("name") == DROP_CHECK:
            state = str(check.get("state") or "")
            return str(check.get("detail")) if state != "ok" else f"none ({check.get('detail')})"
    return None


def _said(reset: dict[str, Any]) -> str:
    """ "2026-05-01 07:12 UTC: 5000 → 1; repaired 08:02 UTC by 07_recover", or "not repaired"."""
    text = f"{_time(reset.get('time'))}: {reset.get('before')} → {reset.get('after')}"
    repair = reset.get("repair") or {}
    if reset.get("repaired"):
        return f"{text}; repaired {_time(repair.get('time'))} by {repair.get('by')}"
    if repair:
        return f"{text}; not repaired: a write after it did not cover the loss"
    return f"{text}; not repaired"


def _time(value: Any) -> str:
    text = str(value or "?").replace("T", " ")
    return re.sub(r"(\d\d:\d\d)(:\d\d(\.\d+)?)?(\+00:00|Z)?$", r"\1 UTC", text) if value else "?"
