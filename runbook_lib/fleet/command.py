"""`runbook fleet run NOTEBOOK FLEET.toml [-p K V ...] [--out DIR|s3://...] [--quiet]
[--jobs N]`: every check first (the fleet file, the parameters, each write's confirm, the
report folder or bucket: exit 2 or 1 with nothing written), then the runs, then the index.

The fleet's folder is `<out>/<UTC time>-fleet-NOTEBOOK/`: `index.html`, `result.json`, and
one folder per counter holding that run's report folder (as `runbook run --out` writes it)
and its terminal output. With `--out s3://bucket/prefix` the folder is written locally
first and uploaded whole once the runs are done, as `runbook run` publishes one report.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError
from runbook_lib.fleet import expand, fleetfile, index, rows, runs
from runbook_lib.fleet.fleetfile import FleetRefused
from runbook_lib.fleet.outcome import FleetOutcome
from runbook_lib.notebook import foldercheck, publish, runner, templates

Log = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """A fleet run, checked: the notebook, the fleet, and each run's parameters."""

    path: Path  # the notebook
    fleet: fleetfile.Fleet
    specs: list[expand.RunSpec]
    params: list[dict[str, Any]]  # per spec, as `runbook run -p` takes them


def run_command(
    notebook: str,
    fleet_file: str,
    params: Mapping[str, str],
    out: str | None,
    *,
    quiet: bool = False,
    jobs: int | None = None,
    hide_code: bool = False,
) -> int:
    """The CLI: a refused fleet is one line per problem on stderr (exit 2); a fleet that
    ran prints its summary, unless `quiet` and every run was fine."""
    try:
        outcome = run_fleet(notebook, fleet_file, params, out, jobs=jobs, hide_code=hide_code,
                            log=None if quiet else print)  # fmt: skip
    except FleetRefused as exc:
        for line in exc.lines():
            print(f"runbook: {line}", file=sys.stderr)
        return 2
    if not quiet or outcome.exit_code != 0:  # cron mails output: only on a problem
        print(outcome.summary())
    return outcome.exit_code


def prepare(notebook: str, fleet_file: str | Path, params: Mapping[str, str]) -> Plan:
    """Every check that needs no AWS: FleetRefused (or InvalidInputError) before anything."""
    path = runner.notebook_path(notebook)
    templates.refuse_unsafe(path)
    fleet = fleetfile.load(fleet_file)
    declared = set(runner.declared_parameters(path))
    problems = expand.check_params(path.stem, declared, params)
    if problems:
        raise FleetRefused(problems, "the command")
    runner.prepare_parameters(path, dict(params))  # names, types, ranges, secrets: once
    specs = expand.expand(fleet)
    writing = expand.writes(declared, params)
    problems = expand.check_writes(path.stem, specs) if writing else []
    per_run = []
    for spec in specs:
        given = expand.run_parameters(spec, declared, params, writing)
        try:  # what `runbook run` would refuse for this counter, refused now
            runner.prepare_parameters(path, dict(given))
            foldercheck.check_backups(path.stem, given)
        except InvalidInputError as exc:
            problems.append(f"{spec.name}: {str(exc).split(' Next step:')[0]}")
        per_run.append(given)
    if problems:
        raise FleetRefused(problems, fleet.shown)
    return Plan(path, fleet, specs, per_run)


def run_fleet(
    notebook: str,
    fleet_file: str | Path,
    params: Mapping[str, str] | None = None,
    out: str | Path | None = None,
    *,
    jobs: int | None = None,
    hide_code: bool = False,
    log: Log | None = None,
) -> FleetOutcome:
    """Check, run every counter, write the index (and upload it); the fleet's outcome."""
    if jobs is not None and jobs < 1:
        raise InvalidInputError(f"--jobs must be 1 or more, got {jobs}.", hint="pass --jobs N.")
    plan = prepare(notebook, fleet_file, dict(params or {}))
    remote = publish.parse(str(out)) if publish.is_s3(out) else None
    root, source = foldercheck.report_root(out, remote is not None)
    foldercheck.check_reports(root, source)
    if remote:
        publish.check_writable(remote)
    started, started_at = time.monotonic(), dt.datetime.now(dt.timezone.utc)
    folder, made = _reserve(root, source, f"{started_at:%Y%m%dT%H%M%SZ}-fleet-{plan.path.stem}")
    tasks = [_task(plan, i, folder, hide_code) for i in range(len(plan.specs))]
    finished, interrupted = runs.run_all(tasks, jobs or os.cpu_count() or 1, _progress(log))
    table = [rows.row_of(done, folder, plan.path.stem) for done in finished]
    table.sort(key=lambda r: -rows.RANK.get(r["counts_as"], 2))  # stable: file order kept
    outcome = FleetOutcome(
        notebook=plan.path.stem,
        fleet_file=str(fleet_file),
        folder=paths.shown(folder),
        rows=table,
        exit_code=rows.fleet_exit(table, interrupted),
        interrupted=interrupted,
        started_at=started_at,
        seconds=time.monotonic() - started,
    )
    _write_index(outcome, folder, plan.path.stem)
    if remote and not interrupted:  # a stopped fleet stays local, as a stopped run does
        _publish(outcome, folder, remote, made)
    return outcome


def _reserve(root: Path, source: str, name: str) -> tuple[Path, list[Path]]:
    try:
        return paths.reserve_run_dir(root, name)
    except OSError as exc:
        raise foldercheck.reports_refused(root, source, exc.strerror or str(exc)) from None


def _task(plan: Plan, i: int, folder: Path, hide_code: bool) -> runs.Task:
    spec = plan.specs[i]
    counter = folder / spec.slug
    pairs = [arg for k, v in plan.params[i].items() for arg in ("-p", k, str(v))]
    argv = [sys.executable, "-m", "runbook_lib.cli", "run", str(plan.path), *pairs]
    argv += ["--out", str(counter), *(["--no-code"] if hide_code else [])]
    return runs.Task(spec, argv, spec.environment(os.environ), counter)


def _progress(log: Log | None) -> Callable[[runs.Finished], None] | None:
    if log is None:
        return None
    count = [0]

    def said(done: runs.Finished) -> None:
        count[0] += 1
        state = rows.STATES.get(done.exit_code, "FAILED")
        log(f"[{count[0]}] {done.task.spec.name}: {state} (exit {done.exit_code}, "
            f"{done.seconds:.1f}s)")  # fmt: skip

    return said


def _write_index(outcome: FleetOutcome, folder: Path, notebook: str) -> None:
    figure = ""
    if notebook == "06_history":  # one small panel per counter, side by side
        from runbook_lib.fleet import smallmultiples

        figure = smallmultiples.figure_html(outcome.rows, folder)
    index.write(outcome, folder, figure)


def _publish(
    outcome: FleetOutcome, folder: Path, remote: publish.S3Location, made: list[Path]
) -> None:
    """Upload the fleet's folder whole (paths rewritten as `runbook run` does); if the
    upload fails, everything stays local, the index says so, and the fleet exits 1."""
    from runbook_lib.aws.s3 import S3WriteError

    url = f"{remote.url}/{folder.name}"
    shown = {str(folder): url, str(paths.project_root()): "<runbook>"}
    try:
        for sub in sorted({p.parent for p in folder.rglob("*") if p.is_file()}):
            rel = sub.relative_to(folder.parent)  # <fleet>/<counter>/<ts>-NOTEBOOK
            where = publish.S3Location(remote.bucket, remote.key(*rel.parent.parts))
            publish.upload(sub, where, shown)
    except Exception as exc:  # any failure: the reports must not be lost with it
        brief = exc.brief if isinstance(exc, S3WriteError) else f"{type(exc).__name__}: {exc}"
        outcome.exit_code = 1
        outcome.error = f"the upload to {remote.url} failed ({brief}); the reports are kept at "
        outcome.error += outcome.folder
        _write_index(outcome, folder, outcome.notebook)
        return
    shutil.rmtree(folder, ignore_errors=True)
    paths.remove_empty_folders(made[1:])  # reports/ itself, if this run made it
    outcome.folder = url
