"""The package uses no private module or attribute of the HTTP libraries under it.

Every module is parsed (nothing is executed): an import of a module of httpx, httpx2,
httpcore, httpcore2 or aiohttp whose dotted name has a part starting with ``_`` fails,
and so does an assignment to an ``_attribute`` of any object but the module's own
instances (``self``/``cls``): writing into another library's object is what tied the
SDK to one httpx release.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ecartpay_async

ROOT = Path(ecartpay_async.__file__).parent
LIBRARIES = ("httpx", "httpx2", "httpcore", "httpcore2", "aiohttp")


def _private_imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] in LIBRARIES and any(p.startswith("_") for p in parts[1:]):
                found.append(name)
    return found


def _own_attributes(tree: ast.AST) -> set[str]:
    """The attributes the module's own classes set on ``self``."""
    return {
        node.attr for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name) and node.value.id == "self"
    }


def _private_writes(tree: ast.AST) -> list[str]:
    found = []
    own = _own_attributes(tree)
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if (
                    isinstance(sub, ast.Attribute)
                    and sub.attr.startswith("_")
                    and not sub.attr.startswith("__")
                    and sub.attr not in own
                ):
                    found.append(f"{ast.unparse(sub)} (line {sub.lineno})")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
            node.func.id == "setattr" and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("_")
        ):
            found.append(f"setattr(..., {node.args[1].value!r}) (line {node.lineno})")
    return found


def test_the_scan_sees_what_it_forbids() -> None:
    sample = ast.parse(
        "from httpx._utils import URLPattern\nimport aiohttp._http_writer\n"
        "response._content = b''\nself._mine = 1\nother._mine = 2\nsetattr(r, '_x', 1)\n"
    )
    assert _private_imports(sample) == [
        "httpx._utils", "httpx._utils.URLPattern", "aiohttp._http_writer"
    ]
    assert _private_writes(sample) == ["response._content (line 3)", "setattr(..., '_x') (line 6)"]


def test_no_private_import_or_attribute_write_in_the_package() -> None:
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = path.relative_to(ROOT)
        problems += [f"{relative}: imports {name}" for name in _private_imports(tree)]
        problems += [f"{relative}: writes {name}" for name in _private_writes(tree)]
    assert problems == []
