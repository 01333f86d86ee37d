"""A small notebook for the runner's tests: it does one thing the test asks for (block
until interrupted, delete a bucket, fail) so the runner's handling is tested, not the
counter's. Written by the test into its own folder; the runner takes a path to an .ipynb."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat import v4

PARAMETERS = """\
action: str = "ok"  # ok | block | delete_bucket | fail
marker: str = ""  # a file this notebook writes its kernel's pid to when `block` starts
bucket: str = ""  # the bucket `delete_bucket` deletes
"""
STEP = """\
import os
import pathlib
import time

if action == "block":
    pathlib.Path(marker).write_text(str(os.getpid()))
    time.sleep(3600)  # until the test's SIGINT
if action == "delete_bucket":
    from runbook_lib import aws

    aws.client("s3").delete_bucket(Bucket=bucket)
if action == "fail":
    raise RuntimeError("the step failed on purpose")
"""
RECORD = """\
from runbook_lib.notebook.results import record_result

record_result({"message": f"step {action} done"});
"""


def write(folder: Path, name: str = "90_steps") -> Path:
    """The notebook, as NAME.ipynb in folder; returns its path."""
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# 90 · Runner test steps\nExplanatory text of the notebook."),
            v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
            v4.new_code_cell(STEP),
            v4.new_code_cell(RECORD),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return path
