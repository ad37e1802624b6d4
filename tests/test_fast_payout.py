"""The fast path for the usual payout answer reads exactly what the converter reads."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from client_fakes import load_data, payout_json

from ecartpay_async import _json
from ecartpay_async._convert import ShapeError, structure, structure_payout
from ecartpay_async.models.payouts import Payout


def _payout_answers() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if {"id", "status", "amount", "currency"} <= node.keys():
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for name in ("openapi_payout_examples.json", "payouts_md_examples.json",
                 "payout_exact_decimals.json"):
        # Read as the pipeline reads answers: numbers with a fraction as Decimal.
        walk(_json.loads(_json.dumps(load_data(name))))
    return found


VARIANTS: list[dict[str, Any]] = [
    payout_json(),
    payout_json(status="on_hold_for_review"),  # a status the SDK does not know
    payout_json(fee=None, exchange=None, reference_id=None, available_at=None),
    payout_json(amount=1250, fee=0),  # integers
    payout_json(new_field={"x": 1}, other=None),  # unknown keys, kept in extra
    payout_json(amount="1250.50"),  # text amount: the converter's rules
    payout_json(id=12345),  # a number for a text field
    payout_json(require_confirmation=1),
    payout_json(created_at="2021-11-29T20:49:23"),  # naive: read as UTC
    payout_json(transactions=[{"id": "t1", "type": "charge", "amount": Decimal("1.5")}]),
]


@pytest.mark.parametrize("answer", _payout_answers() + VARIANTS)
def test_the_fast_path_equals_the_converter(answer: dict[str, Any]) -> None:
    expected = structure(copy.deepcopy(answer), Payout)
    got = structure_payout(copy.deepcopy(answer), Payout)
    assert got == expected
    assert got.extra == expected.extra
    assert type(got.status) is type(expected.status)


@pytest.mark.parametrize("answer", [
    {"status": "paid", "amount": 1, "currency": "MXN"},  # no id
    payout_json(amount="ten"),
    payout_json(created_at="yesterday"),
    payout_json(amount=Decimal("NaN")),
    [payout_json()],
])
def test_the_fast_path_refuses_as_the_converter_does(answer: Any) -> None:
    with pytest.raises((ShapeError, ValueError)) as fast:
        structure_payout(copy.deepcopy(answer), Payout)
    with pytest.raises((ShapeError, ValueError)) as slow:
        structure(copy.deepcopy(answer), Payout)
    assert type(fast.value) is type(slow.value)
    assert str(fast.value) == str(slow.value)


@pytest.mark.parametrize("body", [
    {"amount": Decimal("1250.50"), "currency": "MXN", "email": "ana@example.com",
     "reference_id": "r-1", "require_confirmation": False},
    {"amount": Decimal("1E+2"), "note": "exponent: the stdlib path"},
    {"amount": Decimal("0.0000001"), "x": None, "n": 3},
    {"amount": Decimal("-0"), "text": "tab\t quote\" slash\\ \u00fc \u20ac \u2028 \x01 \x7f"},
    {"nested": {"amount": Decimal("1.5")}, "list": [1, Decimal("2.50")]},
])
def test_the_fast_encoder_writes_what_the_json_module_writes(body: dict[str, Any]) -> None:
    from ecartpay_async._http import _encoder

    assert _encoder()(body) == _json.dumps(body)


@pytest.mark.parametrize("body", [{"amount": 1.5}, {"amount": Decimal("NaN")}])
def test_the_fast_encoder_refuses_what_the_json_module_refuses(body: dict[str, Any]) -> None:
    from ecartpay_async._http import _encoder

    with pytest.raises((TypeError, ValueError)) as fast:
        _encoder()(body)
    with pytest.raises((TypeError, ValueError)) as slow:
        _json.dumps(body)
    assert type(fast.value) is type(slow.value)
