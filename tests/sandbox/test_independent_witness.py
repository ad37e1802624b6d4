"""The sandbox is an independent witness: its rules come from the documents, not the SDK.

An SDK rule gone wrong must meet a sandbox that still refuses what the documents
refuse. Two guards: no sandbox module imports the SDK (an AST scan), and with an
SDK rule deliberately broken the sandbox, over real HTTP, still says no.
"""

from __future__ import annotations

import ast
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ecartpay_async.sandbox
from ecartpay_async import PayoutRequest
from ecartpay_async import money as sdk_money
from ecartpay_async.errors import APIStatusError
from ecartpay_async.models import common as sdk_common
from ecartpay_async.models import payouts as sdk_payouts
from ecartpay_async.sandbox import Sandbox

pytestmark = pytest.mark.end_to_end

SANDBOX = Path(ecartpay_async.sandbox.__file__).parent

# The sandbox's web stack and tools; everything else it imports is its own or stdlib.
THIRD_PARTY = {"anyio", "attrs", "click", "httpx", "pytest", "starlette", "uvicorn"}

# The one way out, and why: ``Sandbox.client()`` hands the user an SDK client aimed at
# the sandbox. It is the SDK calling in, not the sandbox judging: no request the
# sandbox validates goes through it. Imported lazily inside that method (or for types).
ALLOWED_SDK_IMPORTS = {("server.py", "ecartpay_async.client")}


def _imports(path: Path) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in one sandbox module."""
    package = ["ecartpay_async", "sandbox"]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # "from .. import _json" imports the module ecartpay_async._json.
            if not node.module:
                found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((module, node.lineno))
    return found


def test_no_sandbox_module_imports_the_sdk() -> None:
    modules = sorted(SANDBOX.glob("*.py"))
    assert len(modules) > 10
    outside = []
    for path in modules:
        for module, line in _imports(path):
            top = module.split(".")[0]
            if module.startswith("ecartpay_async."):
                if module.startswith("ecartpay_async.sandbox"):
                    continue
                if (path.name, module) not in ALLOWED_SDK_IMPORTS:
                    outside.append(f"{path.name}:{line} imports {module}")
            elif top == "ecartpay_async" or (
                top not in sys.stdlib_module_names and top not in THIRD_PARTY
            ):
                outside.append(f"{path.name}:{line} imports {module}")
    assert outside == []


def test_the_scan_sees_relative_and_absolute_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from .. import _json\nfrom ..money import check_amount\n"
        "import ecartpay_async.models.payouts\nfrom . import wire\nfrom .wire import dumps\n"
    )
    assert [m for m, _ in _imports(probe)] == [
        "ecartpay_async._json",
        "ecartpay_async.money",
        "ecartpay_async.models.payouts",
        "ecartpay_async.sandbox.wire",
        "ecartpay_async.sandbox.wire",
    ]


# -- the SDK broken on purpose, the sandbox unmoved ------------------------------------------


def _clp_with_cents(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setitem(sdk_money.MINOR_UNITS, "CLP", 2)
    return {"amount": Decimal("1500.50"), "currency": "CLP"}


def _no_amount_limit(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    def any_number(value: object, currency: str | None, **_: Any) -> Decimal:
        return Decimal(str(value))

    monkeypatch.setattr(sdk_payouts, "check_amount", any_number)
    return {"amount": Decimal("-25.00")}


def _zero_amount(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    _no_amount_limit(monkeypatch)
    return {"amount": Decimal("0.00")}


def _any_email(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(sdk_payouts, "check_email", lambda value, **_: value)
    return {"email": "ana.example.com"}


def _invisible_text(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(sdk_common, "visible_text_problem", lambda value: None)
    return {"reference_id": "payroll\r\n0001"}


def _zero_width_email(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(sdk_common, "visible_text_problem", lambda value: None)
    return {"email": "ana\u200b@example.com"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("break_the_sdk", "refusal"),
    [
        (_clp_with_cents, "CLP allows no decimals"),
        (_no_amount_limit, "amount: must be greater than 0"),
        (_zero_amount, "amount: must be greater than 0"),
        (_any_email, "is not a valid email address"),
        (_invisible_text, "reference_id contains the character U+000D"),
        (_zero_width_email, "email contains the character U+200B"),
    ],
)
async def test_the_sandbox_refuses_what_a_broken_sdk_sends(
    monkeypatch: pytest.MonkeyPatch, break_the_sdk: Any, refusal: str
) -> None:
    payout = {
        "email": "ana@example.com",
        "reference_id": "payroll-0001",
        "amount": Decimal("10.00"),
        "currency": "MXN",
        **break_the_sdk(monkeypatch),
    }
    request = PayoutRequest(**payout)  # the broken SDK lets it through...
    async with Sandbox(balances={"MXN": "1000.00", "CLP": "5000"}) as sandbox:
        async with sandbox.client(max_retries=0) as client:
            with pytest.raises(APIStatusError) as refused:  # ...the sandbox does not
                await client.payouts.send(request)
        assert sandbox.state.payouts() == []
    assert refused.value.status_code == 400
    assert refusal in refused.value.message


# -- the sandbox's own wire: read as strictly as a server would -------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("raw", "status", "words"),
    [
        (b'{"email": "ana@example.com", "reference_id": "r", "amount": 1, "amount": 1000,'
         b' "currency": "MXN"}', 400, "key 'amount' appears twice"),
        (b'{"email": "ana@example.com", "reference_id": "r", "amount": NaN, "currency": "MXN"}',
         400, "NaN is not a JSON number"),
        (b'{"email": "ana@example.com", "reference_id": "r", "amount": 10, "currency": "mxn"}',
         400, "unknown currency 'mxn'"),
        (b'{"email": "ana@example.com", "reference_id": "r\\u0000", "amount": 10,'
         b' "currency": "MXN"}', 400, "reference_id contains the character U+0000"),
        (b'{"email": "ana@example.com", "reference_id": "r", "amount": 1E+1, "currency": "MXN"}',
         200, '"amount":10.00'),
    ],
)
async def test_the_sandbox_reads_bodies_strictly(
    http: Any, auth: dict[str, str], raw: bytes, status: int, words: str
) -> None:
    response = await http.post("/api/payouts", content=raw, headers=auth)
    assert response.status_code == status, response.text
    assert words in response.text
