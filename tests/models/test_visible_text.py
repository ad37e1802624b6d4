"""Control and invisible characters are refused in every string a request carries.

``"payroll-1\\n"`` and ``"payroll-1"`` print alike and are two idempotency keys;
``"ana\\u200b@example.com"`` is not ana's address. The refusal names the field, the
character and its position (0-based); a CSV row or a batch row adds its number.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecartpay_async import OrderItem, OrderPayout, PayoutCharge, PayoutItem, PayoutRequest
from ecartpay_async.batch import BatchValidationError, CsvSource
from ecartpay_async.batch.validate import to_request
from ecartpay_async.errors import ValidationError
from ecartpay_async.models.common import visible_text_problem
from ecartpay_async.sandbox import Sandbox
from ecartpay_async.sandbox.validate import _unseen_character

PAYOUT: dict[str, Any] = {
    "email": "ana@example.com",
    "reference_id": "payroll-0001",
    "amount": Decimal("10.00"),
    "currency": "MXN",
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reference_id": "payroll\n0001"},
         "reference_id: contains a control character U+000A at position 7"),
        ({"reference_id": "payroll-0001\r\n"},
         "reference_id: contains a control character U+000D at position 12"),
        ({"reference_id": "pay\x00roll"},
         "reference_id: contains a control character U+0000 at position 3"),
        ({"reference_id": "pay\troll"},
         "reference_id: contains a control character U+0009 at position 3"),
        ({"reference_id": "payroll\u00a00001"},
         "reference_id: contains a space other than U+0020 U+00A0 (NO-BREAK SPACE) at position 7"),
        ({"reference_id": "payroll\u20280001"},
         "reference_id: contains a line separator U+2028 (LINE SEPARATOR) at position 7"),
        ({"reference_id": "payroll\u20290001"},
         "reference_id: contains a paragraph separator U+2029 (PARAGRAPH SEPARATOR) at position 7"),
        ({"reference_id": "\ufeffpayroll"}, "reference_id: contains an invisible formatting "
         "character U+FEFF (ZERO WIDTH NO-BREAK SPACE) at position 0"),
        ({"email": "ana\u200b@example.com"}, "email: contains an invisible formatting character "
         "U+200B (ZERO WIDTH SPACE) at position 3"),
        ({"email": "ana@exam\u202eple.com"}, "email: contains an invisible formatting character "
         "U+202E (RIGHT-TO-LEFT OVERRIDE) at position 8"),
        ({"email": None, "customer_id": "cus\x7f1", "payment_method_id": "pm_1"},
         "customer_id: contains a control character U+007F at position 3"),
        ({"email": None, "customer_id": "cus_1", "payment_method_id": "pm\u200d1"},
         "payment_method_id: contains an invisible formatting character U+200D"),
    ],
)
def test_payout_requests_refuse_unseen_characters(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        PayoutRequest(**{**PAYOUT, **changes})
    assert str(info.value).startswith(message)


def test_visible_text_of_any_script_is_welcome() -> None:
    request = PayoutRequest(**{**PAYOUT, "reference_id": "nómina José – 2026/11 🎉 給与"})
    assert request.reference_id == "nómina José – 2026/11 🎉 給与"
    assert PayoutRequest(**{**PAYOUT, "reference_id": "  padded  "}).reference_id == "padded"
    assert PayoutRequest(**{**PAYOUT, "email": "josé@ejemplo.mx"}).email == "josé@ejemplo.mx"


def test_every_request_model_refuses_them() -> None:
    cases = [
        (lambda: OrderItem("Collar\x1b[31m", 1, "5"), "name: contains a control character U+001B"),
        (lambda: OrderItem("Collar", 1, "5", code="Z3\u200b20"), "code: contains an invisible"),
        (lambda: OrderPayout("seller\u2060@example.com", 10), "email: contains an invisible"),
        (lambda: PayoutItem(name="Collar\n", quantity=1, price=5), "name: contains a control"),
        (lambda: PayoutCharge(name="Tarifa\u0085", amount=1), "name: contains a control"),
    ]
    for build, message in cases:
        with pytest.raises(ValidationError) as info:
            build()
        assert str(info.value).startswith(message)


@pytest.mark.anyio
async def test_a_batch_row_gets_the_same_message_with_its_number() -> None:
    with pytest.raises(ValidationError) as single:
        to_request({**PAYOUT, "reference_id": "payroll\r\n0002"})
    rows = [PAYOUT, {**PAYOUT, "reference_id": "payroll\r\n0002"}]
    async with Sandbox(in_process=True) as sandbox, sandbox.client() as client:
        with pytest.raises(BatchValidationError) as batch:
            await client.payouts.send_batch(rows)
    assert sandbox.state.payouts() == []
    (problem,) = batch.value.problems
    assert (problem.row, problem.field, problem.reason) == (2, "reference_id", single.value.reason)
    assert str(problem) == (
        "row 2: reference_id: contains a control character U+000D at position 7"
    )


def test_a_csv_row_gets_the_same_message_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "payroll.csv"
    path.write_text(
        "email,amount,currency,reference_id\n"
        "ana@example.com,10.00,MXN,payroll-0001\n"
        'bo\u200b@example.com,12.00,MXN,payroll-0002\n'
        'cy@example.com,14.00,MXN,"payroll\n0003"\n',
        encoding="utf-8",
    )
    with pytest.raises(BatchValidationError) as info:
        CsvSource(path).validate()
    found = [(p.line, p.field, p.reason) for p in info.value.problems]
    assert found == [
        (3, "email", "contains an invisible formatting character U+200B (ZERO WIDTH SPACE) "
         "at position 2"),
        (5, "reference_id", "contains a control character U+000A at position 7"),
    ]


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_the_sdk_and_the_sandbox_agree_on_every_string(text: str) -> None:
    """Two independent implementations of one documented rule (the sandbox imports
    nothing of the SDK's): they must refuse exactly the same strings."""
    assert (visible_text_problem(text) is None) == (_unseen_character(text) is None)
