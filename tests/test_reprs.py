"""Every class of the package has a repr that answers, even for a half-built instance.

Debuggers, error trackers and log lines ``repr()`` objects in any state: an
``__init__`` that raised half-way, or ``cls.__new__(cls)``. A repr that raises there
replaces the error being reported with an ``AttributeError``.
"""

from __future__ import annotations

import enum
import importlib
import inspect
from pathlib import Path

import pytest

import ecartpay_async
from ecartpay_async import PayoutRequest

# Modules that run something when imported (the command line's entry point).
_SKIPPED = {"ecartpay_async.__main__", "ecartpay_async.sandbox.__main__"}


def _classes() -> list[type]:
    found: dict[str, type] = {}
    root = Path(ecartpay_async.__file__).parent
    for path in sorted(root.rglob("*.py")):  # models/ is a namespace package: no pkgutil
        name = ".".join(("ecartpay_async", *path.relative_to(root).with_suffix("").parts))
        name = name.removesuffix(".__init__")
        if name in _SKIPPED:
            continue
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if (
                inspect.isclass(cls)
                and cls.__module__ == module.__name__
                and not issubclass(cls, enum.Enum)
                and not getattr(cls, "_is_protocol", False)
            ):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


CLASSES = _classes()


def test_the_walk_finds_the_package() -> None:
    names = {cls.__qualname__ for cls in CLASSES}
    assert {"PayoutRequest", "Payout", "AsyncClient", "SQLiteJournal", "Sandbox"} <= names
    assert len(CLASSES) > 80


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_half_built_instances_have_a_repr(cls: type) -> None:
    instance = cls.__new__(cls)
    assert isinstance(repr(instance), str)
    assert isinstance(str(instance), str)


def test_a_half_built_request_says_what_is_missing() -> None:
    half = PayoutRequest.__new__(PayoutRequest)
    assert repr(half).startswith("PayoutRequest(amount=<unset>, currency=<unset>")
    whole = PayoutRequest(email="ana@example.com", reference_id="r-1", amount=1, currency="MXN")
    assert repr(whole).startswith("PayoutRequest(amount=Decimal('1.00'), currency='MXN'")
