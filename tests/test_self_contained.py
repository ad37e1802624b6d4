"""The suite runs from a fresh clone alone: no test reads a folder beside the repository."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _climbs_out(tree: ast.AST) -> bool:
    """Whether the module joins ``".."`` onto a path (``path / ".."``)."""
    return any(
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
        and isinstance(node.right, ast.Constant) and node.right.value == ".."
        for node in ast.walk(tree)
    )


def test_no_test_reads_outside_the_repository() -> None:
    offenders = [
        str(path.relative_to(TESTS)) for path in sorted(TESTS.rglob("*.py"))
        if _climbs_out(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []


def test_the_reference_documents_the_tests_need_are_in_the_repository() -> None:
    reference = TESTS / "data" / "payouts" / "reference"
    assert (reference / "payouts.md").stat().st_size > 0
    assert (reference / "ecartpay-openapi-payouts.json").stat().st_size > 0
