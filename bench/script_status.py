"""The plain-Python baseline for 02_status: the same AWS calls, the same report.

`python -m bench.script_status [--out DIR]` does what the notebook's cells do (resolve the
target, show where it points, run every check concurrently, record the result) and writes
the same kind of report folder: `02_status.html` (banner and checks, as the notebook shows
them) and `result.json`. Exit codes as `runbook run`: 0 healthy, 3 a check failed.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import tempfile
from pathlib import Path

from runbook_lib.notebook.banner import target_banner
from runbook_lib.notebook.results import to_jsonable
from runbook_lib.steps import status
from runbook_lib.target.model import resolve_target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.script_status")
    parser.add_argument("--out", default=None, help="report folder (default: a temp folder)")
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="script-status-"))
    out.mkdir(parents=True, exist_ok=True)

    target = resolve_target()
    banner = target_banner(target)
    print(banner)
    report = status.run_status(target)
    print(report)
    result = to_jsonable({**report.to_dict(), "problem": not report.healthy})
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>02_status</title></head>"
        f"<body><h1>{html.escape('02 · Status check')}</h1>"
        f"{banner._repr_html_()}{report._repr_html_()}</body></html>\n"
    )
    (out / "02_status.html").write_text(page, encoding="utf-8")
    (out / "result.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0 if report.healthy else 3


if __name__ == "__main__":
    sys.exit(main())
