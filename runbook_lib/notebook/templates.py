"""The committed notebooks are templates: their saved parameter defaults are the safe ones.

A notebook saved from an editor (JupyterLab's autosave, VS Code) keeps whatever was typed into
its parameters cell: `dry_run = False`, a `confirm`, a `new_value`. A plain `runbook run` of
that file would then write with no `-p` at all. So each template records its own defaults in
its metadata (`runbook.template_defaults`), and the runner refuses a notebook whose parameters
cell no longer matches them, before a kernel starts (exit 2).

The record sits in the notebook's metadata because an editor keeps metadata as it is while the
cell is edited, and the record travels with the notebook (a copy in the lab's working folder
is checked the same way). Two rules hold even for a notebook without a record: `dry_run` must
be True and `confirm` empty.

Imports stay light (json, ast): this runs on every `runbook run`.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

from runbook_lib.errors import InvalidInputError

META_KEY = "runbook"
DEFAULTS_KEY = "template_defaults"
# What makes a saved notebook write on a plain run, whatever its record says.
ALWAYS_SAFE: dict[str, Any] = {"dry_run": True, "confirm": ""}
_ABSENT = object()  # a parameter one side does not have


class UnsafeDefaultsError(InvalidInputError):
    """A notebook's saved parameters cell is not its template's: a plain run would not be
    the safe one. Nothing ran (exit 2)."""


def load(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def parameters_source(nb: dict[str, Any]) -> str | None:
    """The source of the cell tagged `parameters`, or None when there is none."""
    for cell in nb.get("cells", []):
        if "parameters" in (cell.get("metadata") or {}).get("tags", []):
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else str(source)
    return None


def saved_defaults(nb: dict[str, Any]) -> dict[str, Any]:
    """name -> value of every plain-literal assignment in the parameters cell.

    A value that is not a literal (an expression typed in the lab) is kept as its source
    text inside an `_Expression`, so it never equals a recorded literal."""
    source = parameters_source(nb)
    if source is None:
        return {}
    tree = ast.parse(source)  # a cell that does not parse fails the same way in papermill
    found: dict[str, Any] = {}
    targets: list[ast.expr]
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = _literal(value, source)
    return found


class _Expression(str):
    """A saved value that is code, not a literal: shown as written."""


def _literal(node: ast.expr, source: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return _Expression(ast.get_source_segment(source, node) or "?")


def template_defaults(nb: dict[str, Any]) -> dict[str, Any] | None:
    """The defaults the template was committed with; None for a notebook without a record."""
    record = (nb.get("metadata") or {}).get(META_KEY, {}).get(DEFAULTS_KEY)
    return dict(record) if isinstance(record, dict) else None


def unsafe_defaults(nb: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(name, saved value, template value) for every parameter saved unlike its template.

    A parameter the template does not have is listed with the template value `_ABSENT`."""
    saved = saved_defaults(nb)
    expected = template_defaults(nb)
    if expected is None:  # no record: only what makes a plain run write
        always = {k: v for k, v in ALWAYS_SAFE.items() if k in saved}
        return [(k, saved[k], v) for k, v in always.items() if not _same(saved, k, v)]
    differ = [(k, saved.get(k, _ABSENT), v) for k, v in expected.items() if not _same(saved, k, v)]
    differ += [(k, v, _ABSENT) for k, v in saved.items() if k not in expected]
    return differ


def _same(saved: dict[str, Any], name: str, value: Any) -> bool:
    if name not in saved:
        return False
    got = saved[name]
    # True == 1 in Python; a template's True is not a saved 1
    return type(got) is type(value) and got == value


def refuse_unsafe(path: Path, nb: dict[str, Any] | None = None) -> None:
    """Raise UnsafeDefaultsError naming the notebook, the first parameter and the fix (or
    the line where its parameters cell does not parse)."""
    nb = nb if nb is not None else load(path)
    shown = display_path(path)
    try:
        differ = unsafe_defaults(nb)
    except SyntaxError as exc:  # saved mid-edit (the lab's autosave): no run can start
        raise UnsafeDefaultsError(
            f"{shown}'s parameters cell does not parse (line {exc.lineno}: {exc.msg}), so no "
            "run of it can start. Nothing ran.",
            hint=(
                f"restore the template with `git checkout {shown}` and pass the values for "
                "one run instead (-p NAME VALUE); the lab edits copies, never notebooks/."
            ),
        ) from None
    if not differ:
        return
    name, saved, template = sorted(differ, key=_most_dangerous_first)[0]
    others = f" (and {len(differ) - 1} more)" if len(differ) > 1 else ""
    raise UnsafeDefaultsError(
        f"{shown} was saved with {_assignment(name, saved)} in its parameters cell, where the "
        f"template has {_assignment(name, template)}{others}: a plain run of it would not be "
        "the safe one. Nothing ran.",
        hint=(
            f"restore the template with `git checkout {shown}` and pass the value for one run "
            f"instead (-p {name} VALUE); the lab edits copies, never notebooks/."
        ),
    )


def _most_dangerous_first(entry: tuple[str, Any, Any]) -> int:
    order = ["dry_run", "confirm", "allow_decrease", "new_value"]
    return order.index(entry[0]) if entry[0] in order else len(order)


def _assignment(name: str, value: Any) -> str:
    if value is _ABSENT:
        return f"no `{name}`"
    text = str(value) if isinstance(value, _Expression) else repr(value)
    return f"`{name} = {text}`"


def display_path(path: Path) -> str:
    """notebooks/NAME.ipynb relative to the checkout when it is there; else the file name
    (a machine path never reaches a message)."""
    from runbook_lib import paths

    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(paths.project_root()).as_posix()
    except ValueError:
        return resolved.name


def stamp(path: Path) -> bool:
    """Record the parameters cell's current defaults as the template's (for a developer
    who changed a default on purpose). Returns whether the file changed."""
    nb = load(path)
    defaults = {k: v for k, v in saved_defaults(nb).items() if not isinstance(v, _Expression)}
    meta = nb.setdefault("metadata", {}).setdefault(META_KEY, {})
    if meta.get(DEFAULTS_KEY) == defaults:
        return False
    meta[DEFAULTS_KEY] = defaults
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    """`python -m runbook_lib.notebook.templates NOTEBOOK...`: stamp each template."""
    for name in argv:
        print(f"{name}: {'recorded' if stamp(Path(name)) else 'unchanged'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
