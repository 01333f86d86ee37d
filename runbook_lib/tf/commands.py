"""Terraform commands run in a working directory: init, converge (plan, apply only if
needed), and the JSON documents Terraform prints (outputs, state)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.tf.process import Stream, error_tail, run
from runbook_lib.tf.state import unwrap_outputs
from runbook_lib.tf.varfiles import var_file_args

# The commands that read the stack's variables, so take `-var-file`. init, show, state and
# output do not (Terraform refuses the flag there).
VAR_FILE_COMMANDS = frozenset({"plan", "apply", "destroy", "import", "refresh", "console"})


def with_var_files(args: Sequence[str], files: Sequence[Path]) -> list[str]:
    """`terraform ARGS` with `-var-file=` for each of `files` where the command takes it;
    an apply of a saved plan (its last argument a file) gets none: the plan holds its
    variables (pure)."""
    args = list(args)
    if not files or not args or args[0] not in VAR_FILE_COMMANDS:
        return args
    if args[0] == "apply" and len(args) > 1 and not args[-1].startswith("-"):
        return args
    return [args[0], *var_file_args(tuple(files)), *args[1:]]


def init(dir: Path, *, env: Mapping[str, str] | None = None, stream: Stream | None = None) -> None:
    """`terraform init`: providers from the mirror (or registry), local or configured backend."""
    run(["init", "-input=false", "-no-color"], dir, env=env, stream=stream)


def converge(
    dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    stream: Stream | None = None,
    var_files: Sequence[Path] = (),
) -> bool:
    """Plan, and apply that saved plan only if it has changes; True if it applied.

    Same result as `apply -auto-approve`, but a no-change run starts the (large) AWS
    provider once instead of twice, which roughly halves a warm sandbox apply.
    """
    with tempfile.TemporaryDirectory(prefix="runbook-plan-") as tmp:
        plan_file = Path(tmp) / "runbook.tfplan"
        plan = ["plan", "-detailed-exitcode", "-input=false", "-no-color", f"-out={plan_file}"]
        proc = run(
            with_var_files(plan, var_files),
            dir,
            env=env,
            stream=stream,
            ok_codes=(0, 2),
        )
        if proc.returncode == 0:
            return False
        run(["apply", "-input=false", "-no-color", str(plan_file)], dir, env=env, stream=stream)
    return True


def output_json(dir: Path, *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The stack's outputs, values unwrapped; {} when nothing is applied yet."""
    proc = run(["output", "-json", "-no-color"], dir, env=env)
    return unwrap_outputs(_parse_json(proc.stdout, "terraform output -json"))


def show_json(dir: Path, *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`terraform show -json` of the current state."""
    proc = run(["show", "-json", "-no-color"], dir, env=env)
    return _parse_json(proc.stdout, "terraform show -json")


def _parse_json(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError as exc:
        raise TerraformError(f"{what} did not print JSON: {error_tail(text, 5)}") from exc
    if not isinstance(data, dict):
        raise TerraformError(f"{what} printed {type(data).__name__}, not an object.")
    return data
