"""The HTML report reads at a glance: the verdict before the notebook's own text, a <title>
naming notebook, target and verdict, no raw result JSON, nothing loaded from the network,
small enough to e-mail; and the numbers in it are written for people."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
from pathlib import Path

import pytest
from nbformat import v4

from runbook_lib.notebook import cells as notebook
from runbook_lib.notebook import render, report, runner
from tests import stepnb

# a script, stylesheet, image or frame fetched from another host (http:, https: or //host)
NETWORK_REF = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.I
)
# a module or stylesheet imported by URL inside a script or style element
NETWORK_IMPORT = re.compile(
    r"(?:\bimport\s*\(?\s*|\bfrom\s+|@import\s+(?:url\()?)[\"']?(?:https?:)?//", re.I
)
MAX_REPORT_BYTES = 80_000  # was ~290 kB with JupyterLab's whole stylesheet inlined


def network_loads(page: str) -> list[str]:
    return [m.group(0) for m in (*NETWORK_REF.finditer(page), *NETWORK_IMPORT.finditer(page))]


def body_of(page: str) -> str:
    return page[page.index("<body") :]


@pytest.mark.notebook
def test_status_report_opens_with_its_verdict(live42, tmp_path):
    out = runner.run_notebook("02_status", {"table_name": live42.table}, tmp_path)
    result = json.loads(Path(out.result_path).read_text())
    page = Path(out.html_path).read_text(encoding="utf-8")
    body = body_of(page)

    header = body.index('id="runbook-verdict"')
    assert header < body.index('class="jp-Cell jp-MarkdownCell'), "verdict before the text"
    header_text = htmllib.unescape(re.sub(r"<[^>]+>", " ", body[header : body.index("</header>")]))
    assert result["verdict"] in header_text
    assert live42.table in header_text and "UTC" in header_text and "02_status" in header_text
    assert "exit 0 (OK)" in header_text and "exit codes: 0 = OK, 3 = problem found" in header_text

    title = htmllib.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1))
    assert title.startswith("02_status · ") and live42.table in title
    assert result["verdict"] in title

    # the recorded result is result.json's, not dumped as JSON at the end of the page
    assert '"generated_at"' not in page and '"problem"' not in page
    assert network_loads(page) == []
    assert len(page.encode()) < MAX_REPORT_BYTES


@pytest.mark.parametrize(
    ("code", "state"),
    [(0, "OK"), (3, "PROBLEM FOUND"), (1, "FAILED"), (2, "REFUSED"), (130, "INTERRUPTED")],
)
def test_the_banner_says_this_runs_exit_code_and_keeps_the_legend_apart(code, state):
    """A green "exit 0" beside "(3 problem found, 1 failed, ...)" read like three problems
    and one failure: the code's own meaning, then every code's in small grey type."""
    header = report.header_html(
        name="02_status",
        title="Status check",
        target="table T",
        verdict="All well.",
        exit_code=code,
        started=dt.datetime(2026, 5, 1, 7, 0, tzinfo=dt.timezone.utc),
    )
    legend = re.search(r'<div class="runbook-exit-legend" style="([^"]*)">(.*?)</div>', header)
    assert legend, header
    assert "color:#777" in legend.group(1) and "font-size:.8em" in legend.group(1)
    assert legend.group(2) == (
        "exit codes: 0 = OK, 3 = problem found, 1 = failed, 2 = refused, 130 = interrupted"
    )
    rest = htmllib.unescape(re.sub(r"<[^>]+>", " ", header.replace(legend.group(0), "")))
    assert f"exit {code} ({state})" in rest
    others = [s for s in report.STATES.values() if s != state and s not in state]
    assert not [s for s in others if s.lower() in rest.lower()], rest


@pytest.mark.parametrize("hide_code", [False, True])
def test_no_report_loads_anything_from_the_network(hide_code):
    """Every kind of content the lab template would fetch a script for: math (MathJax),
    mermaid, widget state (require.js, the widget manager)."""
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# Title\nInline math $x^2$ and\n$$\\sum_i i$$"),
            v4.new_code_cell(
                "show()",
                outputs=[
                    v4.new_output("display_data", data={"text/vnd.mermaid": "graph TD; A-->B"}),
                    v4.new_output("display_data", data={"text/html": "<b>table</b>"}),
                    v4.new_output("stream", text="plain\n"),
                ],
            ),
        ],
        metadata={
            "language_info": {"name": "python"},
            "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}},
        },
    )
    page = render.render_html(nb, hide_code=hide_code, header="<header>v</header>", title="t")
    assert network_loads(page) == [], "a report must open offline and in a mail client"
    assert "<title>t</title>" in page


@pytest.mark.notebook
def test_failed_run_says_so_first(tmp_path):
    path = stepnb.write(tmp_path / "nb")
    out = runner.run_notebook(str(path), {"action": "fail"}, tmp_path / "reports")
    assert out.exit_code == 1
    body = body_of(Path(out.html_path).read_text(encoding="utf-8"))
    header = htmllib.unescape(body[: body.index("</header>")])
    assert "FAILED" in header and f"Failed in cell {out.failed_cell}" in header
    assert "RuntimeError: the step failed on purpose" in header
    assert "target not resolved" in header, "the run never showed a banner"


def test_summary_numbers_are_for_people(capsys):
    notebook.show_summary(
        {
            "points": 1441,
            "first_time": "2026-11-30T10:00:00+00:00",
            "last_time": "2026-12-01T10:00:00+00:00",
            "first_count": 1002.0,
            "error_rate": 0.00758,
            "requests_total": None,
            "busiest_hour_utc": 14,
            "period": 60,
            "visits_per_day": {"2026-11-30": 257.0, "2026-12-01": 35},
        }
    )
    shown = capsys.readouterr().out
    assert "1002" in shown and "1002.0" not in shown, "counts as integers"
    assert "0.76 %" in shown and "0.00758" not in shown, "rates as percentages"
    assert "no data" in shown and "None" not in shown
    assert "one point per minute" in shown
    assert "14:00-15:00 UTC" in shown
    assert "2026-11-30 (partial: from 10:00 UTC)" in shown
    assert "2026-12-01 (partial: to 10:01 UTC)" in shown
    assert "257" in shown and "257.0" not in shown


def test_whole_days_are_not_marked_partial(capsys):
    notebook.show_summary(
        {
            "first_time": "2026-11-30T00:00:00+00:00",
            "last_time": "2026-11-30T23:00:00+00:00",
            "period": 3600,
            "visits_per_day": {"2026-11-30": 12},
        }
    )
    shown = capsys.readouterr().out
    assert "partial" not in shown and "one point per hour" in shown
