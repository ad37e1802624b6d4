"""The command line, ``ecartpay-async``: commands, the progress display, report writers."""

from . import confirm, reconcile  # noqa: F401 (they register their commands)
from .app import main

__all__ = ["main"]
