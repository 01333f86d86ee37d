"""Whole-table export and restore against their floors and against dynamodump.

Export: `export_table` (as notebook 04 calls it: one segment, DynamoDB's 1 MB pages) and
the bare Scan loop each run in a fresh child process (`bench.child`) on the same table,
dynamodump as its own command, in rotating order each round. The children also report
their peak memory, which gives export_rss_growth_mb at the large size; the small size has
its own table and runs.

Restore: `restore_table` as notebook 04 calls it (verifies the file, writes with
RESTORE_WRITERS calls in flight, reads back a sample), the same with read_back="all" (every
key read back; reported, no target), and the bare BatchWriteItem loop over the same items
already in memory, each into a fresh empty table, and dynamodump `--dataOnly` likewise, in
rotating order each round.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import dynamodump, tables
from bench.stats import figure, skipped, summary, timed
from runbook_lib.steps.backup import export, tablerestore

SPEED_TARGET = 0.9  # the export (restore) at >= 0.9x its floor's items per second
RSS_TARGET_MB = 20.0
CHILD_TIMEOUT_S = 1800


def _child(mode: str, table: str, dest: str) -> dict[str, Any]:
    import json

    proc = subprocess.run(
        [sys.executable, "-m", "bench.child", mode, "--table", table, "--dest", dest],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench.child {mode} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _rotate(steps: list[tuple[str, Callable[[], Any]]], r: int) -> dict[str, Any]:
    """Run the steps starting at a different one each round; results by name."""
    k = r % len(steps)
    return {name: fn() for name, fn in steps[k:] + steps[:k]}


def _new_table(ddb: Any, role: str) -> str:
    return tables.create_table(ddb, f"bench-{role}-{uuid.uuid4().hex[:8]}")


def export_figures(
    url: str, n: int, runs: int, *, use_dynamodump: bool, log: Any = print
) -> dict[str, Any]:
    """export_items_per_s, export_vs_scan_ratio, the scan floor, dynamodump, RSS at n."""
    ddb = tables.client()
    table = _new_table(ddb, "export")
    load_s = tables.load(table, n)
    if tables.item_count(ddb, table) != n:
        raise RuntimeError(f"{table} holds {tables.item_count(ddb, table)} items, not {n}")
    log(f"  loaded {n:,} items in {load_s:.1f}s ({n / load_s:,.0f} items/s, parallel)")
    rounds = _export_rounds(url, table, n, runs, use_dynamodump, log)
    tables.delete_table(ddb, table)
    scan_s = [g["scan"]["seconds"] for g in rounds]
    export_s = [g["export"]["seconds"] for g in rounds]
    ratio = [s / e for s, e in zip(scan_s, export_s, strict=True)]
    out: dict[str, Any] = {
        "export_items_per_s": figure(
            [n / s for s in export_s],
            "items/s",
            target=f">= {SPEED_TARGET} x the scan floor's items/s (same rounds)",
            met=lambda _m: summary(ratio, "x")["median"] >= SPEED_TARGET,
            digits=0,
            items=n,
            seconds=summary(export_s, "s"),
            floor_items_per_s=summary([n / s for s in scan_s], "items/s", digits=0),
            load_items_per_s=round(n / load_s),
        ),
        "export_vs_scan_ratio": figure(
            ratio,
            "x (export items/s / scan floor items/s)",
            target=f">= {SPEED_TARGET}",
            met=lambda m: m >= SPEED_TARGET,
            items=n,
        ),
        "rss_large": _rss_figure(n, rounds),
    }
    out["dynamodump_export"] = (
        dynamodump.export_figure(n, rounds)
        if use_dynamodump
        else skipped("quick mode: dynamodump sleeps 25 s per backup")
    )
    return out


def _export_rounds(
    url: str, table: str, n: int, runs: int, use_dynamodump: bool, log: Any
) -> list[dict[str, Any]]:
    """Each round's scan, export (and dynamodump) of the table, every item counted."""
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-export-") as work:
        for r in range(runs):
            got = _export_round(url, table, Path(work) / f"round-{r}", r, use_dynamodump)
            if got["export"]["items"] != n or got["scan"]["items"] != n:
                raise RuntimeError(f"round {r}: expected {n} items, got {got}")
            if use_dynamodump and r == 0:
                dumped = dynamodump.items_in_dump(Path(work) / "round-0" / "dd", table)
                if dumped != n:
                    raise RuntimeError(f"dynamodump's dump holds {dumped} of {n} items")
            rounds.append(got)
            shown = ", ".join(
                f"{k} {v['seconds'] if isinstance(v, dict) else v:.1f}s" for k, v in got.items()
            )
            log(f"  round {r + 1}: {shown}")
    return rounds


def _export_round(url: str, table: str, dest: Path, r: int, use_dd: bool) -> dict[str, Any]:
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("scan", lambda: _child("scan", table, str(dest / "unused"))),
        ("export", lambda: _child("export", table, str(dest / "export"))),
    ]
    if use_dd:
        steps.append(("dynamodump", lambda: dynamodump.backup(url, table, dest / "dd")))
    return _rotate(steps, r)


def _rss_figure(n: int, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    growth = [g["export"]["growth_mb"] for g in rounds]
    return figure(
        growth,
        "MB",
        target=f"< {RSS_TARGET_MB:g}",
        met=lambda m: m < RSS_TARGET_MB,
        digits=2,
        items=n,
        scan_floor_growth_mb=summary([g["scan"]["growth_mb"] for g in rounds], "MB", digits=2),
        measured="peak resident set (VmHWM) of a child process minus its resident set "
        "before the export",
    )


def rss_small(n: int, runs: int, log: Any = print) -> dict[str, Any]:
    """export_rss_growth_mb at the small size: its own table, export and scan children."""
    ddb = tables.client()
    table = _new_table(ddb, "rss")
    tables.load(table, n)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as work:
        for r in range(runs):
            rounds.append(
                _rotate(
                    [
                        ("scan", lambda: _child("scan", table, work)),
                        ("export", lambda r=r: _child("export", table, f"{work}/{r}")),
                    ],
                    r,
                )
            )
    log(f"  {n:,} items: growth {[g['export']['growth_mb'] for g in rounds]} MB")
    tables.delete_table(ddb, table)
    return _rss_figure(n, rounds)


def _restore_round(
    url: str,
    ddb: Any,
    source: str,
    path: Path,
    items: list[dict[str, Any]],
    dests: dict[str, str],
    work: Path,
    r: int,
) -> dict[str, float]:
    """Seconds of the bare loop, restore_table and dynamodump, each into its own table."""

    def restore(role: str, read_back: str) -> Any:
        table = dests[role]
        return tablerestore.restore_table(  # into a fresh copy of the exported table
            path,
            table,
            dry_run=False,
            confirm=table,
            allow_other_table=True,
            read_back=read_back,
            ddb=ddb,
            progress=False,
        )

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("floor", lambda: timed(lambda: tables.batch_write(ddb, dests["floor"], items))[0]),
        ("restore", lambda: timed(lambda: restore("restore", "sample"))[0]),
        ("restore_all", lambda: timed(lambda: restore("restore_all", "all"))[0]),
    ]
    if (work / "dd").exists():
        steps.append(
            ("dynamodump", lambda: dynamodump.restore(url, source, dests["dd"], work / "dd"))
        )
    return _rotate(steps, r)


def restore_figures(
    url: str, n: int, runs: int, *, use_dynamodump: bool, log: Any = print
) -> dict[str, Any]:
    """restore_table against the bare BatchWriteItem loop (and dynamodump --dataOnly)."""
    rounds = _restore_rounds(url, n, runs, use_dynamodump, log)
    floor_s = [g["floor"] for g in rounds]
    restore_s = [g["restore"] for g in rounds]
    all_s = [g["restore_all"] for g in rounds]
    out: dict[str, Any] = {
        "restore_vs_batchwrite_ratio": figure(
            [f / s for f, s in zip(floor_s, restore_s, strict=True)],
            "x (restore items/s / bare BatchWriteItem loop items/s)",
            target=f">= {SPEED_TARGET}",
            met=lambda m: m >= SPEED_TARGET,
            items=n,
            restore_items_per_s=summary([n / s for s in restore_s], "items/s", digits=0),
            floor_items_per_s=summary([n / s for s in floor_s], "items/s", digits=0),
            restore_does="verifies the file (sha256, count, digest, every item), writes 25 "
            f"per BatchWriteItem with {tablerestore.RESTORE_WRITERS} calls in flight, checks every "
            "put was acknowledged and the file unchanged, then reads back the counter item and "
            f"a sample of {tablerestore.READ_BACK_SAMPLE} (read_back='sample', the default)",
        ),
        "restore_read_back_all_vs_batchwrite_ratio": figure(
            [f / s for f, s in zip(floor_s, all_s, strict=True)],
            "x (restore items/s with read_back='all' / bare BatchWriteItem loop items/s)",
            target=None,
            met=None,
            items=n,
            note="the same restore reading every key back (BatchGetItem, 100 per call): as "
            "many reads as writes, for whoever wants every item re-checked",
        ),
    }
    out["dynamodump_restore"] = (
        dynamodump.restore_figure(n, rounds)
        if use_dynamodump
        else skipped("quick mode: dynamodump sleeps 25 s per backup")
    )
    return out


def _restore_rounds(
    url: str, n: int, runs: int, use_dynamodump: bool, log: Any
) -> list[dict[str, float]]:
    """An exported table restored each round into fresh tables, every item counted."""
    ddb = tables.client()
    source = _new_table(ddb, "restore-src")
    tables.load(source, n)
    items = [tables.bench_item(i) for i in range(n)]
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-restore-") as work:
        exported = export.export_table(source, Path(work), ddb=ddb, progress=False)
        if use_dynamodump:
            dynamodump.backup(url, source, Path(work) / "dd")
        for r in range(runs):
            roles = ("floor", "restore", "restore_all", "dd")
            dests = {role: _new_table(ddb, role) for role in roles}
            got = _restore_round(url, ddb, source, exported.path, items, dests, Path(work), r)
            for role, table in dests.items():
                if role != "dd" or use_dynamodump:
                    found = tables.item_count(ddb, table)
                    if found != n:
                        raise RuntimeError(f"round {r}: {role} wrote {found} of {n} items")
                tables.delete_table(ddb, table)
            rounds.append(got)
            log(f"  round {r + 1}: " + ", ".join(f"{k} {v:.1f}s" for k, v in got.items()))
    tables.delete_table(ddb, source)
    return rounds
