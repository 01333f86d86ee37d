"""The HTML report: the verdict first, nothing loaded from the network, no raw JSON dump.

nbconvert's `lab` template, extended: its require.js, MathJax, mermaid and widget scripts
(all from a CDN) are left out, since a report is read in a mail client or offline and the
runbook's notebooks use none of them; a header with the notebook, the target, the time (UTC)
and the one-line verdict opens the body, above the notebook's explanatory text. The result
the last cell records travels in the executed notebook and in result.json; the HTML copy
leaves it out.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
from typing import Any

from runbook_lib.notebook.results import RESULT_MIME

TARGET_MIME = "application/vnd.counter-runbook.target+json"
TEMPLATE_FILE = "runbook_report.html.j2"
# Blocks of nbconvert's lab/index.html.j2 emptied: each loads a script from a CDN.
TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block notebook_css -%}
{{ resources.include_css("static/theme-light.css") }}
<style type="text/css">{{ resources.runbook_css }}</style>
{%- endblock notebook_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.runbook_header }}
{%- endblock body_header -%}
"""
# JupyterLab's whole stylesheet (index.css, 240 kB) styles widgets a report never has;
# these rules cover what nbconvert's lab template emits for the runbook's notebooks, with
# the light theme's variables (16 kB) kept for the code colours.
CSS = """
body{margin:0;background:#fff;color:#1f1f1f;font:15px/1.5 system-ui,-apple-system,'Segoe UI',
Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:16px 24px}
.jp-Collapser,a.anchor-link{display:none}
.jp-Cell{margin:6px 0}
.jp-InputArea,.jp-OutputArea-child{display:flex;gap:8px;align-items:flex-start}
.jp-InputPrompt,.jp-OutputPrompt{flex:0 0 64px;color:#888;font:12px/1.6 monospace;
text-align:right;padding-top:4px}
.jp-InputArea-editor,.jp-OutputArea-output,.jp-RenderedMarkdown{flex:1 1 auto;min-width:0}
.jp-InputArea-editor{background:#f7f7f7;border:1px solid #e0e0e0;border-radius:2px}
.highlight pre{margin:0;padding:6px 8px;overflow-x:auto;font:13px/1.45 monospace}
.jp-RenderedText pre{margin:0;padding:4px 0;white-space:pre-wrap;word-break:break-word;
font:13px/1.45 monospace}
.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]{background:#fdd}
.jp-RenderedHTMLCommon table{border-collapse:collapse;margin:6px 0;font-size:13px}
.jp-RenderedHTMLCommon th,.jp-RenderedHTMLCommon td{border-bottom:1px solid #ddd;
padding:3px 10px;vertical-align:top}
.jp-RenderedHTMLCommon thead th{border-bottom:2px solid #999;text-align:left}
.jp-RenderedHTMLCommon tbody tr:nth-child(odd){background:#f6f6f6}
.jp-RenderedHTMLCommon td{text-align:right}
.jp-RenderedHTMLCommon code{background:#f2f2f2;padding:0 3px;border-radius:2px;font-size:90%}
.jp-RenderedMarkdown h1{font-size:1.6em;margin:.6em 0 .3em}
.jp-RenderedMarkdown h2{font-size:1.3em;margin:.8em 0 .3em;border-bottom:1px solid #eee}
img{max-width:100%;height:auto}
.ansi-red-fg{color:#b00020}.ansi-green-fg{color:#2b7a0b}.ansi-yellow-fg{color:#b26a00}
.ansi-blue-fg{color:#1e5aa8}.ansi-cyan-fg{color:#00838f}.ansi-bold{font-weight:bold}
@media print{main{max-width:none}}
"""
STATES = {0: "OK", 1: "FAILED", 2: "REFUSED", 3: "PROBLEM FOUND", 130: "INTERRUPTED"}
COLOURS = {0: "#2b7a0b", 1: "#b00020", 2: "#b26a00", 3: "#b00020", 130: "#b26a00"}
# Every code's meaning, apart from this run's and in small grey type: beside a green
# "exit 0" a bare "(3 problem found, 1 failed)" read like three problems and one failure.
EXIT_LEGEND = (
    '<div class="runbook-exit-legend" style="font-size:.8em;color:#777">exit codes: '
    "0 = OK, 3 = problem found, 1 = failed, 2 = refused, 130 = interrupted</div>"
)
HEADER_STYLE = (
    "border-left:8px solid {colour};padding:8px 16px;margin:0 0 16px 0;"
    "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;line-height:1.4"
)


def template_loader() -> Any:
    """The Jinja loader nbconvert's exporter gets as `extra_loaders`."""
    from jinja2 import DictLoader

    return DictLoader({TEMPLATE_FILE: TEMPLATE})


def target_of(nb: Any) -> dict[str, Any] | None:
    """What the notebook's banner recorded about its target (first banner shown)."""
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if TARGET_MIME in data:
                return dict(data[TARGET_MIME])
    return None


def target_label(target: dict[str, Any] | None) -> str:
    """`table T · key id=0 · sandbox at URL`, or why there is none."""
    if not target:
        return "target not resolved (the run stopped before its banner)"
    parts = [f"table {target.get('table')}"]
    if target.get("key"):
        parts.append(f"key {target['key']}")
    if target.get("where"):
        parts.append(str(target["where"]))
    return " · ".join(parts)


def title_of(nb: Any, name: str) -> str:
    """The notebook's own title (its first markdown heading), or its name."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            match = re.search(r"^#\s+(.+)$", "".join(cell.get("source", "")), re.M)
            if match:
                return match.group(1).strip()
            break
    return name


def header_html(
    *,
    name: str,
    title: str,
    target: str,
    verdict: str,
    exit_code: int,
    started: dt.datetime,
) -> str:
    """The block that opens the report: state and verdict, then what and when."""
    colour = COLOURS.get(exit_code, COLOURS[1])
    state = STATES.get(exit_code, "FAILED")
    when = started.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    esc = html.escape
    return (
        f'<header id="runbook-verdict" style="{HEADER_STYLE.format(colour=colour)}">'
        f'<div style="font-size:1.35em;color:{colour}"><b>{esc(state)}</b> · '
        f'<span class="runbook-verdict-line">{esc(verdict)}</span></div>'
        f'<div style="font-size:1.1em"><b>{esc(name)}</b> · {esc(title)}</div>'
        f"<div>{esc(target)}</div><div>run at {esc(when)} · exit {exit_code} "
        f"({esc(state)})</div>{EXIT_LEGEND}</header>"
    )


def page_title(name: str, target: dict[str, Any] | None, exit_code: int, verdict: str) -> str:
    """`02_status · T · PROBLEM FOUND: ...`: what a mail client shows as the page's name."""
    table = (target or {}).get("table") or "target not resolved"
    state = STATES.get(exit_code, "FAILED")
    return f"{name} · {table} · {state}: {verdict}"


def for_html(nb: Any, title: str) -> Any:
    """A copy of the executed notebook for the HTML: the recorded result left out (it is
    result.json) and the page titled."""
    shown = copy.deepcopy(nb)
    for cell in shown.get("cells", []):
        if cell.get("outputs"):
            cell["outputs"] = [
                o for o in cell["outputs"] if RESULT_MIME not in (o.get("data") or {})
            ]
    shown.setdefault("metadata", {})["title"] = title
    return shown
