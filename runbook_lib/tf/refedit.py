"""Text edits that take a reference to a removed table item out of a Terraform file: an
output block goes, a `locals` entry goes, a `depends_on` entry is dropped (the attribute
with it when the list ends up empty). Like hcledit's edits they work on the source text,
so everything around stays byte for byte; python-hcl2 tells where each block starts and
ends, the scanner of hcledit finds the exact characters, and the two must agree (pure).
`apply` makes every removal a `references.ReferencePlan` holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial

from runbook_lib.errors import TerraformError
from runbook_lib.tf.hcledit import _line_offset, _line_start, _walk, block_end
from runbook_lib.tf.references import Read, ReferencePlan, Use

_ATTRIBUTE = re.compile(r"([A-Za-z_][\w-]*)[ \t]*=(?!=)[ \t]*")
_OPEN = {"(": 1, "[": 1, ")": -1, "]": -1}


def block_span(text: str, kind: str, start_line: int, end_line: int, where: str) -> tuple[int, int]:
    """(start, end) offsets of the top-level `kind ... { ... }` block python-hcl2 puts on
    lines start_line..end_line: start at its keyword, end just past its `}`."""
    offset = _line_offset(text, start_line)
    header = re.compile(rf'[ \t]*{re.escape(kind)}(?:[ \t]+(?:"[^"\n]*"|[\w-]+))*[ \t]*\{{')
    m = header.match(text, offset)
    if m is None:
        raise TerraformError(
            f"{where}:{start_line}: the {kind} block does not start where HCL says; "
            "edit it by hand."
        )
    end = block_end(text, m.end() - 1)
    if text.count("\n", 0, end - 1) + 1 != end_line:
        raise TerraformError(
            f"{where}:{start_line}: brace matching and the HCL parser disagree on where the "
            f"{kind} block ends; edit it by hand."
        )
    return offset + len(m.group(0)) - len(m.group(0).lstrip()), end


def attributes(text: str, open_brace: int) -> dict[str, tuple[int, int, int]]:
    """{name: (name start, value start, value end)} of the attributes directly inside the
    block whose `{` is at open_brace (nested blocks and the values' insides skipped). A
    value ends at the first newline outside brackets, braces, strings and heredocs, or at
    the block's own `}` (a one-line block); a comment after it is part of its line."""
    found: dict[str, tuple[int, int, int]] = {}
    parens, current = 0, None
    for i, ch, depth in _walk(text, open_brace):
        parens += _OPEN.get(ch, 0)
        if ch == "}" and depth == 0:
            if current is not None:
                found[current[0]] = (current[1], current[2], i)
            break
        if current is not None:
            if ch == "\n" and depth == 1 and parens == 0:
                found[current[0]] = (current[1], current[2], i)
                current = None
            continue
        if depth != 1 or parens != 0 or ch in " \t\n{":
            continue
        before = text[_line_start(text, i) : i].strip()
        m = _ATTRIBUTE.match(text, i)
        if m and (not before or before.endswith("{")):
            current = (m.group(1), i, m.end())
    return found


def remove_text(text: str, start: int, end: int, note: str = "") -> str:
    """text[start:end] taken out: whole lines when nothing else shares them (replaced by
    `note`, a comment, at the same indent), else just the span."""
    line_start = _line_start(text, start)
    eol = text.find("\n", end)
    eol = len(text) if eol < 0 else eol
    if text[line_start:start].strip() or text[end:eol].strip():
        return text[:start] + text[end:]
    indent = text[line_start:start]
    comment = f"{indent}# {note}" if note else ""
    if comment:
        return text[:line_start] + comment + text[eol:]
    return text[:line_start] + text[min(eol + 1, len(text)) :]


def list_entries(text: str, start: int) -> tuple[list[tuple[int, int]], int]:
    """(start, end) of each entry of the list literal at text[start] (`[a, b]`), and the
    offset just past its `]`."""
    if text[start] != "[":
        raise TerraformError("depends_on is not a list literal; edit it by hand.")
    entries, parens, first = [], 0, start + 1
    for i, ch, _depth in _walk(text, start):
        parens += _OPEN.get(ch, 0)
        if (ch == "," and parens == 1) or (ch == "]" and parens == 0):
            piece = text[first:i]
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                entries.append((first + lead, first + len(piece.rstrip())))
            first = i + 1
            if ch == "]":
                return entries, i + 1
    raise TerraformError("depends_on: the list never closes; edit it by hand.")


def drop_entries(text: str, start: int, drop: Callable[[str], bool]) -> tuple[str, bool] | None:
    """The text with the entries `drop` picks taken out of the list at text[start], and
    whether the list is empty now (then the text is unchanged: the caller drops the whole
    attribute); None when no entry is dropped. An entry alone on its line goes with its
    line; otherwise the list is written again on one line."""
    entries, end = list_entries(text, start)
    gone = [(s, e) for s, e in entries if drop(text[s:e])]
    if not gone:
        return None
    kept = [text[s:e] for s, e in entries if (s, e) not in gone]
    if not kept:
        return text, True
    if "\n" in text[start:end] and all(_alone_on_line(text, s, e) for s, e in gone):
        for s, e in sorted(gone, reverse=True):
            line_start, eol = _line_start(text, s), text.find("\n", e)
            text = text[:line_start] + text[eol + 1 :]
        return text, False
    return text[:start] + "[" + ", ".join(kept) + "]" + text[end:], False


def _alone_on_line(text: str, start: int, end: int) -> bool:
    eol = text.find("\n", end)
    rest = text[end : eol if eol >= 0 else len(text)].strip()
    return not text[_line_start(text, start) : start].strip() and rest in ("", ",")


def apply(plan: ReferencePlan, read: Read) -> dict[str, str]:
    """{file: new text} with every removal of the plan made (pure given `read`). A block's
    edits are made together, and blocks from the bottom of the file up, so the lines
    python-hcl2 gave for the blocks above stay true."""
    out: dict[str, str] = {}
    by_block: dict[tuple[str, tuple[str, int, int]], list[Use]] = {}
    for use in plan.removals:
        by_block.setdefault((use.file, use.block), []).append(use)
    for (file, block), uses in sorted(by_block.items(), key=lambda kv: -kv[0][1][1]):
        out[file] = _edit_block(out.get(file, read(file)), file, block, uses)
    return out


def _matches_any(patterns: Iterable[str], entry: str) -> bool:
    return any(re.search(p, entry) for p in patterns)


def _edit_block(text: str, file: str, block: tuple[str, int, int], uses: list[Use]) -> str:
    kind, first, last = block
    start, end = block_span(text, kind, first, last, file)
    output = next((u for u in uses if u.kind == "output"), None)
    if output is not None:
        u = output
        note = f'output "{u.name}" removed by 05_migrate: it exposed {u.symbol.spelling}.'
        return remove_text(text, start, end, note)
    attrs = attributes(text, text.index("{", start))
    missing = [_attr(u) for u in uses if _attr(u) not in attrs]
    if missing:
        raise TerraformError(
            f"{file}:{first}: cannot find {', '.join(missing)} in the {kind} block's text; "
            "edit it by hand. Nothing was written."
        )
    for u in sorted(uses, key=lambda u: -attrs[_attr(u)][0]):
        name_at, value_at, value_end = attrs[_attr(u)]
        if u.kind == "local":
            note = f"local.{u.name} removed by 05_migrate: it read {u.symbol.spelling}."
            text = remove_text(text, name_at, value_end, note)
            continue
        dropped = drop_entries(text, value_at, partial(_matches_any, u.drops))
        if dropped is None:
            continue
        text, empty = dropped
        if empty:
            note = f"depends_on {u.symbol.spelling} dropped by 05_migrate."
            text = remove_text(text, name_at, value_end, note)
    return text


def _attr(use: Use) -> str:
    return use.name if use.kind == "local" else "depends_on"
