"""Evaluating what hclexpr parsed: variables, locals, each.key/each.value, count.index, loop
variables of `for` expressions, and references to the module's tables (through `refs`).
What Terraform would only know at apply time (data sources, other resources' computed
attributes) raises TerraformError, never a guess (pure).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.tf.hclexpr import Node, cannot, template
from runbook_lib.tf.hclfuncs import FUNCTIONS, text

MAX_DEPTH = 24  # locals referring to locals: deeper than this is a loop
Refs = Callable[[str, list[Any]], Any]


@dataclass(frozen=True)
class Env:
    """What an expression can see: the module's variables and locals, the instance's
    each/count, loop variables, and a resolver for resource references."""

    variables: Mapping[str, Any]
    locals: Mapping[str, Any]
    extra: Mapping[str, Any] = field(default_factory=dict)
    refs: Refs | None = None
    depth: int = 0


def is_meta(key: Any) -> bool:
    """python-hcl2's line markers (__start_line__, __end_line__), not the user's keys."""
    return isinstance(key, str) and key.startswith("__") and key.endswith("__")


def evaluate(value: Any, env: Env) -> Any:
    """A value as python-hcl2 gives it (strings holding ${...}, lists, dicts), evaluated."""
    if isinstance(value, str):
        return node_value(template(value), env, value)
    if isinstance(value, list):
        return [evaluate(v, env) for v in value]
    if isinstance(value, dict):
        return {k: evaluate(v, env) for k, v in value.items() if not is_meta(k)}
    return value


def node_value(node: Node, env: Env, expr: str) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "tmpl":
        parts = node[1]
        if len(parts) == 1 and not isinstance(parts[0], str):  # "${x}": x as it is
            return node_value(parts[0], env, expr)
        return "".join(
            p if isinstance(p, str) else text(node_value(p, env, expr), expr) for p in parts
        )
    if kind in ("ref", "get"):
        return _reference(node, env, expr)
    if kind == "list":
        return [node_value(n, env, expr) for n in node[1]]
    if kind == "object":
        return {text(node_value(k, env, expr), expr): node_value(v, env, expr) for k, v in node[1]}
    if kind == "cond":
        test = node_value(node[1], env, expr)
        if not isinstance(test, bool):
            raise cannot(expr, "a condition that is not true or false")
        return node_value(node[2] if test else node[3], env, expr)
    if kind == "unary":
        return _unary(node[1], node_value(node[2], env, expr), expr)
    if kind == "bin":
        return _binary(node[1], node[2], node[3], env, expr)
    if kind == "call":
        return _call(node[1], node[2], env, expr)
    if kind == "for":
        return _for(node, env, expr)
    raise cannot(expr)


def _chain(node: Node) -> tuple[str, list[Node]]:
    """`a.b["c"].d` as its root name and the keys after it."""
    keys: list[Node] = []
    while node[0] == "get":
        keys.insert(0, node[2])
        node = node[1]
    if node[0] != "ref":
        raise TypeError("not a reference")
    return node[1], keys


def _reference(node: Node, env: Env, expr: str) -> Any:
    try:
        root, key_nodes = _chain(node)
    except TypeError:  # (expr)[0], f(x).y: the head is a value
        root, key_nodes = "", []
    if not root:
        head, keys = node_value(node[1], env, expr), [node_value(node[2], env, expr)]
        return _walk(head, keys, expr)
    keys = [node_value(k, env, expr) for k in key_nodes]
    if root in env.extra and root not in ("each", "count"):  # a for expression's variable
        return _walk(env.extra[root], keys, expr)
    if root in ("var", "local", "each", "count") and not keys:
        raise cannot(expr, f"{root} alone is not a value")
    if root == "var":
        if keys[0] not in env.variables:
            raise TerraformError(f"Variable {keys[0]!r} is not declared.")
        return _walk(env.variables[keys[0]], keys[1:], expr)
    if root == "local":
        return _walk(_local(str(keys[0]), env, expr), keys[1:], expr)
    if root in ("each", "count"):
        if root not in env.extra:
            raise cannot(expr, f"{root}.* outside a resource with {root}")
        return _walk(env.extra[root], keys, expr)
    if env.refs is not None:
        return env.refs(root, keys)
    raise cannot(expr)


def _local(name: str, env: Env, expr: str) -> Any:
    if name not in env.locals:
        raise TerraformError(f"Local {name!r} is not defined.")
    if env.depth >= MAX_DEPTH:
        raise cannot(expr, "locals refer to each other in a loop")
    return evaluate(env.locals[name], replace(env, depth=env.depth + 1, extra={}))


def _walk(value: Any, keys: list[Any], expr: str) -> Any:
    for key in keys:
        try:
            if isinstance(value, list) and not isinstance(key, bool):
                value = value[int(key)]
            elif isinstance(value, dict):
                value = value[text(key, expr)]
            else:
                raise KeyError(key)
        except (KeyError, IndexError, ValueError):
            raise cannot(expr, f"no {key!r} in the value") from None
    return value


def _unary(op: str, value: Any, expr: str) -> Any:
    if op == "!" and isinstance(value, bool):
        return not value
    if op == "-" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return -value
    raise cannot(expr, f"{op} of {value!r}")


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}


def _binary(op: str, left: Node, right: Node, env: Env, expr: str) -> Any:
    a = node_value(left, env, expr)
    if op in ("&&", "||"):  # Terraform evaluates both sides; both must be booleans
        b = node_value(right, env, expr)
        if not (isinstance(a, bool) and isinstance(b, bool)):
            raise cannot(expr, f"{op} of non-booleans")
        return (a and b) if op == "&&" else (a or b)
    b = node_value(right, env, expr)
    if op in ("==", "!="):  # typed: "1" == 1 is false, 1 == 1.0 is true
        same = a == b and (type(a) is type(b) or _numbers(a, b))
        return same if op == "==" else not same
    if not _numbers(a, b):
        raise cannot(expr, f"{op} of {a!r} and {b!r}")
    try:
        out = _COMPARE[op](a, b)
    except ZeroDivisionError:
        raise cannot(expr, "division by zero") from None
    return int(out) if isinstance(out, float) and out.is_integer() and op != "/" else out


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _for(node: Node, env: Env, expr: str) -> Any:
    _, names, source, key_node, value_node, cond = node
    collection = node_value(source, env, expr)
    if isinstance(collection, dict):
        pairs = sorted(collection.items())
    elif isinstance(collection, list):
        pairs = list(enumerate(collection))
    else:
        raise cannot(expr, "a for expression over something that is no list or map")
    out_list: list[Any] = []
    out_map: dict[str, Any] = {}
    for k, v in pairs:
        bound = {names[0]: v} if len(names) == 1 else {names[0]: k, names[1]: v}
        inner = replace(env, extra={**env.extra, **bound})
        if cond is not None and node_value(cond, inner, expr) is not True:
            continue
        if key_node is None:
            out_list.append(node_value(value_node, inner, expr))
            continue
        key = text(node_value(key_node, inner, expr), expr)
        if key in out_map:
            raise cannot(expr, f"duplicate key {key!r}")
        out_map[key] = node_value(value_node, inner, expr)
    return out_list if key_node is None else out_map


def _call(name: str, args: list[Node], env: Env, expr: str) -> Any:
    if name in ("try", "can"):  # the first argument that evaluates; can: whether it does
        for arg in args:
            try:
                value = node_value(arg, env, expr)
            except TerraformError:
                continue
            return True if name == "can" else value
        if name == "can":
            return False
        raise cannot(expr, "no argument of try() could be evaluated")
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise cannot(expr, f"{name}() is not evaluated outside Terraform")
    values = [node_value(a, env, expr) for a in args]
    try:
        return fn(*values)
    except TerraformError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, StopIteration, ZeroDivisionError):
        raise cannot(expr, f"{name}() of these values") from None
