"""Reprs that never raise, for the sandbox's classes.

The same promise as the SDK's ``ecartpay_async._reprs`` (a half-built instance, as
debuggers and error trackers meet it, still has a repr), kept in the sandbox because
the sandbox imports nothing of the SDK (see :mod:`.validate`).
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def safe_repr(cls: T) -> T:
    """Class decorator (outermost): ``repr``/``str`` of a half-built instance answer
    ``<Name (incomplete)>`` instead of raising ``AttributeError``."""
    for name in ("__repr__", "__str__"):
        if name == "__repr__" or name in vars(cls):
            method = getattr(cls, name)

            @functools.wraps(method)
            def guarded(self: Any, method: Any = method) -> str:
                try:
                    return str(method(self))
                except AttributeError:
                    return f"<{type(self).__qualname__} (incomplete)>"

            setattr(cls, name, guarded)
    return cls
