"""The command line: which stacks, which modes; a row per stack, a summary per mode, and
bench/public_stacks/last_run.json keyed by mode."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.publicstacks import __doc__ as usage
from bench.publicstacks.model import (
    ALREADY_SAFE,
    AS_AUTHOR,
    LAST_RUN,
    MIGRATED,
    MODES,
    VERBATIM,
    Row,
    load,
)
from bench.publicstacks.model import names as all_names
from bench.publicstacks.story import story
from runbook_lib.sandbox import server as sandbox


def summary(rows: list[Row], mode: str = VERBATIM) -> str:
    """The verbatim mode's line as it always was; the as-author mode's leads with its own
    words ("as the author runs it: round 1: X/10 migrated intact; round 2: Y/10")."""

    def migrated(r: int) -> str:
        mine = [x for x in rows if x.round == r]
        return f"{sum(x.outcome == MIGRATED for x in mine)}/{len(mine)}"

    unsafe = sum(r.unsafe for r in rows)
    if mode == AS_AUTHOR:
        safe = sum(r.outcome == ALREADY_SAFE for r in rows)
        failed = [r for r in rows if r.outcome not in (MIGRATED, ALREADY_SAFE)]
        return (
            f"as the author runs it: round 1: {migrated(1)} migrated intact; round 2: "
            f"{migrated(2)}; already safe, kept intact: {safe}; neither: {len(failed)}; "
            f"unsafe: {unsafe}"
        )
    refused = [r for r in rows if r.exit_code not in (0, None)]
    safe = sum(r.outcome.startswith("safe refusal") for r in refused)
    return (
        f"round 1: {migrated(1)} migrated intact; round 2: {migrated(2)}; "
        f"refusals safe: {safe}/{len(refused)}; unsafe: {unsafe}"
    )


def print_row(row: Row) -> None:
    print(
        f"{row.name:16} r{row.round} {row.expected:8} exit {row.exit_code!s:4} "
        f"{row.seconds:6.1f}s  {row.outcome}",
        flush=True,
    )
    print(f"{'':16}    shape: {row.shape[:110]}", flush=True)
    for note in row.adaptations:
        print(f"{'':16}    adapted: {note}", flush=True)
    if row.counts:
        print(f"{'':16}    counts (given, after run, applies): {row.counts}", flush=True)
    if row.wrote:
        print(f"{'':16}    written by the run: {row.wrote}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.public_stacks",
        description="Issue 16's Done-when: 05_migrate on the public stacks in "
        "bench/public_stacks/, verbatim or as each author runs it (SOURCES.md).",
        epilog=usage,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", help="stacks to run (default: all)")
    parser.add_argument("--round", type=int, choices=(1, 2), help="only this round's stacks")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--as-author", action="store_true", help="adapt each copy as its author runs it"
    )
    which.add_argument("--both", action="store_true", help="verbatim, then --as-author")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (copies, reports, logs)"
    )
    args = parser.parse_args(argv)
    chosen = args.names or all_names()
    if args.round:
        chosen = [n for n in chosen if int(load(n)["round"]) == args.round]
    modes = MODES if args.both else (AS_AUTHOR,) if args.as_author else (VERBATIM,)
    results: dict[str, list[Row]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="public-stacks-"))
    try:
        _harness_env(tmp)
        for mode in modes:
            print(f"== mode: {mode}", flush=True)
            results[mode] = []
            for name in chosen:
                row = story(name, tmp, mode)
                print_row(row)
                results[mode].append(row)
            print(summary(results[mode], mode), flush=True)
    finally:
        if args.keep:
            print(f"(work folder kept: {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    saved = save(results)
    if len(modes) > 1:  # both summaries once more, together, over every row kept
        for mode in modes:
            print(saved[mode]["summary"])
    unsafe = any(r.unsafe for rows in results.values() for r in rows)
    return 1 if unsafe else 0


def _harness_env(base: Path) -> None:
    """The harness's own AWS settings (its reads and visits) and shadows, apart from the
    runbook's own (each run has its own state dir)."""
    os.environ["RUNBOOK_STATE_DIR"] = str(base / "harness-state")
    os.environ.update(
        {
            "AWS_REGION": sandbox.REGION,
            "AWS_DEFAULT_REGION": sandbox.REGION,
            "AWS_ACCESS_KEY_ID": sandbox.DUMMY_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": sandbox.DUMMY_SECRET,
        }
    )
    os.environ.pop("AWS_PROFILE", None)


def save(results: dict[str, list[Row]]) -> dict[str, Any]:
    """last_run.json, keyed by mode: each mode's rows of this run over the file's previous
    ones (a run of some stacks keeps the others' last rows), and the summary of them all.
    A file of the single-mode layout (top-level rows) is read as the verbatim mode's."""
    doc: dict[str, Any] = json.loads(LAST_RUN.read_text()) if LAST_RUN.is_file() else {}
    if "rows" in doc:
        doc = {VERBATIM: doc}
    for mode, rows in results.items():
        kept = {old["name"]: Row(**old) for old in doc.get(mode, {}).get("rows", [])}
        kept.update({r.name: r for r in rows})
        every = [kept[name] for name in sorted(kept)]
        doc[mode] = {"summary": summary(every, mode), "rows": [asdict(r) for r in every]}
    LAST_RUN.write_text(json.dumps({m: doc[m] for m in MODES if m in doc}, indent=2) + "\n")
    return doc
