"""The package's architecture rules (issue 12), read statically with ast: nothing is imported.

- every module at most MAX_MODULE_LINES lines, every function at most MAX_FUNCTION_LINES
  (def line to the last line of its body, docstring included);
- only runbook_lib/aws/ imports boto3 or botocore, calls a client the factory made (code
  above it may make one and hand it down) or reads a ClientError's `Error` itself;
  `from_client_error` is named only in aws/errors.py (the one mapping);
- layers (issue 18): `model` (the counter model) imports nothing of the project; formats/
  nothing from aws/, tf/ or anything above; aws/ and tf/ nothing from resolve/ (resolution)
  or above; resolve/ nothing from steps/ or above; steps/ nothing from the runner, the
  onboarding, the sandbox, the fleet or the CLI;
- no import cycle between runbook_lib modules, counting module-level AND function-level
  imports (a function-level import only hides a cycle until someone moves it up), and none
  between packages either (steps/<step>/ each a package of its own): two packages that
  import each other are one layer in two folders;
- steps/ holds only packages (one per runbook step) and its __init__.

One more test imports for real, in a fresh interpreter: `runbook_lib.formats` and every
module in it load no boto3 or botocore ("formats is pure" in practice, not only in the
import lines).

The package test reports every violation in one message, so one run shows the whole to-do
list. The checks themselves are tested on small packages written to tmp_path, so a check
that silently finds nothing fails here too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "runbook_lib"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
AWS_PACKAGE = f"{PACKAGE}.aws"
ERROR_MAPPING_MODULE = f"{PACKAGE}.aws.errors"
AWS_SDKS = ("boto3", "botocore")
# What sits above the steps: the runner, the onboarding, the sandbox, the fleet, the CLI.
_ABOVE_STEPS = ("notebook", "onboarding", "sandbox", "fleet", "cli")
# folder (or module) -> folders and modules it must not import from
FORBIDDEN_LAYERS = {
    "formats": ("aws", "tf", "resolve", "steps", *_ABOVE_STEPS),
    "aws": ("tf", "resolve", "steps", *_ABOVE_STEPS),
    "tf": ("aws", "resolve", "steps", *_ABOVE_STEPS),
    "resolve": ("steps", *_ABOVE_STEPS),
    "steps": _ABOVE_STEPS,
}
# The bottom layer: it imports nothing of the project.
BOTTOM_MODULE = f"{PACKAGE}.model"
STEPS_PACKAGE = f"{PACKAGE}.steps"


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. runbook_lib.aws.counter (a package: its __init__)
    path: Path
    is_package: bool
    source: str
    tree: ast.Module


def load_package(parent: Path, package: str = PACKAGE) -> dict[str, Module]:
    """Every module of parent/package, parsed, by dotted name."""
    modules = {}
    for path in sorted((parent / package).rglob("*.py")):
        parts = list(path.relative_to(parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        source = path.read_text(encoding="utf-8")
        name = ".".join(parts)
        modules[name] = Module(name, path, is_package, source, ast.parse(source, str(path)))
    return modules


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _base_of(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports_of(module: Module, modules: dict[str, Module]) -> list[tuple[int, str]]:
    """(line, imported module) for every import statement anywhere in the module.
    `from pkg import name` is pkg.name when that is a module of ours, else pkg."""
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base_of(module, node)
            for alias in node.names:
                dotted = f"{base}.{alias.name}"
                found.append((node.lineno, dotted if dotted in modules else base))
    return found


def module_size_violations(modules: dict[str, Module]) -> list[str]:
    return [
        f"{m.name}: {n} lines (max {MAX_MODULE_LINES})"
        for m in modules.values()
        if (n := len(m.source.splitlines())) > MAX_MODULE_LINES
    ]


def _functions(node: ast.AST, prefix: str = "") -> list[tuple[str, ast.AST]]:
    """(qualified name, node) of every function and method, nested ones included."""
    found = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append((prefix + child.name, child))
            found += _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            found += _functions(child, f"{prefix}{child.name}.")
        else:
            found += _functions(child, prefix)
    return found


def function_size_violations(modules: dict[str, Module]) -> list[str]:
    found = []
    for m in modules.values():
        for qualname, fn in _functions(m.tree):
            length = fn.end_lineno - fn.lineno + 1  # the def line, not its decorators
            if length > MAX_FUNCTION_LINES:
                found.append(f"{m.name}.{qualname} (line {fn.lineno}): {length} lines")
    return found


def _reads_error_code(node: ast.AST) -> bool:
    """`<x>.response["Error"]` or `<x>.response.get("Error")`: a ClientError read by hand."""
    if isinstance(node, ast.Subscript):
        target, key = node.value, node.slice
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
    ):
        target, key = node.func.value, node.args[0]
    else:
        return False
    return (
        isinstance(target, ast.Attribute)
        and target.attr == "response"
        and isinstance(key, ast.Constant)
        and key.value == "Error"
    )


def _names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    if isinstance(node, ast.alias):
        return {node.name.rpartition(".")[2], node.asname or ""}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    return set()


def _makes_client(node: ast.AST | None) -> bool:
    """`aws.client(...)` or `x or aws.client(...)`: the factory's client (the package's one
    idiom; a Jupyter `km.client()` is not AWS)."""
    if isinstance(node, ast.BoolOp):
        return any(_makes_client(v) for v in node.values)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "client"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "aws"
    )


def _client_calls(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, operation) of every call on a client the module made with the factory (a name
    assigned from it, or the factory's answer itself): an AWS call outside aws/."""
    clients = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and _makes_client(node.value)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    return [
        (node.lineno, node.func.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (
            (isinstance(node.func.value, ast.Name) and node.func.value.id in clients)
            or _makes_client(node.func.value)
        )
    ]


def aws_boundary_violations(modules: dict[str, Module]) -> list[str]:
    found = []
    for m in modules.values():
        if _in(m.name, AWS_PACKAGE):
            continue
        for line, target in imports_of(m, modules):
            if target.partition(".")[0] in AWS_SDKS:
                found.append(f"{m.name} (line {line}) imports {target}")
        for line, operation in _client_calls(m.tree):
            found.append(f"{m.name} (line {line}) calls an AWS client's {operation}")
        for node in ast.walk(m.tree):
            if _reads_error_code(node):
                found.append(f"{m.name} (line {node.lineno}) reads a ClientError's Error")
    for m in modules.values():
        if m.name == ERROR_MAPPING_MODULE:
            continue
        lines = sorted({n.lineno for n in ast.walk(m.tree) if "from_client_error" in _names(n)})
        if lines:
            found.append(f"{m.name} names from_client_error (lines {lines})")
    return found


def layer_violations(modules: dict[str, Module]) -> list[str]:
    found = []
    for m in modules.values():
        if _in(m.name, BOTTOM_MODULE):
            found += [
                f"{m.name} (line {line}) imports {target} (the model imports nothing of ours)"
                for line, target in imports_of(m, modules)
                if _in(target, PACKAGE)
            ]
        for layer, forbidden in FORBIDDEN_LAYERS.items():
            if not _in(m.name, f"{PACKAGE}.{layer}"):
                continue
            for line, target in imports_of(m, modules):
                if any(_in(target, f"{PACKAGE}.{f}") for f in forbidden):
                    found.append(f"{m.name} (line {line}) imports {target}")
    return found


def import_graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (at any level of the file)."""
    return {
        m.name: {t for _, t in imports_of(m, modules) if t in modules and t != m.name}
        for m in modules.values()
    }


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: the graph's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    components.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


def _cycle_through(start: str, members: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest import path start -> ... -> start inside one component (breadth first)."""
    paths = {child: [start, child] for child in sorted(graph[start] & members)}
    queue = list(paths)
    while queue:
        node = queue.pop(0)
        if node == start:
            return paths[node]
        for child in sorted(graph[node] & members):
            if child not in paths:
                paths[child] = paths[node] + [child]
                queue.append(child)
    return [start]


def cycle_violations(modules: dict[str, Module]) -> list[str]:
    graph = import_graph(modules)
    found = []
    for component in _strongly_connected(graph):
        if len(component) > 1:
            cycle = _cycle_through(component[0], set(component), graph)
            found.append(
                f"{' -> '.join(cycle)} (component of {len(component)}: {', '.join(component)})"
            )
    return found


def package_of(module: Module) -> str:
    """The package a module belongs to: its folder (a package's __init__ is the package);
    a module at the top of runbook_lib is a package of its own."""
    if module.is_package:
        return module.name
    parent = module.name.rpartition(".")[0]
    return module.name if parent == PACKAGE else parent


def package_cycle_violations(modules: dict[str, Module]) -> list[str]:
    """Cycles between packages: aws -> resolve -> aws is a loop even when no two modules
    import each other."""
    graph: dict[str, set[str]] = {}
    for m in modules.values():
        edges = graph.setdefault(package_of(m), set())
        for _, target in imports_of(m, modules):
            if target in modules and package_of(modules[target]) != package_of(m):
                edges.add(package_of(modules[target]))
    found = []
    for component in _strongly_connected(graph):
        if len(component) > 1:
            cycle = _cycle_through(component[0], set(component), graph)
            found.append(f"{' -> '.join(cycle)} (packages: {', '.join(component)})")
    return found


def steps_layout_violations(modules: dict[str, Module]) -> list[str]:
    """steps/ holds one package per runbook step and its own __init__, no loose modules."""
    return [
        f"{m.name}: a module loose in steps/ (put it in its step's package)"
        for m in modules.values()
        if not m.is_package and m.name.rpartition(".")[0] == STEPS_PACKAGE
    ]


RULES = {
    f"modules over {MAX_MODULE_LINES} lines": module_size_violations,
    f"functions over {MAX_FUNCTION_LINES} lines": function_size_violations,
    "AWS SDK, AWS calls or ClientError outside runbook_lib/aws/": aws_boundary_violations,
    "imports against the layers": layer_violations,
    "import cycles": cycle_violations,
    "import cycles between packages": package_cycle_violations,
    "steps/ layout": steps_layout_violations,
}


def all_violations(modules: dict[str, Module]) -> list[str]:
    report = []
    for rule, check in RULES.items():
        found = check(modules)
        if found:
            report.append(f"{rule} ({len(found)}):")
            report += [f"  {v}" for v in found]
    return report


def test_the_package_meets_the_architecture_rules():
    modules = load_package(ROOT)
    assert len(modules) > 30, "the package was not found"
    report = all_violations(modules)
    count = sum(1 for line in report if line.startswith("  "))
    assert not report, f"{count} architecture violations:\n" + "\n".join(report)


# ---- the checks find what they are meant to find ---------------------------------------------


def write_package(tmp_path: Path, files: dict[str, str]) -> dict[str, Module]:
    for rel, text in files.items():
        path = tmp_path / PACKAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {(tmp_path / PACKAGE / rel).parent for rel in files}:
        (folder / "__init__.py").touch()
    return load_package(tmp_path)


def test_a_long_module_and_a_long_function_are_found(tmp_path: Path):
    long_body = "".join(f"        x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    fitting_body = "".join(f"    y{i} = {i}\n" for i in range(MAX_FUNCTION_LINES - 1))
    modules = write_package(
        tmp_path,
        {
            "big.py": "\n" * (MAX_MODULE_LINES + 1),
            "ok.py": "\n" * MAX_MODULE_LINES,
            "fns.py": f"class C:\n    def long(self):\n{long_body}\ndef fits():\n{fitting_body}",
        },
    )
    assert module_size_violations(modules) == [f"{PACKAGE}.big: 301 lines (max 300)"]
    assert function_size_violations(modules) == [f"{PACKAGE}.fns.C.long (line 2): 61 lines"]


def test_the_aws_sdk_and_client_error_reads_outside_aws_are_found(tmp_path: Path):
    modules = write_package(
        tmp_path,
        {
            "aws/errors.py": "import botocore\ndef from_client_error(e): ...\n",
            "aws/counter.py": "import boto3\ncode = e.response['Error']['Code']\n",
            "steps/status.py": "def f():\n    from botocore.exceptions import ClientError\n",
            "steps/setcount.py": "from runbook_lib.aws.errors import from_client_error\n",
            "tf/terraform.py": "code = exc.response.get('Error', {})\n",
            "steps/history.py": "cw = c or aws.client('cloudwatch')\nf(cw)\ncw.get_metric_data()\n",
            "notebook/kernel.py": "client = km.client()\nclient.execute('1')\n",
            "steps/export.py": "n = aws.client('dynamodb').scan()\n",
        },
    )
    assert sorted(aws_boundary_violations(modules)) == [
        f"{PACKAGE}.steps.export (line 1) calls an AWS client's scan",
        f"{PACKAGE}.steps.history (line 3) calls an AWS client's get_metric_data",
        f"{PACKAGE}.steps.setcount names from_client_error (lines [1])",
        f"{PACKAGE}.steps.status (line 2) imports botocore.exceptions",
        f"{PACKAGE}.tf.terraform (line 1) reads a ClientError's Error",
    ]


def test_imports_against_the_layers_are_found(tmp_path: Path):
    modules = write_package(
        tmp_path,
        {
            "model.py": "import dataclasses\nfrom runbook_lib.errors import E\n",
            "errors.py": "",
            "formats/itemfile.py": "from runbook_lib import aws\n",
            "formats/count.py": "from runbook_lib.tf import plan\nfrom runbook_lib import model\n",
            "tf/plan.py": "def f():\n    from runbook_lib.steps import migrate\n",
            "tf/env.py": "from runbook_lib.resolve import resolve_target\n",
            "aws/counter.py": "from runbook_lib.resolve import sources\n",
            "resolve/__init__.py": "from runbook_lib.tf import plan\nfrom runbook_lib import aws\n",
            "resolve/sources.py": "from runbook_lib.steps.init import run\n",
            "steps/migrate.py": "from runbook_lib.formats import itemfile\n",
            "steps/init/__init__.py": "from runbook_lib.notebook import results\n",
            "aws/__init__.py": "",
        },
    )
    assert sorted(layer_violations(modules)) == [
        f"{PACKAGE}.aws.counter (line 1) imports {PACKAGE}.resolve.sources",
        f"{PACKAGE}.formats.count (line 1) imports {PACKAGE}.tf.plan",
        f"{PACKAGE}.formats.itemfile (line 1) imports {PACKAGE}.aws",
        f"{PACKAGE}.model (line 2) imports {PACKAGE}.errors (the model imports nothing of ours)",
        f"{PACKAGE}.resolve.sources (line 1) imports {PACKAGE}.steps.init",
        f"{PACKAGE}.steps.init (line 1) imports {PACKAGE}.notebook",
        f"{PACKAGE}.tf.env (line 1) imports {PACKAGE}.resolve",
        f"{PACKAGE}.tf.plan (line 2) imports {PACKAGE}.steps.migrate",
    ]


def test_a_cycle_between_packages_is_found_though_no_two_modules_form_one(tmp_path: Path):
    """aws -> resolve -> aws through four different modules: no module cycle, a package one."""
    modules = write_package(
        tmp_path,
        {
            "aws/counter.py": "from runbook_lib.resolve import model\n",
            "aws/clients.py": "",
            "resolve/model.py": "",
            "resolve/build.py": "from runbook_lib.aws import clients\n",
            "steps/init/__init__.py": "from runbook_lib.steps.backup import item\n",
            "steps/backup/item.py": "from runbook_lib.steps.common import confirm\n",
            "steps/common/confirm.py": "",
            "cli.py": "from runbook_lib.steps import init\n",
        },
    )
    assert cycle_violations(modules) == []
    assert package_cycle_violations(modules) == [
        f"{PACKAGE}.aws -> {PACKAGE}.resolve -> {PACKAGE}.aws"
        f" (packages: {PACKAGE}.aws, {PACKAGE}.resolve)"
    ]


def test_a_module_loose_in_steps_is_found(tmp_path: Path):
    modules = write_package(
        tmp_path,
        {
            "steps/status.py": "",
            "steps/backup/itembackup.py": "",
            "steps/init/__init__.py": "",
        },
    )
    assert steps_layout_violations(modules) == [
        f"{PACKAGE}.steps.status: a module loose in steps/ (put it in its step's package)"
    ]


def loaded_after_importing(modules: list[str], libraries: tuple[str, ...]) -> list[str]:
    """Which of `libraries` (top-level names) are loaded once `modules` are imported, in a
    fresh interpreter: what the package really pulls in, not what its import lines say."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in {libraries!r})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return out.stdout.split()


def test_the_status_step_loads_no_pandas():
    """02_status is what a scheduler runs every morning: its step package must not drag in
    06's pandas frames or the plots. A step's entry lives in its package's __init__, so a
    step that imported a module of another step's package would load that whole step; the
    shared reset detector has a light package of its own (steps/reset/) for this reason."""
    loaded = loaded_after_importing([f"{PACKAGE}.steps.status"], ("pandas", "matplotlib"))
    assert loaded == [], f"steps.status loads: {loaded[:5]}"


def test_importing_formats_loads_no_aws_sdk():
    """For real, in a fresh interpreter: every module of formats/ imported, then boto3 and
    botocore must still be absent. A module of formats/ that imported the model's old home
    (resolution, which makes sessions) loaded boto3 and twenty modules with it."""
    names = sorted(m.name for m in load_package(ROOT).values() if _in(m.name, f"{PACKAGE}.formats"))
    assert len(names) > 5
    loaded = loaded_after_importing(names, ("boto3", "botocore"))
    assert loaded == [], f"formats/ loads the AWS SDK: {loaded[:5]}"


def test_the_fresh_interpreter_check_sees_what_is_loaded():
    # the check itself: an import that does load the library is reported
    assert "json.decoder" in loaded_after_importing(["json"], ("json",))


def test_an_import_cycle_hidden_in_a_function_is_found(tmp_path: Path):
    modules = write_package(
        tmp_path,
        {
            "a.py": "from runbook_lib.sub import b\n",
            "sub/b.py": "from . import c\n",
            "sub/c.py": "def late():\n    import runbook_lib.a\n",
            "d.py": "from runbook_lib.sub import c\n",  # into the cycle, not part of it
        },
    )
    assert cycle_violations(modules) == [
        f"{PACKAGE}.a -> {PACKAGE}.sub.b -> {PACKAGE}.sub.c -> {PACKAGE}.a"
        f" (component of 3: {PACKAGE}.a, {PACKAGE}.sub.b, {PACKAGE}.sub.c)"
    ]
