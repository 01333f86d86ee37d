"""A module's configuration read outside Terraform (python-hcl2): its *.tf files parsed and
merged by block type, and the one evaluator of its values: variables the way Terraform picks
them (defaults, TF_VAR_*, tfvars), locals, and the small subset of HCL expressions a
counter's table and item use. What cannot be evaluated is said, never guessed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import TerraformError
from runbook_lib.tf.hcledit import parse_hcl, resource_blocks
from runbook_lib.tf.override import is_user_override
from runbook_lib.tf.stackmodel import TABLE_TYPE

_INTERP = re.compile(r"\$\{([^{}]*)\}")
_CALL = re.compile(r"^(\w+)\((.*)\)$", re.S)
_RESOURCE_REF = re.compile(rf"^{TABLE_TYPE}\.([A-Za-z_][\w-]*)\.(name|id|hash_key|range_key)$")

# --------------------------------------------------------------------------- reading


def tf_files(folder: Path) -> list[Path]:
    """The module's *.tf files, the user's own *_override.tf excluded."""
    return sorted(p for p in folder.glob("*.tf") if not is_user_override(p.name))


def read_docs(folder: Path) -> dict[Path, dict[str, Any]]:
    """Each *.tf file of the module, parsed (with line numbers)."""
    return {p: parse_hcl(p.read_text(), str(p)) for p in tf_files(folder)}


def merge_docs(docs: Mapping[Path, Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The module's blocks merged by top-level block type (pure)."""
    merged: dict[str, list[Any]] = {}
    for doc in docs.values():
        for kind, entries in doc.items():
            merged.setdefault(kind, []).extend(entries if isinstance(entries, list) else [])
    return merged


def load_config(src_dir: Path | None = None) -> dict[str, list[Any]]:
    """All *.tf in src_dir (default terraform/) parsed and merged by top-level block type."""
    src_dir = Path(src_dir) if src_dir else paths.terraform_dir()
    docs = read_docs(src_dir)
    if not docs:
        raise TerraformError(f"No *.tf files in {src_dir}.")
    return merge_docs(docs)


def variable_values(
    config: Mapping[str, list[Any]],
    src_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Variable values the way Terraform picks them: defaults < TF_VAR_* < terraform.tfvars
    < *.auto.tfvars < overrides."""
    import hcl2

    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for block in config.get("variable", []):
        for name, spec in block.items():
            values[name] = (spec or {}).get("default")
            if f"TF_VAR_{name}" in environ:
                values[name] = _coerce(environ[f"TF_VAR_{name}"], (spec or {}).get("type"))
    if src_dir is not None:
        for path in _tfvars_files(Path(src_dir)):
            with path.open() as fh:
                values.update(hcl2.load(fh))
    values.update(overrides or {})
    return values


def _tfvars_files(src_dir: Path) -> list[Path]:
    """Variable files Terraform loads automatically, in its precedence order."""
    files = [src_dir / "terraform.tfvars"] if (src_dir / "terraform.tfvars").is_file() else []
    return files + sorted(src_dir.glob("*.auto.tfvars"))


def _coerce(raw: str, type_expr: Any) -> Any:
    kind = str(type_expr or "string").strip("${}")
    if kind == "bool":
        return raw.strip().lower() == "true"
    if kind == "number":
        return float(raw) if "." in raw else int(raw)
    if kind == "string":
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def resolve(value: Any, variables: Mapping[str, Any], locals_: Mapping[str, Any]) -> Any:
    """Evaluate the small subset of HCL the table definition uses: literals, var.X,
    local.X, "${...}" templates, replace(), lower() and coalesce() (pure).

    Anything else raises TerraformError naming the expression, rather than guessing.
    """
    if not isinstance(value, str):
        return value
    whole = _INTERP.fullmatch(value)
    if whole:
        return _eval(whole.group(1).strip(), variables, locals_)
    return _INTERP.sub(lambda m: str(_eval(m.group(1).strip(), variables, locals_)), value)


def _eval(expr: str, variables: Mapping[str, Any], locals_: Mapping[str, Any]) -> Any:
    if len(expr) >= 2 and expr[0] == "(" and expr[-1] == ")":  # a parenthesised key: (var.k)
        return _eval(expr[1:-1].strip(), variables, locals_)
    if expr.startswith("var."):
        name = expr[4:]
        if name not in variables:
            raise TerraformError(f"Variable {name!r} is not declared.")
        return variables[name]
    if expr.startswith("local."):
        name = expr[6:]
        if name not in locals_:
            raise TerraformError(f"Local {name!r} is not defined.")
        return resolve(locals_[name], variables, locals_)
    if len(expr) >= 2 and expr[0] == expr[-1] == '"':
        return json.loads(expr)
    if expr in ("true", "false"):
        return expr == "true"
    if expr == "null":
        return None
    if re.fullmatch(r"-?\d+(\.\d+)?", expr):
        return json.loads(expr)
    call = _CALL.match(expr)
    if call:
        name, args = call.group(1), [_eval(a, variables, locals_) for a in _split_args(call[2])]
        if name == "replace" and len(args) == 3:
            return str(args[0]).replace(str(args[1]), str(args[2]))
        if name == "lower" and len(args) == 1:
            return str(args[0]).lower()
        if name == "tostring" and len(args) == 1:
            return str(args[0])
        if name == "tonumber" and len(args) == 1:
            return json.loads(str(args[0]))
        if name == "coalesce":
            return next((a for a in args if a not in (None, "")), None)
    raise TerraformError(f"Cannot evaluate the Terraform expression {expr!r} outside Terraform.")


def _split_args(text: str) -> list[str]:
    """Split function arguments on top-level commas (quotes and parentheses respected)."""
    args, depth, quoted, current = [], 0, False, ""
    for i, ch in enumerate(text):
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            args.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        args.append(current.strip())
    return args


# --------------------------------------------------------------------------- a module's scope


class Scope:
    """Variables, locals and the module's tables: enough to evaluate a counter's block."""

    def __init__(self, variables: dict[str, Any], locals_: dict[str, Any], tables: dict) -> None:
        self.variables, self.locals, self.tables = variables, locals_, tables

    def strict(self, value: Any) -> Any:
        """A value; TerraformError naming the expression when it cannot be evaluated."""
        return resolve(value, self.variables, self.locals)

    def ev(self, value: Any) -> Any:
        """A value, or None when it cannot be evaluated outside Terraform."""
        if not isinstance(value, str):
            return value
        ref = _RESOURCE_REF.match(value.strip().removeprefix("${").removesuffix("}"))
        if ref:
            body = self.tables.get(ref.group(1)) or {}
            return self.ev(body.get("name" if ref.group(2) == "id" else ref.group(2)))
        try:
            return self.strict(value)
        except TerraformError:
            return None

    def item(self, raw: Any) -> dict[str, Any] | None:
        """A configured `item` (JSON text, heredoc or jsonencode(...)) as a dict."""
        if isinstance(raw, dict):
            return raw
        if not isinstance(raw, str):
            return None
        text = raw.strip()
        if text.startswith("${jsonencode(") and text.endswith(")}"):
            text = text[len("${jsonencode(") : -2].replace('""${', '"${').replace('}""', '}"')
        failed = False

        def sub(match: re.Match[str]) -> str:
            nonlocal failed
            value = self.ev("${" + match.group(1) + "}")
            failed = failed or value is None
            return json.dumps(str(value))[1:-1]

        text = _INTERP.sub(sub, text)
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, dict) and not failed else None


def module_scope(
    merged: Mapping[str, list[Any]], folder: Path | None, inputs: Mapping[str, Any] | None = None
) -> Scope:
    """The scope of a module: the root (inputs None, its tfvars read from `folder`) or a
    child called with `inputs`."""
    try:
        variables = variable_values(merged, folder if inputs is None else None, inputs)
    except Exception:  # an unreadable tfvars file only costs us what it would have set
        variables = {}
    locals_: dict[str, Any] = {}
    for block in merged.get("locals", []):
        locals_.update(block)
    tables: dict[str, dict[str, Any]] = {}
    for block in merged.get("resource", []):
        tables.update(resource_blocks({"resource": [block]}, TABLE_TYPE))
    return Scope(variables, locals_, tables)
