"""One measured operation in a fresh process: `python -m bench.child MODE ...`.

Prints one JSON line: seconds (the operation only, not the start-up), items, and memory:
the resident set before the operation and the process's peak resident set after it
(VmHWM), so the growth is what the operation added at its peak. VmHWM, not getrusage's
ru_maxrss: Linux carries ru_maxrss across exec, so a child would report its parent's peak.
The endpoint comes from AWS_ENDPOINT_URL (a moto server).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

MB = 1024 * 1024


def _status_mb(field: str) -> float:
    """A memory line of /proc/self/status (Linux; in kB there), in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / MB
    raise RuntimeError(f"no {field} in /proc/self/status")


def rss_now_mb() -> float:
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    return _status_mb("VmHWM")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.child")
    parser.add_argument("mode", choices=["export", "scan"])
    parser.add_argument("--table", required=True)
    parser.add_argument("--dest", default=None, help="export folder")
    parser.add_argument("--segments", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=None, help="Scan Limit (items)")
    args = parser.parse_args(argv)

    # everything the operation will import, imported first: the growth is the operation's
    import gzip  # noqa: F401

    import tqdm.std  # noqa: F401

    from bench import tables
    from runbook_lib.steps.backup import export

    ddb = tables.client()
    ddb.describe_table(TableName=args.table)  # the client's first call: models loaded
    before = rss_now_mb()
    started = time.perf_counter()
    if args.mode == "export":
        res = export.export_table(
            args.table,
            Path(args.dest),
            segments=args.segments,
            ddb=ddb,
            progress=False,
            page_size=args.page_size,
        )
        items = res.item_count
    else:
        items = tables.scan_all(ddb, args.table, page_size=args.page_size)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    out = {
        "mode": args.mode,
        "seconds": seconds,
        "items": items,
        "rss_before_mb": round(before, 2),
        "peak_rss_mb": round(peak, 2),
        "growth_mb": round(max(0.0, peak - before), 2),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
