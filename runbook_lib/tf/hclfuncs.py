"""Terraform's built-in functions that counter stacks use, on plain Python values (pure).

A function not listed here is "cannot evaluate" (hcleval says so); one listed behaves as
Terraform's for the values it accepts, and raises for the rest rather than guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from runbook_lib.tf.hclexpr import cannot


def text(value: Any, expr: str = "") -> str:
    """A value as a template interpolates it (Terraform's string conversion)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)):
        return str(value)
    raise cannot(expr, f"{type(value).__name__ if value is not None else 'null'} in a string")


def json_text(value: Any) -> str:
    """Terraform's jsonencode: compact, object keys sorted."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return value
    number = json.loads(str(value))
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise ValueError(f"{value!r} is not a number")
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError(f"{value!r} is not a bool")


def toset(values: Any) -> list[Any]:
    """A set as Terraform iterates it: unique, strings in lexical order."""
    if not isinstance(values, list):
        raise ValueError("toset needs a list")
    unique: dict[str, Any] = {}
    for v in values:
        unique.setdefault(json_text(v), v)
    return sorted(unique.values(), key=lambda v: (str(type(v)), json_text(v)))


def _replace(value: Any, old: Any, new: Any) -> str:
    old, new = text(old), text(new)
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):  # a regular expression
        return re.sub(old[1:-1], re.sub(r"\$\{?(\d+)\}?", r"\\\1", new), text(value))
    return text(value).replace(old, new)


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if not isinstance(mapping, dict):
        raise ValueError("lookup needs a map")
    if text(key) in mapping:
        return mapping[text(key)]
    if default:
        return default[0]
    raise KeyError(key)


def _merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise ValueError("merge needs maps")
        out.update(m)
    return out


def _flatten(values: Any) -> list[Any]:
    out: list[Any] = []
    for v in values:
        out += _flatten(v) if isinstance(v, list) else [v]
    return out


def _format(spec: Any, *args: Any) -> str:
    """format() with %s, %d, %v and %%, the verbs names are built with."""
    values = iter(args)

    def one(match: re.Match[str]) -> str:
        return "%" if match[0] == "%%" else text(next(values))

    return re.sub(r"%%|%[sdv]", one, text(spec))


def _length(value: Any) -> int:
    if isinstance(value, (list, dict, str)):
        return len(value)
    raise ValueError("length of a value with no length")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "replace": _replace,
    "lower": lambda s: text(s).lower(),
    "upper": lambda s: text(s).upper(),
    "trimspace": lambda s: text(s).strip(),
    "tostring": lambda v: text(v),
    "tonumber": _number,
    "tobool": _bool,
    "coalesce": lambda *a: next(v for v in a if v not in (None, "")),
    "toset": toset,
    "tolist": lambda v: list(v),
    "tomap": lambda v: dict(v),
    "length": _length,
    "keys": lambda m: sorted(m),
    "values": lambda m: [m[k] for k in sorted(m)],
    "merge": _merge,
    "concat": lambda *lists: [v for lst in lists for v in lst],
    "lookup": _lookup,
    "contains": lambda values, v: v in values,
    "join": lambda sep, values: text(sep).join(text(v) for v in values),
    "split": lambda sep, s: text(s).split(text(sep)),
    "format": _format,
    "jsonencode": json_text,
    "jsondecode": lambda s: json.loads(text(s)),
    "element": lambda values, i: values[int(_number(i)) % len(values)],
    "flatten": _flatten,
    "distinct": lambda values: list({json_text(v): v for v in values}.values()),
    "zipmap": lambda keys, values: dict(zip([text(k) for k in keys], values, strict=True)),
    "min": lambda *a: min(_number(v) for v in a),
    "max": lambda *a: max(_number(v) for v in a),
    "abs": lambda v: abs(_number(v)),
}
