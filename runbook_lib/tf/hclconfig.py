"""A module's configuration read outside Terraform (python-hcl2): its *.tf files parsed and
merged by block type, and the one evaluator of its values: variables the way Terraform picks
them (defaults, TF_VAR_*, tfvars), locals, and the small subset of HCL expressions a
counter's table and item use. What cannot be evaluated is said, never guessed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError, TerraformError
from runbook_lib.tf.hcledit import parse_hcl, resource_blocks
from runbook_lib.tf.hcleval import Env, evaluate, is_meta
from runbook_lib.tf.hclexpr import cannot
from runbook_lib.tf.override import is_user_override
from runbook_lib.tf.stackmodel import TABLE_TYPE

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
    var_files: Sequence[Path] = (),
    sources: dict[str, str] | None = None,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """Variable values the way Terraform picks them for the root module: defaults <
    TF_VAR_* < terraform.tfvars < *.auto.tfvars < each -var-file in order < overrides.
    `sources`, when given, is filled with where each value came from ("default",
    "TF_VAR_x", the file's name, "module input"). A var file the user named that cannot
    be read is bad input; an automatic one is skipped with a line in `notes` (raised
    when there are no notes to say it in)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    where: dict[str, str] = {}
    for block in config.get("variable", []):
        for name, spec in block.items():
            if is_meta(name):
                continue
            values[name], where[name] = (spec or {}).get("default"), "default"
            if f"TF_VAR_{name}" in environ:
                values[name] = _coerce(environ[f"TF_VAR_{name}"], (spec or {}).get("type"))
                where[name] = f"TF_VAR_{name}"
    files = [*(_tfvars_files(Path(src_dir)) if src_dir is not None else []), *var_files]
    for path in map(Path, files):
        try:
            loaded = read_tfvars(path)
        except Exception as exc:  # lark and json raise many types; all mean "unreadable"
            why = f"{path.name} cannot be read as a .tfvars file: {str(exc).splitlines()[0]}"
            if path in map(Path, var_files):
                raise InvalidInputError(
                    f"var_files: {why}.", hint="pass Terraform -var-file files."
                ) from exc
            if notes is None:
                raise TerraformError(f"{why}.") from exc
            notes.append(f"{why}: its values were not read")
            continue
        for name, value in loaded.items():
            values[name], where[name] = value, path.name
    for name, value in (overrides or {}).items():
        values[name], where[name] = value, "module input"
    if sources is not None:
        sources.update(where)
    return values


def read_tfvars(path: Path) -> dict[str, Any]:
    """A .tfvars (HCL) or .tfvars.json file's assignments."""
    import hcl2

    text = path.read_text()
    loaded = json.loads(text) if path.name.endswith(".json") else hcl2.loads(text)
    return {k: v for k, v in loaded.items() if not is_meta(k)}


def _tfvars_files(src_dir: Path) -> list[Path]:
    """Variable files Terraform loads automatically, in its precedence order."""
    files = [src_dir / n for n in ("terraform.tfvars", "terraform.tfvars.json")]
    auto = sorted([*src_dir.glob("*.auto.tfvars"), *src_dir.glob("*.auto.tfvars.json")])
    return [p for p in files if p.is_file()] + auto


def _coerce(raw: str, type_expr: Any) -> Any:
    """A TF_VAR_ value as Terraform reads it: a string, unless the variable's type says
    otherwise (numbers, bools, and lists, sets, maps and objects in HCL syntax)."""
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
        pass
    try:
        import hcl2

        return evaluate(hcl2.loads(f"v = {raw}\n").get("v"), Env({}, {}))
    except Exception:  # not HCL either: Terraform would refuse it; keep the text
        return raw


def resolve(
    value: Any,
    variables: Mapping[str, Any],
    locals_: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> Any:
    """Evaluate a value as python-hcl2 gives it (see hcleval): literals, var.X, local.X,
    each.*, count.index, templates, conditionals and common functions (pure).

    Anything else raises TerraformError naming the expression, rather than guessing.
    """
    return evaluate(value, Env(variables, locals_, extra or {}))


# --------------------------------------------------------------------------- a module's scope


class Scope:
    """Variables, locals and the module's tables: enough to evaluate a counter's block.
    `extra` holds an instance's each/count; `var_sources` where each variable came from."""

    def __init__(
        self,
        variables: dict[str, Any],
        locals_: dict[str, Any],
        tables: dict,
        *,
        extra: Mapping[str, Any] | None = None,
        var_sources: dict[str, str] | None = None,
    ) -> None:
        self.variables, self.locals, self.tables = variables, locals_, tables
        self.extra = dict(extra or {})
        self.var_sources = var_sources or {}
        self.notes: list[str] = []

    def instance(self, **extra: Any) -> Scope:
        """The same scope for one instance: each={"key", "value"} or count={"index"}."""
        scope = Scope(self.variables, self.locals, self.tables, extra=extra)
        scope.var_sources, scope.notes = self.var_sources, self.notes
        return scope

    def env(self) -> Env:
        return Env(self.variables, self.locals, self.extra, self._refs)

    def _refs(self, root: str, keys: list[Any]) -> Any:
        """aws_dynamodb_table.NAME.name (or id, hash_key, range_key): the module's own
        table's value; any other resource's attribute is known only to Terraform."""
        if root == TABLE_TYPE and len(keys) == 3 and not isinstance(keys[1], str):
            keys = [keys[0], keys[2]]  # aws_dynamodb_table.t[0].name: every instance alike
        if root == TABLE_TYPE and len(keys) == 2 and keys[0] in self.tables:
            attr = {"id": "name", "arn": None}.get(keys[1], keys[1])
            if attr in ("name", "hash_key", "range_key"):
                body = self.tables[keys[0]]
                return evaluate(body.get(attr), Env(self.variables, self.locals, {}, self._refs))
        raise cannot(".".join([root, *map(str, keys)]), "known to Terraform only")

    def strict(self, value: Any) -> Any:
        """A value; TerraformError naming the expression when it cannot be evaluated."""
        return evaluate(value, self.env())

    def ev(self, value: Any) -> Any:
        """A value, or None when it cannot be evaluated outside Terraform."""
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
        value = self.ev(raw)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        return value if isinstance(value, dict) else None


def module_scope(
    merged: Mapping[str, list[Any]],
    folder: Path | None,
    inputs: Mapping[str, Any] | None = None,
    var_files: Sequence[Path] = (),
) -> Scope:
    """The scope of a module: the root (inputs None: its tfvars read from `folder`, the
    -var-file files, TF_VAR_*) or a child called with `inputs` (no TF_VAR_*: Terraform
    gives those to the root module only)."""
    sources: dict[str, str] = {}
    notes: list[str] = []
    root = inputs is None
    variables = variable_values(
        merged,
        folder if root else None,
        inputs,
        environ=None if root else {},
        var_files=var_files if root else (),
        sources=sources,
        notes=notes,
    )
    locals_: dict[str, Any] = {}
    for block in merged.get("locals", []):
        locals_.update({k: v for k, v in block.items() if not is_meta(k)})
    tables: dict[str, dict[str, Any]] = {}
    for block in merged.get("resource", []):
        tables.update(resource_blocks({"resource": [block]}, TABLE_TYPE))
    scope = Scope(variables, locals_, tables, var_sources=sources)
    scope.notes.extend(notes)
    return scope
