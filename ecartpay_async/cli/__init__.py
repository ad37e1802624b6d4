"""The command line, ``ecartpay-async``: commands, the progress display, report writers.

It needs the ``cli`` extra (click, rich). Installed without it, the command prints one
line naming the extra to install and exits 2, instead of a traceback.
"""

from ._extra import is_missing_extra, needs_the_cli_extra

try:
    from . import confirm, forget, probe, reconcile  # noqa: F401 (they register commands)
    from .app import main
except ModuleNotFoundError as exc:
    if not is_missing_extra(exc):
        raise
    main = needs_the_cli_extra  # type: ignore[assignment]

__all__ = ["main"]
