"""What the command line needs from the ``cli`` extra, and the one line it says without it."""

from __future__ import annotations

import sys
from typing import Any, Final, NoReturn

__all__ = ["MISSING_EXTRA", "is_missing_extra", "needs_the_cli_extra"]

#: Top-level packages the ``cli`` extra installs.
_EXTRA_PACKAGES: Final = frozenset({"click", "rich"})

MISSING_EXTRA: Final = (
    'ecartpay-async: the command line needs the "cli" extra: pip install "ecartpay-async[cli]"'
)


def is_missing_extra(error: ImportError) -> bool:
    """Whether ``error`` is the import of a package of the ``cli`` extra failing."""
    return isinstance(error, ModuleNotFoundError) and (
        (error.name or "").partition(".")[0] in _EXTRA_PACKAGES
    )


def needs_the_cli_extra(*args: Any, **kwargs: Any) -> NoReturn:
    """The command without the extra: one line naming it, exit 2 (never a traceback)."""
    print(MISSING_EXTRA, file=sys.stderr)
    sys.exit(2)
