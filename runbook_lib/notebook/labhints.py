"""Hints and commands in a notebook's terms (issue 20): the runbook's texts say what to do
as `runbook run NB -p NAME VALUE` command lines; someone in JupyterLab has a parameters cell
in front of them instead. `for_notebook` rewrites the command-line forms the package writes
(see tests/unit/test_labmessages.py for every shape) and leaves anything else as it is.

Pure: no IPython here. `labmessages` decides when to use it (in a notebook, not headless).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, NamedTuple

CELL = "the parameters cell"

# One shell word as shlex.join writes it: bare characters, '...' and "..." parts.
_WORD = r"""(?:[^\s'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+"""
# Where a command-line form may start: a `runbook run`, or a bare -p. Not inside a word, a
# path or `code` quotes (those are left as they are).
_START = re.compile(r"(?<![\w/`-])(?:runbook[ \t]+run(?=[ \t])|(?:-p|--param)(?=[ \t]))")
_PARAM = re.compile(rf"(?:-p|--param)[ \t]+(?P<name>[A-Za-z_]\w*)[ \t]+(?P<value>{_WORD})")
_NEXT_PARAM = re.compile(r"[ \t]+(?=(?:-p|--param)[ \t])")
_NOTEBOOK = re.compile(rf"[ \t]+(?P<nb>{_WORD})")
_NOTEBOOK_NAME = re.compile(r"[A-Za-z0-9][\w.-]*")
# After a command: a flag (--out, --no-code), a line continuation or a shell operator has
# no parameters-cell equivalent, so the whole command is left as it is.
_NOT_UNDERSTOOD = re.compile(r"[ \t]+(?:-|\\|&&|\|\||\||>|<(?!\w))")
# Lead-ins meaning "run it with these parameters": they become "set ... and run all".
_LEAD = re.compile(r"(?<![\w-])(?P<verb>[Pp]ass|re-run with|run again with)[ \t]+$")
_COLON_LEAD = re.compile(r":[ \t]+$")
# What follows a parameter and belongs before "in the parameters cell": a parenthesis, and
# alternatives to its value ("removed (the default), state_rm or ignore_changes").
_TAIL = re.compile(
    r"(?P<paren>[ \t]+\([^()\n]*\))?"
    r"(?P<alts>(?:,[ \t]+[\w-]+)+[ \t]+or[ \t]+[\w-]+(?=[.;]?(?:\s|$)))?"
)
# "-p reset_time as UTC ISO 8601": the word after the name is prose, not the value.
_PROSE = {"as", "with", "to", "or", "and"}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*|<[^<>]+>")  # N, NAME, DIR, <int>, <why>
_TRUE, _FALSE = {"true", "yes", "on"}, {"false", "no", "off"}


class Param(NamedTuple):
    name: str
    value: str | None  # None: only the name was given ("-p reset_time as ...")


def for_notebook(text: str, namespace: Mapping[str, Any], notebook: str | None = None) -> str:
    """`text` with its command-line forms in the parameters cell's terms: a whole
    `runbook run NB -p NAME VALUE ...` becomes "in the parameters cell set `NAME = VALUE`,
    ..., then run all" (or "open NB and ..." for another notebook), a bare `-p NAME VALUE`
    becomes `NAME = VALUE`, and "pass -p ..." becomes "set ... in the parameters cell and
    run all". Values are Python literals, typed from `namespace` (the kernel's user
    namespace). `notebook` is the current one; default: from JupyterLab's `__session__`.
    Anything not understood (other commands, `--` flags) is left as it is. Pure."""
    here = notebook or _session_notebook(namespace)
    out: list[str] = []
    done = pos = 0
    while match := _START.search(text, pos):
        start = match.start()
        if match.group().startswith("runbook"):
            command = _command_at(text, match.end())
            if command is None:  # skip the command whole: its -p are not hints
                newline = text.find("\n", start)
                pos = len(text) if newline < 0 else newline
                continue
            nb, params, end = command
            phrase = _command_phrase(nb, params, here, namespace)
            out += [text[done:start], _capitalised(phrase, "".join(out) + text[done:start])]
        else:
            parsed = _params_at(text, start)
            if parsed is None or not parsed[0]:
                pos = match.end()
                continue
            before, phrase, end = _bare_phrase(text, done, start, parsed, namespace)
            out += [before, phrase]
        done = pos = end
    out.append(text[done:])
    return "".join(out)


def _session_notebook(namespace: Mapping[str, Any]) -> str | None:
    """The notebook's name from `__session__` (ipykernel sets it from JupyterLab's
    JPY_SESSION_NAME, the notebook's path); None when the kernel does not know it."""
    session = namespace.get("__session__")
    if not isinstance(session, str) or not session.endswith(".ipynb"):
        return None
    return PurePath(session).stem


def _same_notebook(nb: str, here: str | None) -> bool:
    # a copy saved from JupyterLab ("03_set_count-Copy1") is still that notebook
    return here is not None and (here == nb or (here.startswith(nb) and here[len(nb)] in "-. "))


def _shell_word(raw: str, end: str = "prose") -> tuple[str, str] | None:
    """(value, the part of `raw` that is the word). `end` says whose its trailing ".", ",",
    ";", ":" and unmatched ")" are: "prose" (a hint's last word): the sentence's; "command"
    (a whole command's last word, as shlex.join wrote it): the value's, as "." "," ":" are
    safe in a bare shell word, unless ")" or ";" (never bare in shlex's output) shows they
    are prose; "value" (a word followed by another -p): the value's. None when `raw` is not
    one shell word."""
    quote = max(raw.rfind("'"), raw.rfind('"'))
    head, tail = raw[: quote + 1], raw[quote + 1 :]
    trailing = set(tail[len(tail.rstrip(".,;:)")) :])
    if end == "prose" or (end == "command" and trailing & {")", ";"}):
        while tail and tail[-1] in ".,;:)":
            if tail[-1] == ")" and (head + tail).count("(") >= (head + tail).count(")"):
                break  # "f(x)": its own parenthesis
            tail = tail[:-1]
    used = head + tail
    if not used:
        return None
    if not re.search(r"['\"\\]", used):
        return used, used
    try:
        words = shlex.split(used)
    except ValueError:
        return None
    return (words[0], used) if len(words) == 1 else None


def _params_at(text: str, i: int, last: str = "prose") -> tuple[list[Param], int] | None:
    """The -p sequence starting at i and where it ends; None when what follows it has no
    parameters-cell equivalent (a flag, a shell operator). `last`: how to read its last
    word's punctuation (`_shell_word`); a word followed by another -p is whole."""
    params: list[Param] = []
    end = i
    while match := _PARAM.match(text, i):
        name, raw = match["name"], match["value"]
        if raw in _PROSE:  # "-p reset_time as UTC ...": the name alone, and the sentence
            if not params:
                params, end = [Param(name, None)], match.end("name")
            break
        following = _NEXT_PARAM.match(text, match.end())
        word = _shell_word(raw, last if following is None else "value")
        if word is None:
            break
        params.append(Param(name, word[0]))
        end = match.start("value") + len(word[1])
        if following is None:
            break
        i = following.end()
    if _NOT_UNDERSTOOD.match(text, end):
        return None
    return params, end


def _command_at(text: str, i: int) -> tuple[str, list[Param], int] | None:
    """(notebook, parameters, end) of the `runbook run` whose name starts after i."""
    match = _NOTEBOOK.match(text, i)
    word = _shell_word(match["nb"]) if match else None
    if match is None or word is None or not _NOTEBOOK_NAME.fullmatch(word[0]):
        return None
    nb, end = word[0], match.start("nb") + len(word[1])
    params: list[Param] = []
    following = _NEXT_PARAM.match(text, end)
    if word[1] == match["nb"] and following is not None:
        parsed = _params_at(text, following.end(), "command")
        if parsed is None or not parsed[0] or any(p.value is None for p in parsed[0]):
            return None
        params, end = parsed
    if _NOT_UNDERSTOOD.match(text, end):
        return None
    return nb, params, end


def _command_phrase(
    nb: str, params: list[Param], here: str | None, namespace: Mapping[str, Any]
) -> str:
    sets = ", ".join(_assignment(p, namespace) for p in params)
    if _same_notebook(nb, here):
        return f"in {CELL} set {sets}, then run all" if params else "run all"
    if params:
        return f"open {nb} and in its parameters cell set {sets}, then run all"
    return f"open {nb} and run all"


def _bare_phrase(
    text: str, done: int, start: int, parsed: tuple[list[Param], int], ns: Mapping[str, Any]
) -> tuple[str, str, int]:
    """(text before, phrase, end) for a -p sequence not in a `runbook run`: after a lead-in
    ("pass", "re-run with", "To migrate:") the sentence becomes "set ... in the parameters
    cell and run all"; elsewhere ("e.g. -p key_value 0") the assignments alone."""
    params, end = parsed
    lead = _LEAD.search(text, done, start)
    before = text[done : lead.start()] if lead else text[done:start]
    if lead is None and not _COLON_LEAD.search(text, done, start):
        if params[0].value is None:
            return before, f"`{params[0].name}` ({CELL})", end
        return before, ", ".join(_assignment(p, ns) for p in params), end
    verb = "Set" if lead is not None and lead["verb"] == "Pass" else "set"
    if params[0].value is None:
        return before, f"{verb} `{params[0].name}` in {CELL}", end
    tail = _TAIL.match(text, end)
    assert tail is not None, "_TAIL always matches: both its parts are optional"
    sets = ", ".join(_assignment(p, ns) for p in params) + (tail["paren"] or "")
    end += len(tail["paren"] or "")
    if tail["alts"] and len(params) == 1:
        *others, last = re.split(r",[ \t]+|[ \t]+or[ \t]+", tail["alts"].lstrip(", \t"))
        sets += "".join(f", `{_literal(params[0].name, v, ns)}`" for v in others)
        sets += f" or `{_literal(params[0].name, last, ns)}`"
        end = tail.end()
    return before, f"{verb} {sets} in {CELL} and run all", end


def _capitalised(phrase: str, before: str) -> str:
    """A phrase that starts a sentence inside the text starts with a capital (a text's
    first word stays as written: hints follow "Next step:" in lower case)."""
    if before.rstrip(" \t").endswith(("\n", ".", "!", "?")):
        return phrase[:1].upper() + phrase[1:]
    return phrase


def _assignment(param: Param, namespace: Mapping[str, Any]) -> str:
    return f"`{param.name} = {_literal(param.name, param.value or '', namespace)}`"


def _literal(name: str, text: str, namespace: Mapping[str, Any]) -> str:
    """`text` as the Python literal to type into the parameters cell. The parameter's type
    decides (its current value, else its annotation: `new_value: "Optional[int]" = None`);
    unknown names go by the text: True/False/None, numbers and placeholders bare."""
    kind = _kind(name, namespace)
    if kind is str:
        return _quoted(text)
    if kind is bool and text.lower() in _TRUE | _FALSE:
        return str(text.lower() in _TRUE)
    if kind is not None:
        return text
    if text in ("True", "False", "None") or _NUMBER.fullmatch(text):
        return text
    return text if _PLACEHOLDER.fullmatch(text) else _quoted(text)


def _kind(name: str, namespace: Mapping[str, Any]) -> type | None:
    """str, bool, int or float: what the parameter holds; None when nothing says."""
    value = namespace.get(name)
    for kind in (bool, int, float, str):  # bool first: it is an int too
        if isinstance(value, kind):
            return kind
    annotations = namespace.get("__annotations__")
    annotation = annotations.get(name) if isinstance(annotations, Mapping) else None
    if isinstance(annotation, type) and annotation in (bool, int, float, str):
        return annotation
    if isinstance(annotation, str):
        for kind in (str, bool, int, float):
            if re.search(rf"\b{kind.__name__}\b", annotation):
                return kind
    return None


def _quoted(text: str) -> str:
    """A Python string literal in double quotes, as the parameters cells write them (JSON's
    escapes are Python's too: a line break in a value stays one literal)."""
    return json.dumps(text, ensure_ascii=False)
