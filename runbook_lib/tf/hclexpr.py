"""HCL expressions, as python-hcl2 hands them over ("${var.x}", templates, heredocs), parsed
and evaluated outside Terraform: the subset a counter's stack uses for its table, its item,
its provider's region and its `count` / `for_each` (references, each.*, count.index,
literals, lists, objects, `for` expressions, conditionals, comparisons and the common
functions, see hclfuncs). Anything else raises TerraformError naming the expression, so
callers say "cannot evaluate" instead of guessing (pure).
"""

from __future__ import annotations

import re
from typing import Any

from runbook_lib.errors import TerraformError

Node = tuple[Any, ...]
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][\w-]*)"
    r"|(?P<op>=>|==|!=|<=|>=|&&|\|\||\.\.\.|[-+*/%!<>?:=,.()\[\]{}])|(?P<quote>\"))"
)
_BINARY = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]


def cannot(expr: str, why: str = "") -> TerraformError:
    suffix = f" ({why})" if why else ""
    return TerraformError(
        f"Cannot evaluate the Terraform expression {expr!r} outside Terraform{suffix}."
    )


# --------------------------------------------------------------------------- templates


def template(text: str) -> Node:
    """A string as HCL reads it: literal text and ${...} interpolations ($${ escapes)."""
    parts: list[Any] = []
    i, buf = 0, ""
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            buf, i = buf + text[i + 1 : i + 3], i + 3
        elif text.startswith("%{", i):
            raise cannot(text, "template directives are not supported")
        elif text.startswith("${", i):
            end = _closing(text, i + 2)
            parts += [buf] if buf else []
            parts.append(Parser(text[i + 2 : end]).whole())
            buf, i = "", end + 1
        else:
            buf, i = buf + text[i], i + 1
    parts += [buf] if buf else []
    return ("tmpl", parts)


def _closing(text: str, i: int) -> int:
    """The index of the `}` that closes an interpolation whose body starts at i."""
    depth, quoted = 0, False
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
            elif text.startswith("${", i):
                i = _closing(text, i + 2)
        elif ch == '"':
            quoted = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise cannot(text, "an interpolation never closes")


def _string_end(text: str, i: int) -> int:
    """The index of the closing quote of a quoted string whose content starts at i."""
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i = _closing(text, i + 2) + 1 if text.startswith("${", i) else i + 1
    raise cannot(text, "a string never closes")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(raw: str) -> str:
    """A quoted string's escapes (\\n, \\", \\uXXXX) outside its interpolations."""
    return re.sub(
        r"\\(u[0-9a-fA-F]{4}|.)",
        lambda m: chr(int(m[1][1:], 16)) if len(m[1]) == 5 else _ESCAPES.get(m[1], m[1]),
        raw,
    )


# --------------------------------------------------------------------------- the parser


class Parser:
    """A recursive-descent parser of one expression into nested tuples."""

    def __init__(self, text: str) -> None:
        self.text, self.tokens, self.pos = text, self._lex(text), 0

    def _lex(self, text: str) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        i = 0
        while text[i:].strip():
            m = _TOKEN.match(text, i)
            if not m:
                raise cannot(self.text, f"unexpected {text[i:].strip()[:10]!r}")
            if m["quote"]:
                end = _string_end(text, m.end())
                out.append(("str", template(_unescape_outside(text[m.end() : end]))))
                i = end + 1
                continue
            kind = "num" if m["num"] else "name" if m["name"] else "op"
            out.append((kind, m[kind]))
            i = m.end()
        return out

    def peek(self, *ops: str) -> bool:
        tok = self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", None)
        return tok[0] in ("op", "name") and tok[1] in ops

    def take(self, op: str | None = None) -> tuple[str, Any]:
        if self.pos >= len(self.tokens) or (op is not None and not self.peek(op)):
            raise cannot(self.text, f"expected {op or 'more'}")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def whole(self) -> Node:
        node = self.expr()
        if self.pos != len(self.tokens):
            raise cannot(self.text, f"unexpected {self.tokens[self.pos][1]!r}")
        return node

    def expr(self) -> Node:
        cond = self.binary(0)
        if not self.peek("?"):
            return cond
        self.take("?")
        then = self.expr()
        self.take(":")
        return ("cond", cond, then, self.expr())

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek(*_BINARY[level]):
            op = self.take()[1]
            left = ("bin", op, left, self.binary(level + 1))
        return left

    def unary(self) -> Node:
        if self.peek("!", "-"):
            return ("unary", self.take()[1], self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while self.peek(".", "["):
            if self.take()[1] == ".":
                kind, value = self.take()
                if kind not in ("name", "num"):
                    raise cannot(self.text, "splat expressions are not supported")
                node = ("get", node, ("lit", int(value) if kind == "num" else value))
            else:
                if self.peek("*"):
                    raise cannot(self.text, "splat expressions are not supported")
                node = ("get", node, self.expr())
                self.take("]")
        return node

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            return ("lit", float(value) if re.search(r"[.eE]", value) else int(value))
        if kind == "str":
            return value
        if kind == "name":
            if value in ("true", "false", "null"):
                return ("lit", {"true": True, "false": False, "null": None}[value])
            if self.peek("("):
                return self.call(value)
            return ("ref", value)
        if value == "(":
            node = self.expr()
            self.take(")")
            return node
        if value == "[":
            return self.sequence("]")
        if value == "{":
            return self.sequence("}")
        raise cannot(self.text, f"unexpected {value!r}")

    def call(self, name: str) -> Node:
        self.take("(")
        args: list[Node] = []
        while not self.peek(")"):
            args.append(self.expr())
            if self.peek("..."):
                raise cannot(self.text, "argument expansion is not supported")
            if not self.peek(")"):
                self.take(",")
        self.take(")")
        return ("call", name, args)

    def sequence(self, close: str) -> Node:
        if self.peek("for"):
            return self.for_expr(close)
        entries: list[Any] = []
        while not self.peek(close):
            if close == "]":
                entries.append(self.expr())
            else:
                bare = self.pos + 1 < len(self.tokens) and self.tokens[self.pos][0] == "name"
                bare = bare and self.tokens[self.pos + 1][1] in ("=", ":")
                key = ("lit", self.take()[1]) if bare else self.expr()  # id = ...: a literal
                self.take("=" if self.peek("=") else ":")
                entries.append((key, self.expr()))
            if self.peek(","):
                self.take(",")
        self.take(close)
        return ("list", entries) if close == "]" else ("object", entries)

    def for_expr(self, close: str) -> Node:
        self.take("for")
        names = [self.take()[1]]
        if self.peek(","):
            self.take(",")
            names.append(self.take()[1])
        self.take("in")
        source = self.expr()
        self.take(":")
        key = None
        value = self.expr()
        if close == "}":
            self.take("=>")
            key, value = value, self.expr()
            if self.peek("..."):
                raise cannot(self.text, "grouping for expressions are not supported")
        cond = None
        if self.peek("if"):
            self.take("if")
            cond = self.expr()
        self.take(close)
        return ("for", names, source, key, value, cond)


def _unescape_outside(raw: str) -> str:
    """Escapes undone in a string's literal text only: its interpolations keep their own
    quotes and escapes for the parser."""
    out, buf, i = "", "", 0
    while i < len(raw):
        step = 2 if raw[i] == "\\" else 3 if raw.startswith(("$${", "%%{"), i) else 0
        if step:  # an escape, kept whole for _unescape and template
            buf, i = buf + raw[i : i + step], i + step
        elif raw.startswith("${", i):
            end = _closing(raw, i + 2)
            out, buf, i = out + _unescape(buf) + raw[i : end + 1], "", end + 1
        else:
            buf, i = buf + raw[i], i + 1
    return out + _unescape(buf)
