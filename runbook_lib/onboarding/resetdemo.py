"""The guide's reset reproduced live on the sandbox: the legacy stack (table + item, no
lifecycle) applied, visits counted, applied again: the count is back to 0. Its answer is
what `resetstory.ResetStory.from_dict` tells as a story."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runbook_lib import aws, paths
from runbook_lib.aws import counter, tables
from runbook_lib.errors import InvalidInputError, TerraformError
from runbook_lib.model import Target
from runbook_lib.tf.hcledit import ITEM_TYPE, locate_block
from runbook_lib.tf.lostanswer import apply_fresh_stack
from runbook_lib.tf.process import Stream
from runbook_lib.tf.workspace import Workspace, workspace

LEGACY_STACK = Path("tests") / "fixtures" / "legacy_stack"
LEGACY_TABLE_ADDRESS = "aws_dynamodb_table.API_table"  # in tests/fixtures/legacy_stack


def legacy_stack_dir() -> Path:
    """The guide's original configuration (table + item, no lifecycle), kept for tests and
    the reset demonstration."""
    folder = paths.project_root() / LEGACY_STACK
    if not folder.is_dir():
        raise TerraformError(f"The legacy stack {folder} is missing; restore it from git.")
    return folder


def copy_legacy_stack(dest: str | Path, *, bucket_name: str | None = None) -> Path:
    """A working copy of the legacy stack in dest (the fixture itself is never applied);
    bucket_name goes into terraform.auto.tfvars so copies get tables of their own."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(legacy_stack_dir().glob("*.tf")):
        shutil.copyfile(path, dest / path.name)
    if bucket_name:
        (dest / "terraform.auto.tfvars").write_text(f"bucket_name = {json.dumps(bucket_name)}\n")
    return dest


def demonstrate_reset(
    workdir: str | Path | None = None,
    *,
    visits: int = 3,
    stream: Stream | None = print,
    open_workspace: Callable[..., Workspace] = workspace,
) -> dict[str, Any]:
    """Reproduce the guide's reset live on the sandbox: apply the legacy stack (a copy, with
    a table of its own), count `visits` visits, apply again: the count is back to 0.

    workdir=None works in a temporary folder and leaves nothing behind (folder, shadow and
    demo table removed). A given (empty) workdir keeps the applied legacy stack there, so
    05_migrate can be tried on it. Sandbox only. Returns {"before", "after", "reset",
    "visits", "table", "peak", "count_after", "steps": [{title, output, count}], "note",
    "workdir", "cleanup", "live": True}. `open_workspace` makes the shadow workspace
    (tf.workspace.workspace; a test passes one whose terraform fails).
    """
    visits = _check_demo(visits)
    temporary = workdir is None
    folder = (
        Path(tempfile.mkdtemp(prefix="runbook-reset-demo-")) if workdir is None else Path(workdir)
    )
    if not temporary and folder.exists() and any(folder.iterdir()):
        raise InvalidInputError(f"workdir {folder} is not empty; pass a new or empty folder.")
    bucket = f"reset-demo-{uuid.uuid4().hex[:8]}.example.com"
    copy_legacy_stack(folder, bucket_name=bucket)
    target = Target(
        table=f"{bucket}-VisitorCount",
        endpoint=aws.endpoint_url(),
        region=aws.session().region_name,
    )
    lines: list[str] = []
    ws = open_workspace(folder, stream=_tee(lines, stream))
    steps = [_configuration_step(folder)]
    try:
        steps += _reset_steps(ws, target, visits, lines)
    finally:
        if temporary:
            ws.discard()
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(Exception):
                tables.delete_table(counter.dynamodb(target), target.table)
    return _answer(steps, target, visits, None if temporary else folder)


def _check_demo(visits: int) -> int:
    if not aws.is_sandbox():
        raise InvalidInputError(
            "demonstrate_reset applies a throwaway stack: it runs only against the local "
            f"sandbox, and AWS_ENDPOINT_URL is {aws.endpoint_url() or 'not set (real AWS)'}.",
            hint='runbook sandbox up && eval "$(runbook sandbox env)".',
        )
    visits = counter.validate_count(visits, "visits")
    if visits < 1:
        raise InvalidInputError("visits must be at least 1: the reset needs a count to lose.")
    return visits


def _quiet(_line: str) -> None:
    return None


def _tee(lines: list[str], stream: Stream | None) -> Callable[[str], None]:
    def tee(line: str) -> None:
        lines.append(line)
        if stream:
            stream(line)

    return tee


def _configuration_step(folder: Path) -> dict[str, Any]:
    item_block = (folder / "dynamodb.tf").read_text()
    start, end = locate_block(item_block, ITEM_TYPE, "visitor_count")
    return {
        "title": "The guide's configuration: the table AND its item in Terraform",
        "output": item_block[start:end],
        "count": None,
    }


def _reset_steps(
    ws: Workspace, target: Target, visits: int, lines: list[str]
) -> list[dict[str, Any]]:
    """Apply, `visits` visits, apply again: the steps with the count after each."""
    ws.sync()
    ws.init()
    lines.clear()
    # fresh names: a create whose answer the provider lost is the demo's own (tf.lostanswer)
    apply_fresh_stack(ws, {LEGACY_TABLE_ADDRESS: target.table}, log=ws.stream or _quiet)
    first = {
        "title": "terraform apply: the first deploy",
        "output": _apply_lines(lines),
        "count": counter.read_count_or_none(target),
    }
    for _ in range(visits):
        count = counter.increment(target)
    counted = {
        "title": f"{visits} visits: the Lambda's UpdateItem ADD viewCount :one",
        "output": f"viewCount = {count}",
        "count": count,
    }
    lines.clear()
    ws.apply()
    again = {
        "title": "terraform apply: the next deploy; the visits are gone",
        "output": _apply_lines(lines),
        "count": counter.read_count_or_none(target),
    }
    return [first, counted, again]


def _answer(
    steps: list[dict[str, Any]], target: Target, visits: int, kept: Path | None
) -> dict[str, Any]:
    count, after = steps[2]["count"], steps[3]["count"]
    cleanup = (
        "temporary folder, shadow workspace and demo table removed"
        if kept is None
        else f"{kept} keeps the applied legacy stack: try 05_migrate on it"
    )
    return {
        "live": True,
        "before": count,
        "after": after,
        "reset": after is not None and after < count,
        "visits": visits,
        "peak": count,
        "count_after": after,
        "table": target.table,
        "workdir": None if kept is None else str(kept),
        "steps": steps,
        "note": f"Live on the sandbox: the guide's configuration, {visits} visits, one more "
        f"apply; viewCount {count} -> {after}. ({cleanup}.)",
        "cleanup": cleanup,
    }


def _apply_lines(lines: Sequence[str]) -> str:
    keep = [ln for ln in lines if ITEM_TYPE in ln or ln.startswith("Apply complete")]
    return "\n".join(keep)
