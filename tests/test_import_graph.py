"""Imports point only downward, and never in a circle.

Every module of the package is parsed (no import is executed); every ``import`` and
``from ... import`` statement counts, at module level or inside a function, except
those under ``if TYPE_CHECKING:`` (they are never executed). The graph must have no
cycle, and no module may import one from a higher layer of :data:`LAYERS`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ecartpay_async

PACKAGE = "ecartpay_async"
ROOT = Path(ecartpay_async.__file__).parent

#: Lowest first: a module may import from its own layer and the ones before it. A
#: name ending in "." covers a package and everything in it.
LAYERS: tuple[tuple[str, ...], ...] = (
    # foundations: no SDK imports but each other
    ("_version", "_reprs", "errors", "_json", "money", "_logging", "_options"),
    # what the API's objects are, and the one converter
    ("models.", "_convert", "splits", "webhooks."),
    # what makes two payouts the same payment; what each failure means
    ("rules",),
    # the request pipeline: pause gate, retry policy, token, transports
    ("_pause", "_retry", "_auth", "_http", "transport."),
    # thin typed methods per API resource
    ("resources.",),
    # batches: engine, per-row policy, journals, limits, CSV, report
    ("batch.",),
    # the client: configuration, lifetime, the resources it offers
    ("client", "telemetry"),
    # the emulator, which drives a client against itself
    ("sandbox.",),
    # the command line
    ("cli.", "__main__"),
    # the public names
    ("",),
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([PACKAGE, *parts])] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py" if name in MODULES else False


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of import nodes under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for inner in node.body:
                    skipped.update(id(n) for n in ast.walk(inner))
    return skipped


def _imports(name: str) -> set[str]:
    """The package's modules that module ``name`` imports when it runs."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = name if _is_package(name) else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names if a.name.startswith(PACKAGE))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith(PACKAGE):
                continue
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                targets.add(submodule if submodule in MODULES else module)
    return {t for t in targets if t in MODULES and t != name}


GRAPH = {name: _imports(name) for name in MODULES}


def layer_of(name: str) -> int:
    short = name[len(PACKAGE) + 1:] if name != PACKAGE else ""
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if prefix == "" and short == "":
                return index
            if prefix and (short == prefix.rstrip(".") or (
                prefix.endswith(".") and short.startswith(prefix)
            )):
                return index
    raise AssertionError(f"{name} has no layer: add it to LAYERS in {__file__}")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_parser_sees_function_level_and_relative_imports() -> None:
    # client.payouts.batch loads the engine inside a method: the graph must see it.
    assert f"{PACKAGE}.batch.engine" in GRAPH[f"{PACKAGE}.batch.payouts"]
    assert f"{PACKAGE}.rules" in GRAPH[f"{PACKAGE}.resources.payouts"]
    assert f"{PACKAGE}._json" in GRAPH[f"{PACKAGE}._http"]  # `from . import _json`


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        layer_of(name)


def test_no_import_cycle() -> None:
    cycles = _cycles(GRAPH)
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_imports_point_only_downward() -> None:
    upward = [
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in sorted(GRAPH.items())
        for target in sorted(targets)
        if layer_of(target) > layer_of(name)
    ]
    assert upward == [], "\n".join(upward)
