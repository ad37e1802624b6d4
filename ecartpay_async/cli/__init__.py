"""The command line, ``ecartpay-async``: commands, the progress display, report writers."""

from . import reconcile  # noqa: F401 (registers ``payouts reconcile``)
from .app import main

__all__ = ["main"]
