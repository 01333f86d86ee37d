"""The executed notebook as one self-contained HTML page (nbconvert's lab template, report.py's
header and stylesheet).

Building the exporter and rendering a first notebook costs ~0.4 s (nbconvert's imports, the
Jinja template, the CSS it inlines); later renders take a few ms. So the runner builds it in
a thread (`warm_up`) while the kernel runs the cells, and `runbook demo` renders all its
notebooks with the one exporter.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from runbook_lib.notebook import headline, report


def render_html(nb: Any, *, hide_code: bool = False, header: str = "", title: str = "") -> str:
    """Self-contained HTML from the in-memory notebook: images are embedded as data URIs,
    CSS is inlined and no script comes from the network, so the file can be e-mailed as
    it is. `header` (report.header_html) opens the body; `title` names the page."""
    shown = report.for_html(nb, title or nb.get("metadata", {}).get("title", ""))
    body, _ = html_exporter(hide_code).from_notebook_node(
        shown, resources={"runbook_header": header, "runbook_css": report.CSS}
    )
    return body


@functools.cache
def html_exporter(hide_code: bool = False) -> Any:
    """The nbconvert "lab" HTML exporter, built once per process and warmed up."""
    from nbconvert import HTMLExporter
    from nbformat import v4

    # the lab template with its CDN scripts left out and the verdict header (report.py)
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[report.template_loader()],
        template_file=report.TEMPLATE_FILE,
    )
    exporter.exclude_input = hide_code
    exporter.exclude_input_prompt = hide_code
    exporter.exclude_output_prompt = hide_code
    warm_up = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# warm-up\n*compiles* the template"),
            v4.new_code_cell(
                "1",
                outputs=[
                    v4.new_output("stream", text="1"),
                    v4.new_output("display_data", data={"text/html": "<b>1</b>"}),
                ],
            ),
        ],
        metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}},
    )
    exporter.from_notebook_node(warm_up)
    return exporter


def warm_up(hide_code: bool) -> Future:
    """Build (and warm up) the exporter in a daemon thread; wait on the Future before
    rendering."""
    return _in_thread(lambda: html_exporter(hide_code))


def _in_thread(fn: Callable[[], Any]) -> Future:
    """Run fn in a daemon thread; its Future gives the result (or re-raises its error)."""
    future: Future = Future()

    def work() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=work, name="runbook-html-warm-up", daemon=True).start()
    return future


def report_html(
    nb: Any,
    name: str,
    *,
    hide_code: bool,
    started_at: dt.datetime,
    result: dict[str, Any] | None,
    exit_code: int,
    error: str | None,
    failed_cell: int | None,
) -> str:
    """The report page: the verdict header and <title> (report.py) over the notebook."""
    target = report.target_of(nb)
    verdict = headline.verdict_of(result, exit_code, error, failed_cell)
    header = report.header_html(
        name=name,
        title=report.title_of(nb, name),
        target=report.target_label(target),
        verdict=verdict,
        exit_code=exit_code,
        started=started_at,
    )
    return render_html(
        nb,
        hide_code=hide_code,
        header=header,
        title=report.page_title(name, target, exit_code, verdict),
    )
