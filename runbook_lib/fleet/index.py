"""The fleet's index: `index.html` (one self-contained page, verdict first, like every
report: nothing loaded from the network, the figure embedded) and `result.json` (the same
rows, the fleet's exit code), in the fleet's report folder."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from runbook_lib.fleet.outcome import FleetOutcome
from runbook_lib.notebook.report import COLOURS, EXIT_LEGEND, HEADER_STYLE

STATE_COLOURS = {
    "OK": COLOURS[0],
    "PROBLEM FOUND": COLOURS[3],
    "FAILED": COLOURS[1],
    "REFUSED": COLOURS[2],
    "INTERRUPTED": COLOURS[130],
    "NOT RUN": "#777",
}
CSS = """
body{margin:0;background:#fff;color:#1f1f1f;font:15px/1.5 system-ui,-apple-system,'Segoe UI',
Roboto,sans-serif}
main{max-width:1300px;margin:0 auto;padding:16px 24px}
table.fleet{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0 16px}
table.fleet th,table.fleet td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;
vertical-align:top}
table.fleet thead th{border-bottom:2px solid #999}
table.fleet tbody tr:nth-child(odd){background:#f6f6f6}
table.fleet td.state{font-weight:bold;white-space:nowrap}
table.fleet td.num{text-align:right;white-space:nowrap}
table.fleet code{background:#f2f2f2;padding:0 3px;border-radius:2px;font-size:90%}
figure.fleet-history{margin:8px 0}
img{max-width:100%;height:auto}
.howto{color:#555;font-size:13px}
"""
COLUMNS = ("state", "counter", "where", "verdict", "count", "last reset and repair",
           "run time", "report")  # fmt: skip
HOW_TO_READ = (
    "One row per counter, those that need attention first. <b>state</b> is that run's exit: "
    "OK (0), PROBLEM FOUND (3: something to do now; a table that turned out to be missing is "
    "one), FAILED (1: it could not look), REFUSED (2: its own parameters were refused; it "
    "counts as 1), INTERRUPTED and NOT RUN (Ctrl-C). The page's state is the worst row "
    "(0 &lt; 3 &lt; 1). <b>verdict</b> is the run's own headline; its report says the rest "
    "and the exact command to run next."
)


def write(outcome: FleetOutcome, folder: Path, figure: str = "") -> tuple[Path, Path]:
    """Write index.html and result.json into the fleet's folder; their paths."""
    index, result = folder / "index.html", folder / "result.json"
    index.write_text(page(outcome, figure), encoding="utf-8")
    result.write_text(json.dumps(outcome.to_dict(), indent=2, default=str) + "\n")
    return index, result


def page(outcome: FleetOutcome, figure: str = "") -> str:
    """The whole page: header (verdict first), the rows, the figure, how to read it."""
    esc = html.escape
    colour = COLOURS.get(outcome.exit_code, COLOURS[1])
    when = outcome.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    title = f"fleet {outcome.notebook} · {outcome.state}: {outcome.headline}"
    header = (
        f'<header id="runbook-verdict" style="{HEADER_STYLE.format(colour=colour)}">'
        f'<div style="font-size:1.35em;color:{colour}"><b>{esc(outcome.state)}</b> · '
        f'<span class="runbook-verdict-line">{esc(outcome.headline)}</span></div>'
        f'<div style="font-size:1.1em"><b>fleet {esc(outcome.notebook)}</b> · '
        f"{len(outcome.rows)} counters from <code>{esc(outcome.fleet_file)}</code></div>"
        f"<div>run at {esc(when)} · {outcome.seconds:.1f} s · exit {outcome.exit_code} "
        f"({esc(outcome.state)})</div>{EXIT_LEGEND}</header>"
    )
    head_cells = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
    body = "".join(_row(r) for r in outcome.rows)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>{header}"
        f'<table class="fleet"><thead><tr>{head_cells}</tr></thead><tbody>{body}</tbody>'
        f'</table>{figure}<p class="howto">{HOW_TO_READ}</p></main></body></html>\n'
    )


def where_text(row: dict[str, Any]) -> str:
    """account (or the sandbox) · region · table · key."""
    place = f"account {row['account']}" if row.get("account") else ""
    if not place and "sandbox" in str(row.get("where") or ""):
        place = "sandbox"
    parts = [place, row.get("region") or "", row.get("table") or "", row.get("key") or ""]
    return " · ".join(str(p) for p in parts if p) or "not resolved"


def _row(row: dict[str, Any]) -> str:
    esc = html.escape
    colour = STATE_COLOURS.get(row["state"], COLOURS[1])
    count = "" if row.get("count") is None else f"{row['count']:,}" if isinstance(
        row["count"], int) else str(row["count"])  # fmt: skip
    links = [
        f'<a href="{esc(row[k])}">{label}</a>'
        for k, label in (("report", "report"), ("result", "result.json"), ("output", "output"))
        if row.get(k)
    ]
    cells = [
        f'<td class="state" style="color:{colour}">{esc(row["state"])}</td>',
        f"<td><b>{esc(row['name'])}</b></td>",
        f"<td>{esc(where_text(row))}</td>",
        f"<td>{esc(row['verdict'] or '')}</td>",
        f'<td class="num">{esc(count)}</td>',
        f"<td>{esc(row.get('last_reset') or '')}</td>",
        f'<td class="num">{row["seconds"]:.1f} s</td>',
        f"<td>{' · '.join(links)}</td>",
    ]
    return f"<tr>{''.join(cells)}</tr>"
