"""Reprs that never raise: one decorator for every class of the package.

Debuggers, error trackers and logging ``repr()`` objects in whatever state they are
in, including half-built ones (``PayoutRequest.__new__(PayoutRequest)``, or an
``__init__`` that raised before setting its fields). A repr that raises there hides
the error being reported behind an ``AttributeError``. :func:`safe_repr` keeps the
class's own repr and, when that fails on a missing attribute, answers with the
fields that are set and ``<unset>`` for the others (attrs classes) or with
``<Name (incomplete)>`` (hand-written reprs, which may hold more than fields and
must stay as careful about secrets as they were).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, TypeVar

import attrs

__all__ = ["safe_repr"]

T = TypeVar("T", bound=type)


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET: Final = _Unset()


def _fallback(obj: object) -> str:
    cls = type(obj)
    if not attrs.has(cls):
        return f"<{cls.__qualname__} (incomplete)>"
    shown = (
        f"{field.name}={getattr(obj, field.name, UNSET)!r}"
        for field in attrs.fields(cls)
        if field.repr is not False
    )
    return f"{cls.__qualname__}({', '.join(shown)})"


def _guarded(method: Callable[[Any], str]) -> Callable[[Any], str]:
    @functools.wraps(method)
    def guarded(self: Any) -> str:
        try:
            return method(self)
        except AttributeError:
            return _fallback(self)

    return guarded


def safe_repr(cls: T) -> T:
    """Class decorator (outermost, above ``@attrs.frozen``): ``repr`` and ``str`` of a
    half-built instance answer instead of raising."""
    for name in ("__repr__", "__str__"):
        if name == "__repr__" or name in vars(cls):  # str() falls back on repr()
            setattr(cls, name, _guarded(getattr(cls, name)))
    return cls
