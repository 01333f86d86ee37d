"""`guard-plan`'s input: a saved plan (read with `terraform show -json` in its initialised
working directory) or that JSON already; anything else is refused as not a plan (exit 2),
and a saved plan Terraform cannot read is exit 1 with Terraform's reason."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runbook_lib.errors import InvalidInputError, TerraformError
from runbook_lib.tf.environment import terraform_env
from runbook_lib.tf.planrules import is_plan_json
from runbook_lib.tf.process import error_tail, run


def _not_a_plan(plan: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"{plan} is not a Terraform plan: {why}.",
        hint="pass the file of `terraform plan -out tfplan`, or its JSON "
        "(`terraform show -json tfplan > plan.json`).",
    )


def load_plan(
    plan: str | Path, *, chdir: str | Path | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The plan's JSON document: read from a JSON file, or from a saved plan through
    `terraform show -json` run in `chdir` (default: the plan's folder)."""
    path, shown = Path(plan), str(plan)
    if not path.is_file():
        raise InvalidInputError(f"{shown}: no such file.", hint="pass the plan file's path.")
    if zipfile.is_zipfile(path):  # a saved plan is a zip archive holding "tfplan"
        with zipfile.ZipFile(path) as archive:
            if "tfplan" not in archive.namelist():
                raise _not_a_plan(shown, "a zip archive without a tfplan entry")
        return _show_saved(path, shown, Path(chdir) if chdir else path.parent, env)
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _not_a_plan(shown, "neither a saved plan nor JSON") from None
    if not is_plan_json(doc):
        raise _not_a_plan(shown, "JSON without format_version and resource_changes")
    return doc


def _show_saved(
    path: Path, shown: str, folder: Path, env: Mapping[str, str] | None
) -> dict[str, Any]:
    if not folder.is_dir():
        raise InvalidInputError(f"--chdir {folder}: not a folder.", hint="pass the plan's stack.")
    args = ["show", "-json", "-no-color", str(path.resolve())]
    proc = run(args, folder, env=terraform_env(env), ok_codes=tuple(range(256)))
    if proc.returncode != 0:
        said = " ".join(error_tail(proc.stderr or proc.stdout or "", 3).split())
        raise TerraformError(
            f"terraform show -json could not read {shown}: {said.rstrip('.')}.",
            hint="run guard-plan in the plan's initialised working directory (or give it as "
            "--chdir DIR, after `terraform init`), or pass `terraform show -json` output.",
        )
    try:
        doc = json.loads(proc.stdout or "")
    except ValueError:
        raise _not_a_plan(shown, "terraform show -json printed no JSON for it") from None
    if not is_plan_json(doc):
        raise _not_a_plan(shown, "terraform show reads it as a state, not a plan")
    return doc
