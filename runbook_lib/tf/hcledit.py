"""Text edits of Terraform files that take an aws_dynamodb_table_item out of Terraform's hands.

The edits work on the file's text, not a re-rendered parse tree, so everything around the
block (comments, layout, other resources) stays byte for byte: a block is located by a
small scanner that knows HCL's strings, comments and heredocs, python-hcl2 confirms that
what was found is the resource. migrate then parses each edited file again before using it
(its `_verify_edit`).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runbook_lib.errors import TerraformError

ITEM_TYPE = "aws_dynamodb_table_item"
MARK = "counter-runbook 05_migrate"
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][\w-]*)[ \t]*\r?\n")


def _walk(text: str, start: int) -> Iterable[tuple[int, str, int]]:
    """(index, char, depth) for every structural character of HCL source from `start`,
    skipping comments, quoted strings (with `${...}` templates inside, nested at will) and
    heredocs. depth counts the braces opened since `start` (pure)."""
    stack: list[str] = []  # "{" brace, "${" template interpolation, '"' string
    i, n = start, len(text)
    while i < n:
        top = stack[-1] if stack else None
        ch = text[i]
        if top == '"':
            if ch == "\\":
                i += 2
            elif ch == '"':
                stack.pop()
                i += 1
            elif text.startswith(("$${", "%%{"), i):
                i += 3
            elif text.startswith(("${", "%{"), i):
                stack.append("${")
                i += 2
            else:
                i += 1
            continue
        if ch == '"':
            stack.append('"')
            i += 1
        elif ch == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif text.startswith("<<", i) and (m := _HEREDOC.match(text, i)):
            closing = re.compile(rf"^[ \t]*{re.escape(m.group(2))}[ \t]*\r?$", re.M)
            found = closing.search(text, m.end())
            i = n if found is None else found.end()
        else:
            depth = sum(1 for s in stack if s == "{")
            if ch == "{":
                stack.append("{")
            elif ch == "}":
                if stack:
                    stack.pop()
                depth = sum(1 for s in stack if s == "{")
            yield i, ch, depth
            i += 1


def block_end(text: str, open_brace: int) -> int:
    """The index just past the `}` that closes the `{` at open_brace (pure)."""
    if text[open_brace] != "{":
        raise ValueError(f"no '{{' at offset {open_brace}")
    for i, ch, depth in _walk(text, open_brace):
        if ch == "}" and depth == 0:
            return i + 1
    raise TerraformError("Unbalanced braces: the block never closes.")


def _line_offset(text: str, line: int) -> int:
    """Offset of the first character of 1-based `line`."""
    offset = 0
    for _ in range(line - 1):
        nxt = text.find("\n", offset)
        if nxt < 0:
            raise TerraformError(f"Line {line} is past the end of the file.")
        offset = nxt + 1
    return offset


def parse_hcl(text: str, where: str) -> dict[str, Any]:
    import hcl2

    try:
        return hcl2.loads(text, with_meta=True)
    except Exception as exc:  # lark raises many types; all mean "cannot parse"
        raise TerraformError(f"Cannot parse {where} as HCL: {exc}") from exc


def resource_blocks(doc: Mapping[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {
        name: body
        for block in doc.get("resource", [])
        for name, body in (block.get(rtype) or {}).items()
    }


def locate_block(text: str, rtype: str, name: str, where: str = "the file") -> tuple[int, int]:
    """(start, end) offsets of `resource "rtype" "name" { ... }` in text (pure).

    python-hcl2 says on which line the block starts and ends; brace matching on the source
    text finds the exact characters, and the two must agree, or we refuse to edit.
    """
    body = resource_blocks(parse_hcl(text, where), rtype).get(name)
    if body is None:
        raise TerraformError(f'No resource "{rtype}" "{name}" in {where}.')
    start = _line_offset(text, body["__start_line__"])
    header = re.compile(rf'[ \t]*resource\s+"?{re.escape(rtype)}"?\s+"?{re.escape(name)}"?\s*\{{')
    m = header.match(text, start)
    if m is None:
        raise TerraformError(
            f"{rtype}.{name} in {where}: the block does not start where HCL says (line "
            f"{body['__start_line__']}); edit it by hand."
        )
    start += len(m.group(0)) - len(m.group(0).lstrip())
    end = block_end(text, m.end() - 1)
    if text.count("\n", 0, end - 1) + 1 != body["__end_line__"]:
        raise TerraformError(
            f"{rtype}.{name} in {where}: brace matching and the HCL parser disagree on where "
            "the block ends; edit it by hand."
        )
    return start, end


def removed_block(resource: str, indent: str = "") -> str:
    """The `removed` block that forgets `resource` without destroying it (pure)."""
    lines = [
        f"# {MARK}: Terraform no longer manages",
        f"# {resource}, which wrote its configured count back on",
        "# every apply. `removed` forgets the item without deleting it; the Lambda and 01_init",
        "# (create-if-missing) own it now. Keep this block until every state has been applied.",
        "removed {",
        f"  from = {resource}",
        "",
        "  lifecycle {",
        "    destroy = false",
        "  }",
        "}",
    ]
    return "\n".join(f"{indent}{line}" if line else "" for line in lines)


def replace_with_removed(text: str, name: str, where: str = "the file") -> str:
    """The resource block replaced by its `removed` block; the rest byte-identical (pure)."""
    start, end = locate_block(text, ITEM_TYPE, name, where)
    indent = text[_line_start(text, start) : start]
    block = removed_block(f"{ITEM_TYPE}.{name}", indent)[len(indent) :]
    return text[:start] + block + text[end:]


def remove_resource(
    text: str, name: str, where: str = "the file", how: str = "terraform state rm"
) -> str:
    """The resource block replaced by a two-line note saying `how` Terraform forgot it
    (state_rm, or a `removed` block in the root module); the rest byte-identical (pure)."""
    start, end = locate_block(text, ITEM_TYPE, name, where)
    indent = text[_line_start(text, start) : start]
    note = (
        f"# {ITEM_TYPE}.{name}: taken out of Terraform by 05_migrate\n"
        f"{indent}# ({how}). The item lives on; the Lambda and 01_init own it now.\n"
    ).rstrip("\n")
    return text[:start] + note + text[end:]


def add_ignore_changes(text: str, name: str, where: str = "the file") -> str:
    """`lifecycle { ignore_changes = [item] }` added to the resource block, into an existing
    lifecycle block or list when there is one; the rest byte-identical (pure)."""
    start, end = locate_block(text, ITEM_TYPE, name, where)
    open_brace = text.index("{", start)
    indent = text[_line_start(text, start) : start]
    inner = indent + "  "
    lifecycle = _nested_block(text, open_brace, end, "lifecycle")
    if lifecycle is None:
        close = end - 1
        line_start = _line_start(text, close)
        insert = (
            f"\n{inner}# {MARK}: never write the item back (the Lambda owns the count).\n"
            f"{inner}lifecycle {{\n{inner}  ignore_changes = [item]\n{inner}}}\n"
        )
        if text[line_start:close].strip():  # `}` shares its line: put it on its own
            return text[:close] + "\n" + insert + indent + text[close:]
        return text[:line_start] + insert + text[line_start:]
    lc_open, lc_end = lifecycle
    attr = _attribute_value(text, lc_open, lc_end, "ignore_changes")
    if attr is None:
        eol = text.find("\n", lc_open)
        if eol < 0 or eol > lc_end:
            raise TerraformError(
                f"{ITEM_TYPE}.{name} in {where}: a one-line lifecycle block; edit it by hand."
            )
        entry = f"{inner}  ignore_changes = [item] # {MARK}\n"
        return text[: eol + 1] + entry + text[eol + 1 :]
    v_start, v_end = attr
    value = text[v_start:v_end]
    if not value.startswith("["):
        raise TerraformError(
            f"{ITEM_TYPE}.{name} in {where}: ignore_changes = {value.strip()} is not a list; "
            "edit it by hand."
        )
    body = value[1:-1].rstrip()
    if body.rstrip(", \t\n"):
        new = "[" + body.rstrip(", \t") + ", item" + value[1 + len(body) :]
    else:
        new = "[item]"
    return text[:v_start] + new + text[v_end:]


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _nested_block(text: str, open_brace: int, end: int, name: str) -> tuple[int, int] | None:
    """(open brace, end) of the first `name { ... }` directly inside the block."""
    pattern = re.compile(rf"(?<![\w.-]){re.escape(name)}\s*\{{")
    for i, ch, depth in _walk(text, open_brace):
        if i >= end:
            break
        if depth == 1 and ch == "{" and i > open_brace:
            m = pattern.search(text, _line_start(text, i), i + 1)
            if m and m.end() - 1 == i:
                return i, block_end(text, i)
    return None


def _attribute_value(text: str, open_brace: int, end: int, name: str) -> tuple[int, int] | None:
    """(start, end) of the value of `name = value` directly inside the block at open_brace."""
    inner_start = open_brace + 1
    assign = re.compile(rf"^[ \t]*{re.escape(name)}[ \t]*=[ \t]*", re.M)
    m = assign.search(text, inner_start, end)
    if m is None:
        return None
    v_start = m.end()
    if text[v_start] == "[":
        depth = 0
        for i in range(v_start, end):
            depth += {"[": 1, "]": -1}.get(text[i], 0)
            if depth == 0:
                return v_start, i + 1
    eol = text.find("\n", v_start)
    return v_start, eol if eol >= 0 else end


def unified_diff(originals: Mapping[str, str], files: Mapping[str, str], root: Path) -> str:
    """One unified diff over every changed file, paths relative to root (pure)."""
    out: list[str] = []
    for path in sorted(files):
        rel = relative_path(path, root)
        out.extend(
            difflib.unified_diff(
                originals.get(path, "").splitlines(keepends=True),
                files[path].splitlines(keepends=True),
                fromfile=f"a/{rel}",
                tofile=f"b/{rel}",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def relative_path(path: str | Path, root: Path) -> str:
    """path as seen from root: `main.tf`, or `../../modules/db/main.tf` for a module file
    outside the folder (the stack is run from `environments/dev`)."""
    return os.path.relpath(Path(path).resolve(), Path(root).resolve())
